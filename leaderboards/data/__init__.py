"""Published numbers (published.csv) and the bibliography (bibliography.csv): package data."""

__all__: list[str] = []  # data files only, no Python API
