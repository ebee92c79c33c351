"""Table specs (<name>.json): package data read by `leaderboards.specs`."""
