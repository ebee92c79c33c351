"""The static parts of ``index.html``: header, metric tables with intervals, the paired comparison,
breakdown tables with small SVG bar plots, the legend and the gallery's controls.

Everything is escaped with `html.escape`; the plots are inline SVG (no script, no external file).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from evaluators.results import DISPLAY
from vgbench.report.analysis import DIMENSIONS, HEADLINE, ModelAnalysis

__all__ = ["PAIRS", "SORTS", "page"]

PAIRS = {
    "a_only": "{a} right, {b} wrong",
    "b_only": "{b} right, {a} wrong",
    "both_right": "both right",
    "both_wrong": "both wrong",
}
SORTS = (
    ("order", "file order"),
    ("iou_asc", "IoU, worst first"),
    ("iou_desc", "IoU, best first"),
    ("words_desc", "longest sentence first"),
    ("targets_desc", "most targets first"),
)
MAX_BARS = 20  # values per breakdown plot (the table lists them all)
COMPARE_SORTS = (("diff_desc", "A - B IoU, largest first"), ("diff_asc", "A - B IoU, smallest first"))


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _metric(key: str) -> str:
    return DISPLAY.get(key, key)


def _metrics_table(models: Sequence[ModelAnalysis], task: str) -> str:
    keys: list[str] = []
    for m in models:
        for res in m.results[task]:
            keys += [k for k in res["metrics"] if k not in keys]
    head = "".join(f"<th>{_e(_metric(k))}</th>" for k in keys)
    rows = []
    for m in models:
        for i, res in enumerate(m.results[task]):
            label = f"{res['protocol']} v{res['protocol_version']}" + (" (default)" if i == 0 else "")
            if len(models) > 1:
                label = f"{m.name}: {label}"
            ci = res.get("ci", {})
            intervals = ci.get("intervals", {})
            cells = []
            for k in keys:
                value = res["metrics"].get(k)
                iv = intervals.get(k)
                cells.append(
                    f"<td>{_num(value)}<br><span class='ci'>"
                    + (f"[{iv[0]:.2f}, {iv[1]:.2f}]" if iv else "")
                    + "</span></td>"
                )
            rows.append(
                f"<tr class='{'default' if i == 0 else ''}'><td>{_e(label)}</td>{''.join(cells)}</tr>"
            )
    first = models[0].results[task][0]
    ci = first.get("ci", {})
    note = (
        f"{ci.get('level', 0.95):.0%} percentile bootstrap intervals, {ci.get('resamples')} seeded resamples "
        f"of {ci.get('n_units')} {ci.get('unit', 'expressions')} (seed {ci.get('seed')})."
    )
    return (
        f"<h3>{_e(task.upper())}</h3><div class='scroll'><table><tr><th>protocol</th>{head}</tr>"
        f"{''.join(rows)}</table></div>"
        f"<p class='sub'>{_e(note)}</p>"
    )


def _bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    """Horizontal bars (0-100) per label, one bar per series; an inline SVG."""
    colours = ("#3b6fb6", "#e07b00")
    bar, gap, left, width = 9, 7, 110, 190
    per = bar * len(series) + gap
    height = 24 + per * len(labels) + 16
    out = [
        f"<svg width='{left + width + 50}' height='{height}' "
        f"role='img' aria-label='{_e(title)}'><text x='0' y='13' font-size='12'>{_e(title)}</text>"
    ]
    for i, label in enumerate(labels):
        y = 24 + i * per
        out.append(
            f"<text x='{left - 6}' y='{y + bar * len(series) - 2}' font-size='11' text-anchor='end'>{_e(label)}</text>"
        )
        for j, (_, values) in enumerate(series):
            v = values[i]
            w = 0 if v is None else max(0.0, min(100.0, v)) * width / 100
            out.append(
                f"<rect x='{left}' y='{y + j * bar}' width='{w:.1f}' height='{bar - 1}' fill='{colours[j % 2]}'/>"
            )
            out.append(
                f"<text x='{left + w + 3:.1f}' y='{y + j * bar + bar - 2}' font-size='9'>{_num(v)}</text>"
            )
    axis_y = 24 + per * len(labels)
    out.append(f"<line x1='{left}' y1='{axis_y}' x2='{left + width}' y2='{axis_y}' stroke='#999'/>")
    out.append(f"<text x='{left}' y='{axis_y + 12}' font-size='9'>0</text>")
    out.append(f"<text x='{left + width}' y='{axis_y + 12}' font-size='9' text-anchor='end'>100</text></svg>")
    return "".join(out)


def _breakdowns(models: Sequence[ModelAnalysis], order: dict[str, list[str]]) -> str:
    a = models[0]
    parts = []
    for dim, title in DIMENSIONS.items():
        values = order[dim]
        heads = ["value", "n"]
        cols: list[tuple[ModelAnalysis, str, str]] = []
        for task in a.tasks:
            for m in models:
                if task not in m.tasks:
                    continue
                metrics = list(m.results[task][0]["metrics"])
                keys = [HEADLINE[task]] if len(models) > 1 else metrics[:3]
                cols += [(m, task, k) for k in keys]
                prefix = f"{m.name} " if len(models) > 1 else ""
                heads += [f"{prefix}{task.upper()} {_metric(k)}" for k in keys]
        rows = []
        for v in values:
            cells = [f"<td>{_e(v)}</td><td>{a.breakdown_counts[dim].get(v, 0)}</td>"]
            cells += [
                f"<td>{_num(m.breakdowns[dim].get(v, {}).get(task, {}).get(k))}</td>" for m, task, k in cols
            ]
            rows.append(f"<tr>{''.join(cells)}</tr>")
        plots = []
        shown = values[:MAX_BARS]  # category values come most frequent first
        more = f" ({MAX_BARS} most frequent)" if len(values) > MAX_BARS else ""
        for task in a.tasks:
            key = HEADLINE[task]
            series = [
                (m.name, [m.breakdowns[dim].get(v, {}).get(task, {}).get(key) for v in shown])
                for m in models
                if task in m.tasks
            ]
            plots.append(_bars(f"{task.upper()} {_metric(key)} by {title}{more}", shown, series))
        parts.append(
            f"<section><h3>{_e(title)}</h3><div class='scroll'><table><tr>{''.join(f'<th>{_e(h)}</th>' for h in heads)}</tr>"
            f"{''.join(rows)}</table></div>{''.join(plots)}</section>"
        )
    legend = ""
    if len(models) > 1:
        legend = (
            "<p class='sub'>Bars: <span style='color:#3b6fb6'>&#9632;</span> "
            f"{_e(models[0].name)}, <span style='color:#e07b00'>&#9632;</span> {_e(models[1].name)}.</p>"
        )
    return f"{legend}<div class='breakdowns'>{''.join(parts)}</div>"


def _comparison(a: ModelAnalysis, b: ModelAnalysis, paired: dict[str, dict[str, Any]], pair_counts) -> str:
    parts = [
        "<p class='sub'>A = "
        f"{_e(a.name)}, B = {_e(b.name)}. A - B with a paired percentile bootstrap over the same resampled "
        "units, the statistics of <code>vgbench compare</code>; P(A not better) is the share of resamples "
        "where A - B &le; 0.</p>"
    ]
    for task, comp in paired.items():
        rows = []
        for key, m in comp["metrics"].items():
            ci = m["ci"]
            diff = m["diff"]
            cls = "" if diff is None or ci is None else "pos" if ci[0] > 0 else "neg" if ci[1] < 0 else ""
            p = m["p_a_not_better"]
            rows.append(
                f"<tr><td>{_e(_metric(key))}</td><td>{_num(m['a'])}</td><td>{_num(m['b'])}</td>"
                f"<td class='{cls}'>{_num(diff, True)}</td>"
                f"<td>{'-' if ci is None else f'[{ci[0]:+.2f}, {ci[1]:+.2f}]'}</td>"
                f"<td>{'-' if p is None else f'{p:.3f}'}</td></tr>"
            )
        parts.append(
            f"<h3>{_e(task.upper())} ({_e(comp['protocol'])}, {comp['n_units']} {_e(comp['unit'])}, "
            f"{comp['level']:.0%} CI, {comp['resamples']} resamples, seed {comp['seed']})</h3>"
            "<table><tr><th>metric</th><th>A</th><th>B</th><th>A - B</th><th>CI</th><th>P(A not better)</th></tr>"
            f"{''.join(rows)}</table>"
        )
    counts = "".join(
        f"<tr><td>{_e(label.format(a=a.name, b=b.name))}</td><td>{pair_counts.get(k, 0)}</td></tr>"
        for k, label in PAIRS.items()
    )
    parts.append(
        "<h3>Per expression (an expression is right when it has the outcome tag 'correct')</h3>"
        f"<table><tr><th>outcome</th><th>expressions</th></tr>{counts}</table>"
    )
    return "".join(parts)


def page(
    title: str,
    facts: Sequence[tuple[str, str]],
    models: Sequence[ModelAnalysis],
    breakdown_order: dict[str, list[str]],
    paired: dict[str, dict[str, Any]] | None,
    pair_counts: dict[str, int] | None,
    blank_canvas: bool,
) -> str:
    """The whole ``index.html`` (the gallery itself is filled by ``report.js`` from ``data.js``)."""
    a = models[0]
    facts_html = "".join(
        f"<tr><td>{_e(k)}</td><td style='text-align:left'>{_e(v)}</td></tr>" for k, v in facts
    )
    metrics = "".join(_metrics_table(models, task) for task in a.tasks)
    compare = ""
    if paired is not None and len(models) > 1:
        compare = f"<h2 id='compare'>Side by side</h2>{_comparison(models[0], models[1], paired, pair_counts or {})}"
    canvas = "<span>blank canvas of the image size (no images given)</span>" if blank_canvas else ""
    pair_select = "<label>pair <select id='f-q'></select></label>" if len(models) > 1 else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="stylesheet" href="report.css">
</head><body>
<h1>{_e(title)}</h1>
<table class="facts">{facts_html}</table>
<h2 id="metrics">Metrics</h2>
{metrics}
{compare}
<h2 id="breakdowns">Breakdowns (default protocol of each task)</h2>
{_breakdowns(models, breakdown_order)}
<h2 id="gallery-title">Expressions</h2>
<div class="legend"><span><i class="sw gt"></i>ground truth (boxes, mask)</span>
<span><i class="sw pred"></i>prediction (boxes kept at score &ge; 0.7, mask)</span>
<span><i class="sw pts"></i>prior points</span>{canvas}</div>
<div class="controls">
<label>outcome{" of " + _e(a.name) if len(models) > 1 else ""} <select id="f-o"></select></label>
{pair_select}
<label>breakdown <select id="f-g"></select></label>
<label>sort <select id="f-s"></select></label>
<button id="prev" type="button">&larr; prev</button><span id="page"></span>
<button id="next" type="button">next &rarr;</button>
<span id="count"></span>
</div>
<div id="gallery"></div>
<script src="data.js"></script>
<script src="report.js"></script>
</body></html>
"""
