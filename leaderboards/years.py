"""Metric vs year: the published values of a table's plot column against their paper's year.

The year of a row comes from the bibliography entry of its ``paper_key``, else from a printed venue
such as ``TNNLS’22``. Rows of the source document itself (``paper_key`` equal to the source) are shown
in an ``undated (this source)`` column, since the seed texts do not print their own year; rows with no
year at all go to ``year not given``. Nothing is dropped.
"""

from __future__ import annotations

import re
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
    """``points``: (category, value, label) with categories ordered: years ascending, then the two
    undated categories; ``categories`` lists them in that order."""

    title: str
    ylabel: str
    categories: tuple[str, ...]
    points: tuple[tuple[str, float, str], ...]


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
    ``min_dated`` dated rows (a year axis with one or two points says nothing)."""
    if part.plot is None:
        return None
    col = part.plot
    points = []
    for row in published:
        if (row.source, row.table, row.dataset, row.split, row.metric) == (
            part.source,
            part.table,
            col.dataset,
            col.split,
            col.metric,
        ):
            label = row.model or row.setting
            points.append((_year(row, bibliography), parse_value(row.value), label))
    years = sorted({c for c, _, _ in points if c.isdigit()})
    if len([p for p in points if p[0].isdigit()]) < min_dated:
        return None
    categories = tuple(years) + tuple(
        c for c in (SOURCE_CATEGORY, UNKNOWN_CATEGORY) if any(p[0] == c for p in points)
    )
    order = {c: i for i, c in enumerate(categories)}
    points.sort(key=lambda p: order[p[0]])  # stable: table order within a category
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
        title=f"{part.title}: by year", ylabel=ylabel, categories=categories, points=tuple(points)
    )
