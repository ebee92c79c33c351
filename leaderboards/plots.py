"""Byte-stable PNG plots of built tables (matplotlib, Agg canvas, no pyplot global state).

- `dot_figure` / `render_png`: one horizontal dot plot per table part that names a ``plot`` column in
  its spec (or the chosen column of a computed-only table): published rows as grey dots, reproduced
  rows (a published model re-scored from a released checkpoint) as red diamonds, computed rows (a
  computed-only table such as the demo's synthetic benchmark) as blue squares, in table order. A
  legend names the kinds when a plot shows any besides ``published``.
- `year_figure` / `render_year_png`: the same column against the year of each row's paper
  (`leaderboards.years`): the x axis holds the years present, ascending; every point is labelled with
  its model name to its right, labels of one year stacked so that they do not overlap (a thin leader
  line joins a moved label to its point), and the figure widens so that one year's labels end before
  the next year's points; a footnote names the rows left out because they have no year.

Titles (and the footnote) never run off the figure: a title wider than the room it has is wrapped
(`textwrap`, measured with the Agg renderer) and laid out again.

Byte stability: a fixed dpi and figure height, widths computed from measured text only, the bundled
DejaVu Sans font, ``rc_context`` defaults, and PNG metadata ``{"Software": None}`` (no version or
date in the file). The same matplotlib version gives identical bytes; other versions may rasterise
text differently, so golden tests compare PNG hashes only under the recorded version and always
compare the plotted data (`PlotData`, `YearPlotData`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboards.build import PlotData
from leaderboards.years import YearPlotData

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["dot_figure", "render_png", "render_year_png", "year_figure"]

_MAX_LABEL = 42
_YEAR_LABEL = 24  # characters of a model name next to a point of the year plot
_DPI = 100
_DOT_RC = {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9, "savefig.dpi": _DPI}
_YEAR_RC = {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9}
# kind -> (marker, size, colour, legend text)
_KINDS = {
    "published": ("o", 22, "#555555", "published"),
    "reproduced": ("D", 28, "#c0392b", "reproduced (released checkpoint)"),
    "computed": ("s", 26, "#2471a3", "computed (vgbench eval)"),
}


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _text_width(fig: Figure, text: str, fontprops) -> float:
    """Width in pixels of ``text`` (widest line) as the Agg renderer draws it."""
    renderer = fig.canvas.get_renderer()
    return max(
        renderer.get_text_width_height_descent(line, fontprops, ismath=False)[0] for line in text.split("\n")
    )


def _wrap(fig: Figure, text: str, width_px: float, fontprops) -> str:
    """``text`` wrapped at word boundaries into the fewest lines no wider than ``width_px``."""
    for width in range(len(text), 7, -1):
        wrapped = "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))
        if _text_width(fig, wrapped, fontprops) <= width_px:
            return wrapped
    return "\n".join(textwrap.wrap(text, 8))


def _inside(fig: Figure, artist) -> bool:
    """Whether ``artist``'s drawn extent lies inside the figure (1 px tolerance)."""
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return box.x0 >= -1 and box.y0 >= -1 and box.x1 <= fig.bbox.width + 1 and box.y1 <= fig.bbox.height + 1


def _layout(fig: Figure, ax: Axes, title: str, rect: tuple[float, float, float, float] | None = None) -> None:
    """Set ``title`` and lay out; where the title runs off the figure, wrap it to the room it has
    (centred over the axes) and lay out again."""
    ax.set_title(title)
    kwargs = {} if rect is None else {"rect": rect}
    fig.tight_layout(**kwargs)
    for _ in range(3):
        if _inside(fig, ax.title):
            return
        box = ax.get_window_extent(fig.canvas.get_renderer())
        centre = (box.x0 + box.x1) / 2
        room = 2 * min(centre, fig.bbox.width - centre) - 8
        ax.set_title(_wrap(fig, title, room, ax.title.get_fontproperties()))
        fig.tight_layout(**kwargs)


def _save(fig: Figure, path: str | Path) -> None:
    from evaluators.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": None})


def dot_figure(plot: PlotData) -> Figure:
    """The dot plot of ``plot`` (one row per point, top to bottom in table order; x: the value)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    n = max(len(plot.points), 1)
    with matplotlib.rc_context(_DOT_RC):
        kinds = [k for k in _KINDS if any(p[2] == k for p in plot.points)]
        legend = any(k != "published" for k in kinds)
        height = 1.2 + 0.22 * n + (0.25 if legend else 0.0)
        fig = Figure(figsize=(6.4, height), dpi=_DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        labels = [_short(p[0], _MAX_LABEL) for p in plot.points]
        ys = list(range(len(plot.points)))[::-1]
        for y, (_, value, kind) in zip(ys, plot.points):
            marker, size, colour, _ = _KINDS.get(kind, _KINDS["published"])
            ax.scatter([value], [y], marker=marker, s=size, color=colour, zorder=3)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(plot.xlabel)
        if plot.points:
            lo = min(p[1] for p in plot.points)
            hi = max(p[1] for p in plot.points)
            pad = max((hi - lo) * 0.08, 0.5)
            ax.set_xlim(lo - pad, hi + pad)
        rect = None
        if legend:
            handles = [
                Line2D([], [], linestyle="", marker=_KINDS[k][0], color=_KINDS[k][2], markersize=5)
                for k in kinds
            ]
            fig.legend(
                handles,
                [_KINDS[k][3] for k in kinds],
                loc="lower center",
                ncol=len(kinds),
                frameon=False,
                fontsize=7,
            )
            rect = (0.0, 0.25 / height, 1.0, 1.0)
        _layout(fig, ax, plot.title, rect)
    return fig


def render_png(plot: PlotData, path: str | Path) -> None:
    """Write ``plot`` as a PNG at ``path`` (atomically: temp file then rename)."""
    import matplotlib

    with matplotlib.rc_context(_DOT_RC):
        _save(dot_figure(plot), path)


def _left_out_note(plot: YearPlotData) -> str:
    """``Not plotted (no year): 3 of 12 rows; year not given: CRIS, PropVG; undated (this source):
    InstanceVG (Ours).`` (empty when every row is plotted)."""
    if not plot.left_out:
        return ""
    total = len(plot.points) + len(plot.left_out)
    why: dict[str, list[str]] = {}
    for label, reason in plot.left_out:
        why.setdefault(reason, []).append(label)
    parts = "; ".join(f"{reason}: {', '.join(labels)}" for reason, labels in why.items())
    return f"Not plotted (no year): {len(plot.left_out)} of {total} rows; {parts}."


def year_figure(plot: YearPlotData) -> Figure:
    """The metric-vs-year scatter of ``plot``: x the years present (categories, ascending), y the
    value; every point labelled with its model name (see the module docstring); a footnote with the
    rows left out for want of a year."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    height = 4.0
    with matplotlib.rc_context(_YEAR_RC):
        fig = Figure(figsize=(6.4, height), dpi=_DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        xs = {c: i for i, c in enumerate(plot.categories)}
        for cat, value, _ in plot.points:
            ax.scatter([xs[cat]], [value], marker="o", s=20, color="#555555", zorder=3)
        ncat = len(plot.categories)
        ax.set_xticks(range(ncat))
        ax.set_xticklabels(plot.categories)
        right = ncat - 0.05
        ax.set_xlim(-0.4, right)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_ylabel(plot.ylabel)

        label_font = FontProperties(family="DejaVu Sans", size=6)
        labels = [_short(label, _YEAR_LABEL) for _, _, label in plot.points]
        offset_px = 5 * _DPI / 72  # label starts 5 pt right of its point
        widest = max((_text_width(fig, t, label_font) for t in labels), default=0.0)
        # one year's labels must end before the next year's points: px per category
        unit = (offset_px + widest + 8) / 0.9

        note = _left_out_note(plot)
        note_text = None
        rect = None
        for _ in range(3):
            width = fig.get_figwidth() * _DPI
            if note:
                note_font = FontProperties(family="DejaVu Sans", size=6.5)
                wrapped = _wrap(fig, note, width - 16, note_font)
                if note_text is None:
                    note_text = fig.text(8 / width, 0.01, wrapped, fontproperties=note_font, va="bottom")
                note_text.set_text(wrapped)
                note_text.set_x(8 / width)
                lines = wrapped.count("\n") + 1
                rect = (0.0, (lines * 11 + 10) / (height * _DPI), 1.0, 1.0)
            _layout(fig, ax, plot.title, rect)
            box = ax.get_window_extent(fig.canvas.get_renderer())
            need = unit * (right + 0.4)
            if box.width >= need - 0.5:
                break
            fig.set_size_inches(fig.get_figwidth() + (need - box.width) / _DPI, height)

        _label_points(fig, ax, plot, labels, xs, offset_px, label_font)
    return fig


def _label_points(fig: Figure, ax: Axes, plot: YearPlotData, labels, xs, offset_px, font) -> None:
    """Name every point to its right; within a year, labels sorted by value are pushed up so that
    they are at least one text line apart, then the stack is moved down if it leaves the axes."""
    renderer = fig.canvas.get_renderer()
    line = renderer.get_text_width_height_descent("Ag", font, ismath=False)[1] + 1.5
    top = ax.get_window_extent(renderer).y1 - line / 2 - 2  # keep clear of the frame
    per_year: dict[str, list[tuple[float, float, str]]] = {}
    for (cat, value, _), text in zip(plot.points, labels):
        y = ax.transData.transform((xs[cat], value))[1]
        per_year.setdefault(cat, []).append((y, value, text))
    pt = 72 / _DPI
    for cat, items in per_year.items():
        items.sort(key=lambda it: it[0])  # stable: table order among equal values
        placed: list[float] = []
        for y, _, _ in items:
            placed.append(y if not placed else max(y, placed[-1] + line))
        over = placed[-1] - top
        if over > 0:
            placed = [p - over for p in placed]
        for (y, value, text), at in zip(items, placed):
            moved = abs(at - y) > 1
            ax.annotate(
                text,
                (xs[cat], value),
                textcoords="offset points",
                xytext=(offset_px * pt, (at - y) * pt),
                ha="left",
                va="center",
                fontproperties=font,
                arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.4} if moved else None,
            )


def render_year_png(plot: YearPlotData, path: str | Path) -> None:
    """Write the metric-vs-year plot of ``plot`` (`year_figure`) as a PNG at ``path`` (atomically)."""
    import matplotlib

    with matplotlib.rc_context(_YEAR_RC):
        _save(year_figure(plot), path)
