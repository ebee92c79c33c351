"""Table specs (<name>.json): package data read by `leaderboards.specs`."""

__all__: list[str] = []  # data files only, no Python API
