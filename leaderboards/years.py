"""Metric vs year: the published values of a table's plot column against their paper's year.

The year of a row comes from the bibliography entry of its ``paper_key``, else from a printed venue
such as ``TNNLS’22``. The x axis holds real years only (those of the dated rows, ascending). Rows with
no year are left out of the plot and listed in ``YearPlotData.left_out`` with the reason: the rows of
the source document itself (``paper_key`` equal to the source; ``undated (this source)``, since the
seed texts do not print their own year) and rows whose paper has no known year (``year not given``).
The plot states how many rows (and which) it leaves out in a footnote (`leaderboards.plots`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from leaderboards.schema import METRICS, BibEntry, PublishedRow, parse_value
from leaderboards.specs import PartSpec

__all__ = ["YearPlotData", "year_plot"]

SOURCE_CATEGORY = "undated (this source)"
UNKNOWN_CATEGORY = "year not given"
_VENUE_YEAR = re.compile(r"[’'](\d\d)$")


@dataclass(frozen=True)
class YearPlotData:
    """``points``: (year, value, label) of the dated rows, ordered by year (table order within a
    year); ``categories``: the years present, ascending (four-digit strings). ``left_out``: (label,
    reason) of the rows without a year, in table order; reason is `SOURCE_CATEGORY` or
    `UNKNOWN_CATEGORY`. Values are in the column's unit (percent for scores)."""

    title: str
    ylabel: str
    categories: tuple[str, ...]
    points: tuple[tuple[str, float, str], ...]
    left_out: tuple[tuple[str, str], ...] = ()


def _year(row: PublishedRow, bibliography: Mapping[str, BibEntry]) -> str:
    if row.paper_key and row.paper_key == row.source:
        return SOURCE_CATEGORY
    entry = bibliography.get(row.paper_key) if row.paper_key else None
    if entry is not None and entry.year:
        return entry.year
    m = _VENUE_YEAR.search(row.venue)
    if m:
        return f"20{m.group(1)}"
    return UNKNOWN_CATEGORY


def year_plot(
    part: PartSpec,
    published: Sequence[PublishedRow],
    bibliography: Mapping[str, BibEntry],
    min_dated: int = 3,
) -> YearPlotData | None:
    """The year plot of a part's plot column, or ``None`` without a plot column or with fewer than
    ``min_dated`` dated rows (a year axis with one or two points says nothing). Rows without a year
    are not plotted; they are counted and named in ``left_out``."""
    if part.plot is None:
        return None
    col = part.plot
    rows = [
        row
        for row in published
        if (row.source, row.table, row.dataset, row.split, row.metric)
        == (part.source, part.table, col.dataset, col.split, col.metric)
    ]
    names = Counter(row.model or row.setting for row in rows)
    dated, left_out = [], []
    for row in rows:
        label = row.model or row.setting
        if names[label] > 1 and row.backbone:  # the same model twice: name the backbone too
            label = f"{label} {row.backbone}"
        year = _year(row, bibliography)
        if year.isdigit():
            dated.append((year, parse_value(row.value), label))
        else:
            left_out.append((label, year))
    if len(dated) < min_dated:
        return None
    dated.sort(key=lambda p: p[0])  # stable: table order within a year
    ylabel = " ".join(
        x
        for x in (
            part.dataset_label(col.dataset),
            part.split_label(col.dataset, col.split),
            METRICS[col.metric].display,
        )
        if x
    )
    return YearPlotData(
        title=f"{part.title}: by year",
        ylabel=ylabel,
        categories=tuple(sorted({y for y, _, _ in dated})),
        points=tuple(dated),
        left_out=tuple(left_out),
    )
