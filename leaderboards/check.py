"""Validate the published-numbers CSV and the bibliography (`vgbench leaderboard --check`).

Checks: the header (schema), required fields, known sources / datasets / splits / metrics, values that
parse as plain decimal numbers, duplicate rows (same identity), paper keys present in the
bibliography, and bibliography keys that are unique and non-empty.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from leaderboards.schema import (
    BIB_COLUMNS,
    BIBLIOGRAPHY_CSV,
    COLUMNS,
    DATASET_FREE_METRICS,
    DATASETS,
    METRICS,
    PUBLISHED_CSV,
    SOURCES,
    SPLITS,
    _read_csv,
    load_published,
    parse_value,
)

__all__ = ["check_published"]


# C901: a flat list of independent per-field checks, each appending one problem line.
def check_published(  # noqa: C901
    path: str | Path | None = None, bibliography: str | Path | None = None
) -> list[str]:
    """Return every problem found, each as ``file:line: field: reason`` (empty list: all good).

    Raises `evaluators.errors.InputError` only when a file cannot be read or its header is wrong.
    """
    path = Path(path) if path is not None else PUBLISHED_CSV
    bib_path = Path(bibliography) if bibliography is not None else BIBLIOGRAPHY_CSV
    problems: list[str] = []

    bib_rows = _read_csv(bib_path, BIB_COLUMNS)
    counts = Counter(row["key"] for _, row in bib_rows)
    for line, row in bib_rows:
        if not row["key"]:
            problems.append(f"{bib_path}:{line}: key: empty")
        elif counts[row["key"]] > 1:
            problems.append(f"{bib_path}:{line}: key: duplicate key {row['key']!r}")
        if not row["title"]:
            problems.append(f"{bib_path}:{line}: title: empty")
    bib_keys = set(counts)

    seen: dict[tuple[str, ...], int] = {}
    for row in load_published(path):
        where = f"{path}:{row.line}"
        for name in ("source", "table", "model", "metric", "value"):
            if not getattr(row, name):
                problems.append(f"{where}: {name}: empty")
        if row.source and row.source not in SOURCES:
            problems.append(f"{where}: source: unknown source {row.source!r} (known: {', '.join(SOURCES)})")
        if row.source and row.source not in bib_keys:
            problems.append(f"{where}: source: {row.source!r} has no bibliography entry")
        if row.metric and row.metric not in METRICS:
            problems.append(f"{where}: metric: unknown metric {row.metric!r}")
        if row.metric in DATASET_FREE_METRICS:
            if row.dataset or row.split:
                problems.append(f"{where}: dataset: metric {row.metric!r} takes no dataset or split")
        elif row.metric:
            if row.dataset not in DATASETS:
                problems.append(f"{where}: dataset: unknown dataset {row.dataset!r}")
            if row.split not in SPLITS:
                problems.append(f"{where}: split: unknown split {row.split!r}")
        if row.value:
            try:
                parse_value(row.value)
            except ValueError as exc:
                problems.append(f"{where}: value: {exc}")
        if row.paper_key and row.paper_key not in bib_keys:
            problems.append(f"{where}: paper_key: {row.paper_key!r} is not in {bib_path.name}")
        first = seen.setdefault(row.identity, row.line)
        if first != row.line:
            problems.append(f"{where}: value: duplicate of line {first} (same source, table, row and column)")
    return problems


def summary(path: str | Path | None = None) -> str:
    """One line describing the data: rows, sources, tables."""
    rows = load_published(path)
    tables = {(r.source, r.table) for r in rows}
    sources = {r.source for r in rows}
    return f"{len(rows)} published numbers from {len(tables)} tables of {len(sources)} sources; columns {','.join(COLUMNS)}"
