"""Byte-stable PNG plots of built tables (matplotlib, Agg canvas, no pyplot global state).

One horizontal dot plot per table part that names a ``plot`` column in its spec: published rows as
grey dots, reproduced rows as red diamonds, in table order (published vs reproduced); and a metric
vs year plot of the same column (`leaderboards.years`). Byte stability: a fixed figure size and
dpi, the bundled DejaVu Sans font, ``rc_context`` defaults, and PNG metadata ``{"Software": None}``
(no version or date in the file). The same matplotlib version gives identical bytes; other versions
may rasterise text differently, so golden tests compare PNG hashes only under the recorded version and
always compare the plotted data (`PlotData`).
"""

from __future__ import annotations

from pathlib import Path

from leaderboards.build import PlotData
from leaderboards.years import YearPlotData

__all__ = ["render_png", "render_year_png"]

_MAX_LABEL = 42


def render_png(plot: PlotData, path: str | Path) -> None:
    """Write ``plot`` as a PNG at ``path`` (atomically: temp file then rename)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from evaluators.atomic import atomic_path

    n = max(len(plot.points), 1)
    with matplotlib.rc_context(
        {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9, "savefig.dpi": 100}
    ):
        fig = Figure(figsize=(6.4, 1.2 + 0.22 * n), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        labels = [(p[0] if len(p[0]) <= _MAX_LABEL else p[0][: _MAX_LABEL - 1] + "…") for p in plot.points]
        ys = list(range(len(plot.points)))[::-1]
        for y, (_, value, kind) in zip(ys, plot.points):
            if kind == "reproduced":
                ax.scatter([value], [y], marker="D", s=28, color="#c0392b", zorder=3)
            else:
                ax.scatter([value], [y], marker="o", s=22, color="#555555", zorder=3)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(plot.xlabel)
        ax.set_title(plot.title)
        if plot.points:
            lo = min(p[1] for p in plot.points)
            hi = max(p[1] for p in plot.points)
            pad = max((hi - lo) * 0.08, 0.5)
            ax.set_xlim(lo - pad, hi + pad)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})


def render_year_png(plot: YearPlotData, path: str | Path) -> None:
    """Write a metric-vs-year scatter (years as categories, undated ones last) at ``path``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from evaluators.atomic import atomic_path

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9}):
        fig = Figure(figsize=(6.4, 4.0), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        xs = {c: i for i, c in enumerate(plot.categories)}
        best: dict[str, tuple[float, str]] = {}
        for cat, value, label in plot.points:
            ax.scatter([xs[cat]], [value], marker="o", s=20, color="#555555", zorder=3)
            if cat not in best or value > best[cat][0]:
                best[cat] = (value, label)
        last = len(plot.categories) - 1
        for cat, (value, label) in best.items():  # name the best row of each year
            short = label if len(label) <= 20 else label[:19] + "…"
            left = xs[cat] == last  # the last column is labelled below-left, inside the axes
            ax.annotate(
                short,
                (xs[cat], value),
                textcoords="offset points",
                xytext=(-4, -9) if left else (4, 4),
                ha="right" if left else "left",
                fontsize=6,
            )
        ax.set_xticks(range(len(plot.categories)))
        ax.set_xticklabels(plot.categories, rotation=20, ha="right")
        ax.set_xlim(-0.5, len(plot.categories) - 0.3)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_ylabel(plot.ylabel)
        ax.set_title(plot.title)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
