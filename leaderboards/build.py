"""Assemble a renderable table from a spec part, the published rows and computed results.

The result, `BuiltTable`, is format-neutral: header levels with spans, rows of label texts and cells
(text plus a ``best`` / ``second`` mark), notes and the data of its plot. Every renderer (Markdown,
LaTeX, CSV, PNG) reads only this, so the formats cannot disagree.

Rules:
- Published values are shown exactly as printed; a cell the source prints as "-" (omitted from the
  data) shows ``-``.
- Bold best / underline second per column are ranked over the published rows only, in the metric's
  direction (lower is better for latency; parameters and MACs are not ranked), on the values as
  shown. Ties share the mark; second is the best value strictly worse than the best; a score of zero
  is never marked (see `_marks`).
- Computed results join as **reproduced** rows at the end, one row per (model, backbone, protocol,
  protocol version, protocol parameters): rows from different protocols or resolutions are never
  merged, and the protocol (with ``resize``) is shown in the row. Values use the spec's decimals;
  ``null`` shows ``n/a``.
- Where exactly one published row has the same model (case-insensitive, " (Ours)" ignored; the
  results' ``backbone`` narrows it down), a **delta** row follows with reproduced - published.
- A published cell that another source prints differently (`leaderboards.conflicts`) keeps its printed
  text and carries footnote numbers (``Cell.notes``); ``BuiltTable.footnotes[i - 1]`` names both sources.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from evaluators.errors import InputError
from leaderboards.computed import ComputedResult
from leaderboards.conflicts import Conflict, find_conflicts
from leaderboards.schema import DATASETS, METRICS, PublishedRow, parse_value
from leaderboards.specs import Column, PartSpec
from leaderboards.years import YearPlotData

__all__ = ["BuiltTable", "Cell", "Header", "PlotData", "Row", "build_part", "build_results_table"]

log = logging.getLogger(__name__)

REPRODUCED_GROUP = "Reproduced (computed by vgbench eval)"
SPLIT_ORDER = ("train", "val", "testA", "testB", "test", "unstated")
TASK_ORDER = ("rec", "res", "grec", "gres", "refzom", "rrefcoco")


@dataclass(frozen=True)
class Cell:
    """One shown value: its text, its mark (``"best"``, ``"second"`` or ``""``) and its footnote
    numbers (1-based into `BuiltTable.footnotes`; cross-source conflicts)."""

    text: str
    mark: str = ""
    notes: tuple[int, ...] = ()

    def render(self, escape: Callable[[str], str], best: str, second: str, sup: str) -> str:
        """The escaped text in the ``best`` / ``second`` template of its mark (``{}``: the text), then the
        note numbers in ``sup`` (``{}``: ``1,2``); a renderer's markup is its three templates."""
        notes = sup.format(",".join(map(str, self.notes))) if self.notes else ""
        text = escape(self.text)
        if self.mark == "best":
            return best.format(text) + notes
        if self.mark == "second":
            return second.format(text) + notes
        return text + notes


@dataclass(frozen=True)
class Row:
    """A table row. ``kind``: ``group`` (a group heading in ``labels[0]``), ``published`` (a number
    printed by a paper), ``reproduced`` (computed results joined to a published table: a published
    model re-scored), ``delta`` (reproduced - published) or ``computed`` (a row of a computed-only
    table, `build_results_table`, e.g. the demo's synthetic benchmark: not a reproduction of anything)."""

    kind: str
    labels: tuple[str, ...]
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Header:
    """Column headers: ``levels[i]`` is a tuple of (label, span) runs covering the value columns;
    ``labels`` heads the label columns; ``constant`` lists the levels shared by every column
    (shown in the caption instead), e.g. ``("Metric: Pr@0.5",)``."""

    labels: tuple[str, ...]
    levels: tuple[tuple[tuple[str, int], ...], ...]
    leaf_keys: tuple[str, ...]
    constant: tuple[str, ...]


@dataclass(frozen=True)
class PlotData:
    """What the PNG shows: one value per row at one column. ``points``: (label, value, kind)."""

    title: str
    xlabel: str
    points: tuple[tuple[str, float, str], ...]


@dataclass(frozen=True)
class BuiltTable:
    """A format-neutral table (see the module docstring)."""

    id: str
    title: str
    caption: str
    source: str
    header: Header
    rows: tuple[Row, ...]
    notes: tuple[str, ...]
    plot: PlotData | None
    year_plot: YearPlotData | None = None
    footnotes: tuple[str, ...] = ()


def _metric_label(col: Column) -> str:
    name = METRICS[col.metric].display
    return f"{col.task.upper()} {name}" if col.task else name


def _header(labels: Sequence[str], columns: Sequence[Column], dataset_label, split_label) -> Header:
    raw = [
        (dataset_label(c.dataset), split_label(c.dataset, c.split), _metric_label(c))
        if c.dataset
        else ("", "", _metric_label(c))
        for c in columns
    ]
    with_data = [r for r, c in zip(raw, columns) if c.dataset]
    names = ("Dataset", "Split", "Metric")
    kept, constant = [], []
    for lvl in range(3):
        values = {r[lvl] for r in with_data}
        if with_data and len(values) == 1:
            if next(iter(values)):
                constant.append(f"{names[lvl]}: {next(iter(values))}")
        else:
            kept.append(lvl)
    if not kept:
        kept = [2]
    top = kept[0]
    # dataset-free columns (latency, params) show their metric name in the top kept level only
    cells = [
        [r[lvl] if c.dataset else (r[2] if lvl == top else "") for lvl in kept] for r, c in zip(raw, columns)
    ]
    levels = []
    for depth in range(len(kept)):
        runs: list[tuple[str, int]] = []
        prev = None
        for cell in cells:
            ident = tuple(cell[: depth + 1])
            if depth < len(kept) - 1 and runs and ident == prev:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((cell[depth], 1))
            prev = ident
        levels.append(tuple(runs))
    return Header(tuple(labels), tuple(levels), tuple(c.key for c in columns), tuple(constant))


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _fmt_delta(value: float, decimals: int) -> str:
    text = f"{value:+.{decimals}f}"
    return "+" + text[1:] if text.startswith("-") and float(text) == 0 else text


def _norm(name: str) -> str:
    name = name.lower().replace("(ours)", "")
    return "".join(ch for ch in name if ch.isalnum())


def _marks(
    columns: Sequence[Column], values: list[dict[Column, float]], enabled: bool
) -> list[dict[Column, str]]:
    """Per row, the column -> mark map, ranked on the values as shown (round computed values first).

    Best: the best value of the column, every row that ties it shares the mark. Second: the best value
    strictly worse than the best, again shared by ties. A column with fewer than two values, or whose
    metric is not ranked, has no marks. For a higher-is-better score a value of zero (or below) is
    never marked: 0.00 is not a best or runner-up result, so ``[50, 0, 0]`` marks only 50 and
    ``[0, 0]`` marks nothing.
    """
    marks: list[dict[Column, str]] = [{} for _ in values]
    if not enabled:
        return marks
    for col in columns:
        better = METRICS[col.metric].higher_is_better
        present = [row[col] for row in values if col in row]
        if better is None or len(present) < 2:
            continue
        ordered = sorted({v for v in present if not better or v > 0}, reverse=better)
        ranked = dict(zip(ordered[:2], ("best", "second")))
        for row, mark in zip(values, marks):
            if col in row and row[col] in ranked:
                mark[col] = ranked[row[col]]
    return marks


def _reproduced(
    part_columns: Sequence[Column], results: Iterable[ComputedResult]
) -> dict[tuple, tuple[ComputedResult, dict[Column, float | None]]]:
    """Group results by row key; each (row, dataset, split) may come from one file only."""
    rows: dict[tuple, tuple[ComputedResult, dict[Column, float | None]]] = {}
    origin: dict[tuple, ComputedResult] = {}
    for res in results:
        cols = [
            c
            for c in part_columns
            if c.dataset == res.dataset and c.split == res.split and (not c.task or c.task == res.task)
        ]
        if not cols:
            continue
        key = res.row_key + ((res.task,) if any(c.task for c in cols) else ())
        where = (*key, res.dataset, res.split, res.task)
        if where in origin:
            raise InputError(
                f"{res.path}: model: {res.model!r} {res.dataset}/{res.split} under {res.protocol_label} "
                f"is also given by {origin[where].path}; keep one"
            )
        origin[where] = res
        _first, values = rows.setdefault(key, (res, {}))
        for c in cols:
            if c.metric in res.metrics:
                values[c] = res.metrics[c.metric]
    return rows


# C901: the table rules of the module docstring applied in order (collect, group, mark, footnote, plot,
# reproduced rows); the steps share the row bookkeeping, so splitting would pass it around wholesale.
def build_part(  # noqa: C901
    part: PartSpec,
    published: Sequence[PublishedRow],
    results: Sequence[ComputedResult] = (),
    conflicts: Sequence[Conflict] | None = None,
) -> BuiltTable:
    """Build one table part (see the module docstring for the rules). ``conflicts`` defaults to
    `find_conflicts` of ``published``."""
    columns = part.columns
    by_col = {(c.dataset, c.split, c.metric): c for c in columns}
    label_fields = [f for f, _ in part.labels]
    # published rows in first-appearance order
    order: list[tuple[str, str, str, str]] = []
    info: dict[tuple, PublishedRow] = {}
    texts: dict[tuple, dict[Column, str]] = {}
    idents: dict[tuple, dict[Column, tuple]] = {}
    for row in published:
        if row.source != part.source or row.table != part.table:
            continue
        col = by_col.get((row.dataset, row.split, row.metric))
        if col is None:
            continue
        if row.row_key not in info:
            order.append(row.row_key)
            info[row.row_key] = row
            texts[row.row_key] = {}
            idents[row.row_key] = {}
        texts[row.row_key][col] = row.value
        idents[row.row_key][col] = row.identity
    if part.groups:
        unknown = sorted({k[0] for k in order} - set(part.groups))
        if unknown:
            raise InputError(
                f"{part.table}: group: rows in groups {unknown} are not listed in the spec's groups"
            )
        order = [k for g in part.groups for k in order if k[0] == g]
    numbers = [{c: parse_value(t) for c, t in texts[k].items()} for k in order]
    marks = _marks(columns, numbers, part.highlight)

    by_row: dict[tuple, list[Conflict]] = {}
    for conflict in find_conflicts(published) if conflicts is None else conflicts:
        for r in (conflict.a, conflict.b):
            by_row.setdefault(r.identity, []).append(conflict)
    footnotes: dict[str, int] = {}

    def cell_notes(key: tuple, col: Column) -> tuple[int, ...]:
        found = by_row.get(idents[key].get(col), [])
        return tuple(footnotes.setdefault(c.describe(lines=False), len(footnotes) + 1) for c in found)

    rows: list[Row] = []
    blank = ("",) * (len(label_fields) - 1)
    group = None
    for key, mark in zip(order, marks):
        if part.groups and key[0] != group:
            group = key[0]
            rows.append(Row("group", (group, *blank), ()))
        src = info[key]
        labels = tuple(getattr(src, f) for f in label_fields)
        cells = tuple(Cell(texts[key].get(c, "-"), mark.get(c, ""), cell_notes(key, c)) for c in columns)
        rows.append(Row("published", labels, cells))

    notes: list[str] = []
    plot_points: list[tuple[str, float, str]] = []
    pcol = None
    if part.plot is not None:
        pcol = by_col.get((part.plot.dataset, part.plot.split, part.plot.metric))
        for key, nums in zip(order, numbers):
            if pcol in nums:
                src = info[key]
                plot_points.append(
                    (_plot_label(src.model, src.backbone, src.setting), nums[pcol], "published")
                )

    joinable = [r for r in results if not r.synthetic and part.task is not None and r.task == part.task]
    reproduced = _reproduced(columns, joinable)
    if reproduced:
        rows.append(Row("group", (REPRODUCED_GROUP, *blank), ()))
    seen_labels: set[tuple[str, ...]] = set()
    for first, values in reproduced.values():
        labels = _reproduced_labels(first, label_fields)
        if labels in seen_labels:
            labels = (f"{labels[0]} #{first.params_digest}", *labels[1:])
        seen_labels.add(labels)
        cells = tuple(
            Cell("-" if c not in values else ("n/a" if values[c] is None else _fmt(values[c], part.decimals)))
            for c in columns
        )
        rows.append(Row("reproduced", labels, cells))
        if part.plot is not None and values.get(pcol) is not None:
            plot_points.append((f"{first.model} (reproduced)", values[pcol], "reproduced"))
        match = _match_published(first, order, info)
        if isinstance(match, str):
            notes.append(match)
            continue
        if match is None:
            continue
        ref = dict(zip(order, numbers))[match]
        delta = tuple(
            Cell(
                _fmt_delta(values[c] - ref[c], part.decimals)
                if values.get(c) is not None and c in ref
                else ""
            )
            for c in columns
        )
        name = " ".join(x for x in (info[match].model, info[match].backbone) if x)
        rows.append(Row("delta", (f"Δ vs published {name}", *blank), delta))

    header = _header([h for _, h in part.labels], columns, part.dataset_label, part.split_label)
    plot = None
    if part.plot is not None:
        plot = PlotData(
            title=part.title,
            xlabel=" ".join(
                x
                for x in (
                    part.dataset_label(part.plot.dataset),
                    part.split_label(part.plot.dataset, part.plot.split),
                    METRICS[part.plot.metric].display,
                )
                if x
            ),
            points=tuple(plot_points),
        )
    return BuiltTable(
        id=part.id,
        title=part.title,
        caption=part.caption,
        source=f"Source: {part.source}, {part.table}",
        header=header,
        rows=tuple(rows),
        notes=tuple(notes),
        plot=plot,
        footnotes=tuple(sorted(footnotes, key=footnotes.get)),
    )


def _plot_label(model: str, backbone: str, setting: str) -> str:
    return " ".join(x for x in (model, backbone) if x) or setting


def _reproduced_labels(res: ComputedResult, fields: Sequence[str]) -> tuple[str, ...]:
    out = []
    for f in fields:
        if f == "model":
            text = f"{res.model} (reproduced)"
            if "setting" not in fields:
                text = f"{res.model} (reproduced; {res.protocol_label})"
        elif f == "backbone":
            text = res.backbone
        elif f == "setting":
            text = res.protocol_label
        elif f == "group":
            text = "reproduced"
        else:
            text = ""
        out.append(text)
    if "model" not in fields and out:
        out[0] = f"{res.model} (reproduced; {res.protocol_label})"
    return tuple(out)


def _match_published(res: ComputedResult, order, info) -> tuple | str | None:
    """The published row of the same model, ``None`` when there is none, a note when ambiguous."""
    cands = [k for k in order if _norm(info[k].model) == _norm(res.model)]
    if res.backbone:
        cands = [k for k in cands if _norm(info[k].backbone) == _norm(res.backbone)]
    if len(cands) > 1:
        return (
            f"{res.model}: {len(cands)} published rows match, so no difference is shown; "
            'add a "backbone" key to the results file to pick one'
        )
    return cands[0] if cands else None


def build_results_table(
    results: Sequence[ComputedResult], title: str, caption: str = "", decimals: int = 2, id: str = "computed"
) -> BuiltTable:
    """A table of computed results only: rows (kind ``computed``) are (model, protocol); columns
    dataset -> split -> task metric, for every metric present. Best / second are marked among these
    rows, on the values rounded to ``decimals`` (as shown)."""
    cols = {Column(r.dataset, r.split, m, task=r.task) for r in results for m in r.metrics if m in METRICS}
    dorder = {d: i for i, d in enumerate(DATASETS)}
    morder = {m: i for i, m in enumerate(METRICS)}

    def sort_key(c: Column):
        return (
            dorder.get(c.dataset, len(dorder)),
            c.dataset,
            SPLIT_ORDER.index(c.split) if c.split in SPLIT_ORDER else len(SPLIT_ORDER),
            c.split,
            TASK_ORDER.index(c.task) if c.task in TASK_ORDER else len(TASK_ORDER),
            morder[c.metric],
        )

    columns = tuple(sorted(cols, key=sort_key))
    grouped = _reproduced(columns, results)
    values = [v for _, v in grouped.values()]
    # rank on the shown (rounded) values: 73.501 and 73.499 both show 73.50 and tie
    numeric = [{c: float(_fmt(x, decimals)) for c, x in v.items() if x is not None} for v in values]
    marks = _marks(columns, numeric, True)
    rows = []
    for (first, vals), mark in zip(grouped.values(), marks):
        label = first.model + (f" {first.backbone}" if first.backbone else "")
        cells = tuple(
            Cell(
                "-" if c not in vals else ("n/a" if vals[c] is None else _fmt(vals[c], decimals)),
                mark.get(c, ""),
            )
            for c in columns
        )
        rows.append(Row("computed", (label, first.protocol_label), cells))
    header = _header(("Model", "Protocol"), columns, lambda d: DATASETS.get(d, d), lambda d, s: s)
    return BuiltTable(
        id=id,
        title=title,
        caption=caption,
        source="Source: computed by vgbench eval",
        header=header,
        rows=tuple(rows),
        notes=(),
        plot=None,
    )
