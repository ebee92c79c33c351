"""Score one predictions file for the report: every protocol of every task that fits the data, the
bootstrap intervals, per-expression outcomes, breakdowns and what each card draws.

Only public names of the evaluators package and its modules are used: `evaluators.Evaluator`
(update / compute with ``ci``: the numbers of ``vgbench eval``), `evaluators.PredictionsFile`, the
protocol registry, `evaluators.rle`, `evaluators.accumulate.Sums` (exact sums for the breakdowns),
`evaluators.protocols.base.kept_f32` (the 0.7 score threshold in float32) and
`evaluators.compare_evaluators` (the statistics of ``vgbench compare``).

Outcome tags of an expression (`TAGS`), from the default protocols' per-sample rows:

- ``nt_right`` / ``nt_wrong``: a no-target expression answered with nothing / with a box or mask;
- ``said_empty``: a targeted expression answered with "no target";
- ``missed``: at least one target box not matched (FN > 0; box tasks);
- ``extra``: at least one predicted box matching no target (FP > 0; box tasks);
- ``wrong_count``: the number of kept boxes differs from the number of target boxes (GREC);
- ``low_iou``: targeted, something predicted, IoU < 0.5 (mask IoU when the task has masks, else box IoU);
- ``correct``: none of the failure tags above.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import DEFAULTS, PROTOCOLS, Evaluator, InputError, Prediction, PredictionsFile, Protocol, rle
from evaluators.api import check_coverage
from evaluators.bootstrap import unit_rows
from evaluators.progress import progress
from evaluators.protocols.base import kept_f32
from evaluators.results import HEADLINE, clean_metrics
from vgbench.report.rows import Expression

__all__ = [
    "BOX_TASKS",
    "DIMENSIONS",
    "HEADLINE",
    "TAGS",
    "ModelAnalysis",
    "analyse",
    "breakdown_values",
    "compare_models",
    "infer_tasks",
    "subset_metrics",
]

log = logging.getLogger(__name__)

BOX_TASKS = ("rec", "grec")
TAGS = {
    "correct": "correct",
    "nt_right": "no-target: right",
    "nt_wrong": "no-target: answered with a box or mask",
    "said_empty": "target present: said no target",
    "missed": "missed target (FN)",
    "extra": "extra box (FP)",
    "wrong_count": "wrong number of boxes",
    "low_iou": "low IoU (< 0.5)",
}
FAILURES = ("nt_wrong", "said_empty", "missed", "extra", "wrong_count", "low_iou")
DIMENSIONS = {
    "target_type": "target type",
    "n_targets": "number of targets",
    "size": "object size",
    "length": "expression length",
    "category": "category",
}
LOW_IOU = 0.5

# config-name prefix -> tasks scored on it (order: box task first)
_FAMILIES = (
    ("grefcoco", ("grec", "gres")),
    ("refzom", ("refzom",)),
    ("rrefcoco", ("rrefcoco",)),
    ("refcoco", ("rec", "res")),
)


def _bin(value: float, edges: Sequence[tuple[float, str]], last: str) -> str:
    for edge, label in edges:
        if value < edge:
            return label
    return last


def breakdown_values(expr: Expression) -> dict[str, str]:
    """The breakdown value of each dimension of `DIMENSIONS` for one expression.

    size: COCO bins of the mean target area (small < 32^2, medium < 96^2 pixels, large);
    length: words of the sentence; category: the single category, ``several`` or ``none``.
    """
    t = expr.target
    n = len(expr.areas)
    if t.no_target or n == 0:
        size = "no target"
    else:
        size = _bin(sum(expr.areas) / n, ((32**2, "small"), (96**2, "medium")), "large")
    words = len(expr.sentence.split())
    cats = sorted(set(expr.categories))
    return {
        "target_type": t.target_type,
        "n_targets": str(n) if n < 4 else "4+",
        "size": size,
        "length": _bin(
            words, ((3, "1-2 words"), (5, "3-4 words"), (7, "5-6 words"), (10, "7-9 words")), "10+ words"
        ),
        "category": "none" if not cats else cats[0] if len(cats) == 1 else "several",
    }


def infer_tasks(expressions: Sequence[Expression]) -> tuple[str, ...]:
    """Tasks of the expressions' config (the ``expr_id`` prefix); by target types when unknown."""
    prefixes = {e.target.expr_id.split("/", 1)[0] for e in expressions}
    for prefix, tasks in _FAMILIES:
        if prefixes and all(p.startswith(prefix) for p in prefixes):
            return tasks
    generalized = any(e.target.no_target or e.target.target_type == "multi" for e in expressions)
    return ("grec", "gres") if generalized else ("rec", "res")


@dataclass
class ModelAnalysis:
    """Everything the report shows of one predictions file (lists in expression order).

    ``results[task]``: one results dict per protocol (default first) with ``ci``;
    ``outcomes[i]``: the card fields of expression i; ``drawings[i]``: ``(boxes xywh, mask RLE | None,
    points)`` of the prediction; ``breakdowns[dim][value][task]``: metrics of the default protocol.
    """

    name: str
    path: Path
    tasks: tuple[str, ...]
    results: dict[str, list[dict[str, Any]]]
    outcomes: list[dict[str, Any]]
    drawings: list[tuple[list[list[float]], dict | None, list[list[float]]]]
    breakdowns: dict[str, dict[str, dict[str, dict[str, float | None]]]]
    breakdown_counts: dict[str, dict[str, int]]
    default_evaluators: dict[str, Evaluator] = field(repr=False, default_factory=dict)


def subset_metrics(protocol: Protocol, contributions: Sequence[tuple[Any, dict]]) -> dict[str, float | None]:
    """The protocol's metrics over a subset of scored expressions, from their contributions (as kept by
    ``Evaluator(..., keep_rows=True).state.contributions``), summed exactly as the evaluator sums them
    (grouped protocols: per unit first), so no expression is scored twice."""
    total = protocol.metric_sums()
    for row in unit_rows(protocol, contributions)[1]:
        total.add(row)
    return clean_metrics(protocol.compute(total))[0]


def _maskable(pred: Prediction) -> bool:
    return pred.mask is not None or (pred.has_instances and all(s is not None for s in pred.segmentations))


def _supports(task: str, pred: Prediction | None) -> bool:
    """Whether a record carries what ``task`` needs (a missing record is scored as empty: yes)."""
    if pred is None:
        return True
    return pred.has_instances if PROTOCOLS[DEFAULTS[task]].needs == "boxes" else _maskable(pred)


def _display_mask(pred: Prediction, height: int, width: int) -> dict | None:
    if pred.mask is not None:
        return pred.mask
    if not pred.has_instances or any(s is None for s in pred.segmentations):
        return None
    keep = np.flatnonzero(kept_f32(pred.scores))
    return rle.union([pred.segmentations[i] for i in keep], height, width)


def _kept_boxes(pred: Prediction) -> list[list[float]]:
    keep = np.flatnonzero(kept_f32(pred.scores))
    return [[round(float(v), 2) for v in pred.boxes[i]] for i in keep]


def _outcome(expr: Expression, rows: dict[str, dict[str, Any]], mask_pixels: int | None) -> dict[str, Any]:
    """The card fields of one expression from the default protocols' per-sample rows."""
    t = expr.target
    box_task = next((k for k in rows if k in BOX_TASKS), None)
    mask_task = next((k for k in rows if k not in BOX_TASKS), None)
    out: dict[str, Any] = {"iou": None, "box_iou": None, "tp": None, "fp": None, "fn": None}
    pred_nt = None
    if box_task == "grec":
        r = rows["grec"]
        out.update(tp=r["tp"], fp=r["fp"], fn=r["fn"])
        pred_nt = bool(r["pred_no_target"])
    elif box_task == "rec":
        r = rows["rec"]
        hit = r["iou"] >= LOW_IOU
        out.update(
            box_iou=r["iou"], tp=int(hit), fp=int(r["pred_bbox"] is not None and not hit), fn=int(not hit)
        )
        pred_nt = r["pred_bbox"] is None
    if mask_task is not None:
        r = rows[mask_task]
        iou = r.get("iou")
        if not t.no_target and iou is not None and not (isinstance(iou, float) and math.isnan(iou)):
            out["iou"] = float(iou)
        if pred_nt is None:
            pred_nt = bool(r["pred_no_target"]) if "pred_no_target" in r else mask_pixels == 0
    tags = []
    if t.no_target:
        tags.append("nt_right" if pred_nt else "nt_wrong")
    elif pred_nt:
        tags.append("said_empty")
    else:
        if out["fn"]:
            tags.append("missed")
        if out["fp"] and box_task == "grec":
            tags.append("extra")
        if box_task == "grec" and out["tp"] + out["fp"] != out["tp"] + out["fn"]:
            tags.append("wrong_count")
        iou = out["iou"] if mask_task is not None else out["box_iou"]
        if iou is not None and iou < LOW_IOU:
            tags.append("low_iou")
    if not any(tag in FAILURES for tag in tags):
        tags.insert(0, "correct")
    out["pred_nt"] = pred_nt
    out["tags"] = tags
    out["correct"] = "correct" in tags
    return out


def analyse(
    name: str,
    predictions: str | Path,
    expressions: Sequence[Expression],
    tasks: Sequence[str] | None = None,
    allow_missing: bool = False,
    ci: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    on_drawing: Callable[[int, tuple[list[list[float]], dict | None, list[list[float]]]], None] | None = None,
    quiet: bool = False,
) -> ModelAnalysis:
    """Score ``predictions`` on ``expressions`` under every protocol of ``tasks`` (default: inferred).

    ``on_drawing(i, drawing)`` is called as soon as expression ``i``'s drawing is known (the report
    starts its thumbnails while the scoring goes on)."""
    explicit = tasks is not None
    tasks = tuple(tasks) if tasks else infer_tasks(expressions)
    with PredictionsFile(predictions) as preds:
        missing = [e.target.expr_id for e in expressions if e.target.expr_id not in preds]
        check_coverage(preds, {e.target.expr_id for e in expressions}, missing, allow_missing)
        evaluators = {
            task: [Evaluator(task, DEFAULTS[task], keep_rows=True)]
            + [
                Evaluator(task, p, keep_rows=True)
                for p, cls in PROTOCOLS.items()
                if cls.task == task and p != DEFAULTS[task]
            ]
            for task in tasks
        }
        members: dict[tuple[str, str], list[int]] = {}
        group_counts: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
        groups, pixels, missing_flags, drawings = [], [], [], []
        scoring = progress(
            expressions, len(expressions), f"report: scoring {name}", quiet=quiet, unit="expr", leave=True
        )
        for i, expr in enumerate(scoring):
            t = expr.target
            pred = preds.get(t.expr_id) if t.expr_id in preds else None
            for task in list(evaluators):
                if not explicit and not _supports(task, pred):
                    # a task the records do not support is left out (named with --task, it is an error)
                    log.info(
                        "report: %s: %s lacks what %s needs; %s left out", preds.path, t.expr_id, task, task
                    )
                    del evaluators[task]
            if not evaluators:
                raise InputError(
                    f"{pred.where} expr_id={t.expr_id!r} field='instances/mask': the records carry neither "
                    f"boxes nor masks for {'/'.join(tasks)}"
                )
            for evs in evaluators.values():
                for ev in evs:
                    ev.update(pred, t)
            values = breakdown_values(expr)
            for dim, value in values.items():
                group_counts[dim][value] = group_counts[dim].get(value, 0) + 1
                members.setdefault((dim, value), []).append(i)
            shown = pred if pred is not None else Prediction.empty(t.expr_id)
            mask = _display_mask(shown, t.height, t.width)
            groups.append(values)
            pixels.append(None if mask is None else rle.area(mask))
            missing_flags.append(pred is None)
            drawings.append((_kept_boxes(shown), mask, [list(p) for p in (shown.points or ())]))
            if on_drawing is not None:
                on_drawing(i, drawings[-1])
    tasks = tuple(evaluators)
    outcomes = []
    for i, expr in enumerate(expressions):  # from the rows of the tasks kept to the end
        outcome = _outcome(expr, {task: evs[0].rows[i] for task, evs in evaluators.items()}, pixels[i])
        outcome["groups"] = groups[i]
        outcome["missing"] = missing_flags[i]
        outcomes.append(outcome)
    results = {
        task: [ev.compute(ci=ci, seed=seed, resamples=resamples) for ev in evs]
        for task, evs in evaluators.items()
    }
    breakdowns: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {d: {} for d in DIMENSIONS}
    for (dim, value), index in members.items():
        for task, evs in evaluators.items():
            contributions = evs[0].state.contributions
            breakdowns[dim].setdefault(value, {})[task] = subset_metrics(
                evs[0].protocol, [contributions[i] for i in index]
            )
    return ModelAnalysis(
        name=name,
        path=Path(predictions),
        tasks=tasks,
        results=results,
        outcomes=outcomes,
        drawings=drawings,
        breakdowns=breakdowns,
        breakdown_counts=group_counts,
        default_evaluators={task: evs[0] for task, evs in evaluators.items()},
    )


def compare_models(
    a: ModelAnalysis, b: ModelAnalysis, ci: float = 0.95, resamples: int = 1000, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Per task, the paired bootstrap A - B of the default protocol, as ``vgbench compare`` computes it."""
    from evaluators import compare_evaluators

    out = {}
    for task in a.tasks:
        if task not in b.tasks:
            continue
        ev_a, ev_b = a.default_evaluators[task], b.default_evaluators[task]
        comparison = compare_evaluators(ev_a, ev_b, ci=ci, resamples=resamples, seed=seed)
        out[task] = {**comparison.to_dict(), "protocol": comparison.protocol}
    return out
