"""The Python API: build and render a named table, or a table of computed results only.

>>> from leaderboards import render_table
>>> paths = render_table("gres", "tables", formats=("md", "tex"))          # doctest: +SKIP
>>> paths = render_table("gres", "tables", results_dir="results")          # doctest: +SKIP

Output files in ``out_dir``: ``<name>.md`` and ``<name>.tex`` hold every part of the table;
``<name>.csv`` / ``<name>.png`` are per part, named ``<name>-<part id>.*`` when a table has several
parts (the ablations). A PNG is written for each part whose spec names a plot column (published vs
reproduced), plus ``<stem>-by-year.png`` (metric vs year; rows without a year are left out and
footnoted) where at least three rows are dated. `render_results_table` writes the same formats for a
table of computed results only (rows of kind ``computed``; its PNG plots the ``plot_metric`` column).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from evaluators.atomic import write_text_atomic
from evaluators.errors import InputError
from leaderboards.build import BuiltTable, PlotData, build_part, build_results_table
from leaderboards.computed import ComputedResult, load_results, load_results_dir
from leaderboards.conflicts import find_conflicts
from leaderboards.render_csv import render_csv
from leaderboards.render_md import render_markdown
from leaderboards.render_tex import render_latex
from leaderboards.schema import METRICS, PublishedRow, load_bibliography, load_published
from leaderboards.specs import TableSpec, list_tables, load_spec
from leaderboards.years import year_plot

__all__ = ["FORMATS", "build_table", "parse_formats", "render_results_table", "render_table", "write_outputs"]

log = logging.getLogger(__name__)

FORMATS = ("md", "tex", "csv", "png")


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"md,tex"`` or ``["md", "tex"]`` -> ``("md", "tex")``; unknown formats are an `InputError`."""
    items = [f.strip() for f in (text.split(",") if isinstance(text, str) else text) if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise InputError(f"--format: unknown format(s) {bad or items!r}; choose from {','.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def build_table(
    table: str | Path | TableSpec,
    results: Sequence[ComputedResult] = (),
    published: Sequence[PublishedRow] | None = None,
) -> tuple[TableSpec, list[BuiltTable]]:
    """Build every part of a table (by name, spec path or spec) with optional reproduced rows."""
    spec = table if isinstance(table, TableSpec) else load_spec(table)
    rows = load_published() if published is None else published
    bib = load_bibliography()
    conflicts = find_conflicts(rows)
    return spec, [
        dataclasses.replace(build_part(part, rows, results, conflicts), year_plot=year_plot(part, rows, bib))
        for part in spec.parts
    ]


def write_outputs(
    name: str, title: str, tables: Sequence[BuiltTable], out_dir: str | Path, formats: Iterable[str]
) -> list[Path]:
    """Render built tables in the given formats into ``out_dir``; returns the written paths."""
    from leaderboards.plots import render_png, render_year_png

    out_dir = Path(out_dir)
    written: list[Path] = []
    multi = len(tables) > 1
    for fmt in parse_formats(list(formats)):
        if fmt == "md":
            written.append(out_dir / f"{name}.md")
            write_text_atomic(written[-1], render_markdown(title, tables))
        elif fmt == "tex":
            written.append(out_dir / f"{name}.tex")
            write_text_atomic(written[-1], render_latex(title, tables))
        else:
            for t in tables:
                stem = f"{name}-{t.id}" if multi else name
                if fmt == "csv":
                    written.append(out_dir / f"{stem}.csv")
                    write_text_atomic(written[-1], render_csv(t))
                else:
                    if t.plot is not None and t.plot.points:
                        written.append(out_dir / f"{stem}.png")
                        render_png(t.plot, written[-1])
                    if t.year_plot is not None:
                        written.append(out_dir / f"{stem}-by-year.png")
                        render_year_png(t.year_plot, written[-1])
    for path in written:
        log.info("wrote %s", path)
    return written


def render_table(
    name: str,
    out_dir: str | Path,
    formats: Iterable[str] = FORMATS,
    results_dir: str | Path | None = None,
    results: Sequence[ComputedResult] = (),
    published: str | Path | None = None,
) -> list[Path]:
    """Render table ``name`` (one of `list_tables()`, or ``all``) into ``out_dir``.

    ``results_dir`` (or already loaded ``results``) adds reproduced rows; ``published`` overrides the
    packaged published-numbers CSV. Returns the written paths.
    """
    loaded = list(results) + (load_results_dir(results_dir) if results_dir is not None else [])
    synthetic = [r.path for r in loaded if r.synthetic]
    if synthetic:
        log.warning(
            "%d synthetic results files are not joined with published numbers (e.g. %s); "
            "use --table computed for them",
            len(synthetic),
            synthetic[0],
        )
    rows = load_published(published)
    names = list_tables() if name == "all" else [name]
    written: list[Path] = []
    for n in names:
        spec, tables = build_table(n, loaded, rows)
        written += write_outputs(spec.name, spec.title, tables, out_dir, formats)
    return written


def _plot_column(keys: Sequence[str], plot_metric: str | None) -> int:
    """The index of the plotted column: the first whose leaf key (``dataset/split/task:metric``)
    equals ``plot_metric``, ends with ``/plot_metric`` or ``:plot_metric`` (a metric name such as
    ``giou``, ``gres:giou`` or ``grefcoco_unc/val/gres:giou``); the first column when ``None``."""
    if plot_metric is None:
        return 0
    for i, key in enumerate(keys):
        if key == plot_metric or key.endswith((f"/{plot_metric}", f":{plot_metric}")):
            return i
    raise InputError(f"plot_metric: {plot_metric!r} matches no column; the columns are {', '.join(keys)}")


def render_results_table(
    results_files: Iterable[str | Path | tuple[str, str | Path] | ComputedResult],
    out_dir: str | Path,
    formats: Iterable[str] = ("md", "csv"),
    title: str = "Computed results",
    name: str = "synthetic",
    caption: str = "",
    plot_metric: str | None = None,
) -> list[Path]:
    """Render a table of computed results only (rows: model and protocol; columns: dataset / split /
    task metric), e.g. the demo's synthetic leaderboard, kept apart from published numbers. Its rows
    have kind ``computed`` (CSV ``kind`` column, PNG legend): they are not reproductions of published
    numbers.

    ``results_files`` items are ``(model, path)`` pairs, paths of `vgbench eval` results JSON (the
    model from the file's ``model`` key, else the name of its folder, see `leaderboards.computed`), or
    loaded `ComputedResult`. The PNG plots the column chosen by ``plot_metric`` (a metric name such
    as ``"giou"`` or ``"f1_score"``, ``"task:metric"`` or a whole column key; the first matching
    column), by default the first column; a ``plot_metric`` that matches no column is an `InputError`.
    """
    loaded = []
    for item in results_files:
        if isinstance(item, ComputedResult):
            loaded.append(item)
        elif isinstance(item, tuple):
            model, path = item
            loaded.append(load_results(path, model=model))
        else:
            loaded.append(load_results(item, root=Path(item).parent.parent))
    if not loaded:
        raise InputError("render_results_table: no results files given")
    table = build_results_table(loaded, title=title, caption=caption, id=name)
    if table.rows and table.header.leaf_keys:
        col = _plot_column(table.header.leaf_keys, plot_metric)
        points = tuple(
            (row.labels[0], float(row.cells[col].text), row.kind)
            for row in table.rows
            if row.cells[col].text not in ("-", "n/a")
        )
        key = table.header.leaf_keys[col]
        metric = key.rsplit("/", 1)[-1].split(":")[-1]
        xlabel = key.rsplit("/", 1)[0] + " " + METRICS[metric].display
        table = dataclasses.replace(table, plot=PlotData(title=title, xlabel=xlabel, points=points))
    return write_outputs(name, title, [table], out_dir, formats)
