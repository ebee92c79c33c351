"""Leaderboards: the published numbers of the field, transcribed with provenance, rendered as the
papers' tables (Markdown, LaTeX, CSV, PNG), with computed results joined as reproduced rows.

>>> from leaderboards import check_published, render_table, render_results_table
>>> check_published()                                   # [] when the data is consistent
[]

See docs/leaderboards.md. Data: ``leaderboards/data/published.csv`` (one printed number per row) and
``bibliography.csv``; table specs: ``leaderboards/tables/<name>.json``.
"""

from leaderboards.api import (
    FORMATS,
    build_table,
    parse_formats,
    render_results_table,
    render_table,
    write_outputs,
)
from leaderboards.build import BuiltTable, Cell, Header, PlotData, Row, build_part, build_results_table
from leaderboards.check import check_published
from leaderboards.computed import ComputedResult, load_results, load_results_dir
from leaderboards.conflicts import Conflict, find_conflicts, load_aliases
from leaderboards.schema import (
    COLUMNS,
    DATASETS,
    METRICS,
    BibEntry,
    PublishedRow,
    load_bibliography,
    load_published,
)
from leaderboards.specs import Column, PartSpec, TableSpec, list_tables, load_spec

__all__ = [
    "COLUMNS",
    "DATASETS",
    "FORMATS",
    "METRICS",
    "BibEntry",
    "BuiltTable",
    "Cell",
    "Column",
    "ComputedResult",
    "Conflict",
    "Header",
    "PartSpec",
    "PlotData",
    "PublishedRow",
    "Row",
    "TableSpec",
    "build_part",
    "build_results_table",
    "build_table",
    "check_published",
    "find_conflicts",
    "list_tables",
    "load_aliases",
    "load_bibliography",
    "load_published",
    "load_results",
    "load_results_dir",
    "load_spec",
    "parse_formats",
    "render_results_table",
    "render_table",
    "write_outputs",
]
