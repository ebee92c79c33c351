"""instancevg package."""
