"""Published numbers (published.csv) and the bibliography (bibliography.csv): package data."""
