"""Leaderboard tables, the model-vs-baselines comparison, and the summary of ``vgbench demo``.

The tables are of the synthetic benchmark only: they are written under ``OUT/leaderboard/`` and say
so in their title; they are never merged with the published numbers of ``leaderboards/``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from evaluators.results import DISPLAY, HEADLINE
from vgbench.demo.settings import EVALS, MODEL_NAME

__all__ = ["CHECKS", "TITLE", "build_summary", "compare", "format_summary", "write_leaderboard"]

log = logging.getLogger(__name__)

TITLE = "vgbench synthetic benchmark (vgbench demo; not comparable with published numbers)"
# (task, metric key) on which the trained model must beat every text-blind baseline
CHECKS = (("grec", "f1_score"), ("gres", "giou"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def metrics_of(results: dict[str, dict[str, Path]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{model: {task: metrics}}`` from the results files."""
    return {m: {t: _load(p)["metrics"] for t, p in tasks.items()} for m, tasks in results.items()}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_leaderboard(out_dir: Path, results: dict[str, dict[str, Path]]) -> list[Path]:
    """Render the synthetic leaderboard, one table per task (rows: models), with
    `leaderboards.render_results_table` (Markdown, CSV, and a PNG of the task's `HEADLINE` metric: GREC
    F1score and GRES gIoU are the verdict's)."""
    from leaderboards import render_results_table

    written: list[Path] = []
    tasks = list(dict.fromkeys(t for per_model in results.values() for t in per_model))
    for task in tasks:
        files = [(model, per_task[task]) for model, per_task in results.items() if task in per_task]
        written += render_results_table(
            files,
            out_dir,
            ["md", "csv", "png"],
            f"{TITLE}: {task}",
            name=f"synthetic_{task}",
            plot_metric=HEADLINE.get(task),
        )
    return written


def compare(
    metrics: dict[str, dict[str, dict[str, float | None]]], model: str, text_blind: list[str]
) -> dict:
    """For each of `CHECKS`: the model's value, every text-blind baseline's, the best of them, the
    margin (model minus best, in points) and whether the model is strictly better."""
    out = {}
    for task, key in CHECKS:
        mine = metrics[model][task].get(key)
        others = {b: metrics[b][task].get(key) for b in text_blind}
        best_name = max(others, key=lambda b: -1.0 if others[b] is None else others[b])
        best = others[best_name]
        beats = mine is not None and all(v is None or mine > v for v in others.values())
        margin = None if mine is None or best is None else round(mine - best, 4)
        out[f"{task}/{key}"] = {
            "model": mine,
            "baselines": others,
            "best_baseline": best_name,
            "best_baseline_value": best,
            "margin": margin,
            "beats_all": beats,
        }
    return out


def margin_intervals(
    comparison: dict,
    predictions: dict[str, dict[str, Path]],
    data: Path,
    model: str,
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """How sure each verdict is: a paired bootstrap over the evaluated expressions of the model minus the
    best text-blind baseline (`evaluators.compare_predictions`, the engine of ``vgbench compare``).

    Returns ``{"task/key": {"margin_ci": [lo, hi] in points, "ci_level", "p_model_not_better" (share of
    resamples where the model is not ahead), "n_expressions"}}``. The verdict itself stays the exact
    comparison of `compare`; the interval only says how much a split of this size can be trusted.
    """
    from evaluators import compare_predictions

    where = {task: (config, split) for task, config, split in EVALS}
    out = {}
    for name, c in comparison.items():
        task, key = name.split("/", 1)
        config, split = where[task]
        files = (
            predictions[model][f"{config}/{split}"],
            predictions[c["best_baseline"]][f"{config}/{split}"],
        )
        paired = compare_predictions(
            task, *files, data, config, split, ci=level, resamples=resamples, seed=seed
        )
        m = paired.metrics[key]
        out[name] = {
            "margin_ci": None if m.ci is None else [round(v, 4) for v in m.ci],
            "ci_level": level,
            "p_model_not_better": m.p_a_not_better,
            "n_expressions": paired.n_units,
        }
    return out


def build_summary(
    *,
    out: Path,
    settings: dict[str, Any],
    source: Path,
    data: Path,
    loaded: dict[str, int],
    training: dict[str, Any],
    results: dict[str, dict[str, Path]],
    tables: list[Path],
    figures: list[Path],
    timings: dict[str, float],
    comparison: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The content of ``OUT/summary.json``; ``comparison`` is `compare`'s, with `margin_intervals` joined."""
    from baselines import TEXT_BLIND

    metrics = metrics_of(results)
    return {
        "benchmark": "vgbench-synthetic",
        "settings": settings,
        "evaluated_on": [{"task": t, "config": c, "split": s} for t, c, s in EVALS],
        "model": MODEL_NAME,
        "text_blind_baselines": list(TEXT_BLIND),
        "comparison": comparison,
        "model_beats_text_blind": all(v["beats_all"] for v in comparison.values()),
        "metrics": metrics,
        "training": {k: v for k, v in training.items() if k != "metrics"}
        | {"last_eval": training.get("metrics")},
        "load_dataset_rows": loaded,
        "timings_s": timings,
        "paths": {
            "out": str(out),
            "source": str(source),
            "data": str(data),
            "run": str(out / "run"),
            "predictions": str(out / "predictions"),
            "results": {m: {t: str(p) for t, p in tasks.items()} for m, tasks in results.items()},
            "leaderboard": [str(p) for p in tables],
            "plots": [str(p) for p in figures],
            "summary": str(out / "summary.json"),
        },
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The text ``vgbench demo`` prints: where things are, the key numbers, the verdict."""
    paths, metrics, model = summary["paths"], summary["metrics"], summary["model"]
    lines = [f"vgbench demo: done in {summary['timings_s']['total']:.0f}s", ""]
    lines += [
        f"  data        {paths['data']}  (load_dataset checked: "
        + ", ".join(f"{k} {v} rows" for k, v in summary["load_dataset_rows"].items())
        + ")",
        f"  training    {paths['run']}  ({summary['training'].get('stopped')}, "
        f"{summary['training'].get('global_step')} of {summary['training'].get('planned_steps')} steps, "
        f"{summary['training'].get('elapsed_s', 0):.0f}s)",
        f"  predictions {paths['predictions']}",
        f"  results     {Path(paths['out']) / 'results'}",
        "  leaderboard " + ", ".join(paths["leaderboard"]),
        "  plots       " + ", ".join(paths["plots"]),
        *([f"  report      {paths['report']}  (open in a browser)"] if paths.get("report") else []),
        f"  summary     {paths['summary']}",
        "",
    ]
    header = ["task (config/split)", "metric", *metrics]
    rows = [header]
    for e in summary["evaluated_on"]:
        task = e["task"]
        key = HEADLINE.get(task) or next(iter(metrics[model][task]))
        rows.append(
            [f"{task} ({e['config']}/{e['split']})", DISPLAY.get(key, key)]
            + [_fmt(metrics[m][task].get(key)) for m in metrics]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += [
        "  " + "  ".join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    lines.append("")
    if summary["training"].get("cut_by_minutes"):
        lines.append(
            f"  WARNING: --minutes stopped training at step {summary['training'].get('global_step')} of "
            f"{summary['training'].get('planned_steps')}: not the default demo's model or numbers"
        )
    for name, c in summary["comparison"].items():
        verdict = "beats" if c["beats_all"] else "does NOT beat"
        margin = "n/a" if c["margin"] is None else f"{c['margin']:+.2f} points"
        if c.get("margin_ci"):
            lo, hi = c["margin_ci"]
            margin += f"; {100 * c['ci_level']:.0f}% CI [{lo:+.2f}, {hi:+.2f}] over {c['n_expressions']} expressions"
        lines.append(
            f"  {model} {verdict} every text-blind baseline on {name}: {_fmt(c['model'])} vs best "
            f"{c['best_baseline']} {_fmt(c['best_baseline_value'])} ({margin})"
        )
    return "\n".join(lines)
