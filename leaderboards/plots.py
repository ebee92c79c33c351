"""Byte-stable PNG plots of built tables (matplotlib, Agg canvas, no pyplot global state).

One horizontal dot plot per table part that names a ``plot`` column in its spec: published rows as
grey dots, reproduced rows as red diamonds, in table order. Byte stability: a fixed figure size and
dpi, the bundled DejaVu Sans font, ``rc_context`` defaults, and PNG metadata ``{"Software": None}``
(no version or date in the file). The same matplotlib version gives identical bytes; other versions
may rasterise text differently, so golden tests compare PNG hashes only under the recorded version and
always compare the plotted data (`PlotData`).
"""

from __future__ import annotations

from pathlib import Path

from leaderboards.build import PlotData

__all__ = ["render_png"]

_MAX_LABEL = 42


def render_png(plot: PlotData, path: str | Path) -> None:
    """Write ``plot`` as a PNG at ``path`` (atomically: temp file then rename)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from leaderboards.io import atomic_path

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
