"""Public scoring API: the class `Evaluator` and the functions `evaluate` / `score_files`.

Both share `ScoreState` (sums and counts) and the protocols' helpers, so they cannot drift apart.

Example::

    >>> from evaluators import Evaluator, rle
    >>> import numpy as np
    >>> gt = np.zeros((4, 4), np.uint8); gt[:2] = 1
    >>> target = {"expr_id": "a", "height": 4, "width": 4, "no_target": False,
    ...           "targets": [{"bbox": [0, 0, 4, 2], "iscrowd": False}], "mask": rle.encode(gt)}
    >>> ev = Evaluator("gres")
    >>> _ = ev.update({"expr_id": "a", "mask": rle.encode(gt), "no_target": False}, target)
    >>> ev.compute()["metrics"]["giou"]
    100.0

Arrays are accepted where a model holds them: a dense ``[H, W]`` mask (numpy or torch, nonzero = foreground) is
encoded to RLE, boxes and scores may be arrays or tensors, and a prediction without ``expr_id`` takes the
target's::

    >>> ev = Evaluator("gres")
    >>> _ = ev.update({"mask": gt, "no_target": False}, target)
    >>> ev.compute()["metrics"]["ciou"]
    100.0
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import rle
from evaluators.bootstrap import bootstrap_ci
from evaluators.errors import InputError
from evaluators.protocols import get_protocol
from evaluators.readers import PredictionRecords, PredictionsFile, iter_targets, target_files
from evaluators.records import TARGET_TYPES, Prediction, Target, check_masks, parse_prediction, parse_target
from evaluators.results import clean_metrics, provenance
from evaluators.state import ScoreState

__all__ = ["Evaluation", "Evaluator", "check_coverage", "evaluate", "score_files", "validate_files"]

MAX_LISTED = 5


def _is_array(value: Any) -> bool:
    """A numpy array or an array-like tensor (torch, jax: anything with ``__array__`` or ``detach``)."""
    return isinstance(value, np.ndarray) or hasattr(value, "__array__") or hasattr(value, "detach")


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        value = value.detach().cpu()
    return np.asarray(value)


def _plain(value: Any) -> Any:
    """Arrays and tensors to lists / Python scalars (masks are handled by the caller)."""
    if _is_array(value):
        arr = _to_numpy(value)
        return arr.item() if arr.ndim == 0 else arr.tolist()
    return value


def _mask_field(value: Any) -> Any:
    if _is_array(value) and _to_numpy(value).ndim == 2:
        return rle.encode(_to_numpy(value))
    return value


def _plain_prediction(record: Mapping, target: Target) -> dict[str, Any]:
    """A predictions record as `parse_prediction` reads it: dense masks to RLE, arrays to lists, and the
    target's ``expr_id`` where the record has none."""
    out = dict(record)
    out.setdefault("expr_id", target.expr_id)
    if "mask" in out:
        out["mask"] = _mask_field(out["mask"])
    if "points" in out:
        out["points"] = _plain(out["points"])
    for key in ("no_target", "no_target_score"):
        if key in out:
            out[key] = _plain(out[key])
    instances = out.get("instances")
    if isinstance(instances, list):
        fixed = []
        for inst in instances:
            if isinstance(inst, Mapping):
                inst = {k: _mask_field(v) if k == "segmentation" else _plain(v) for k, v in inst.items()}
            fixed.append(inst)
        out["instances"] = fixed
    return out


class Evaluator:
    """Incremental scorer of one task under one protocol.

    ``update(prediction, target)`` takes parsed records or plain dicts (a predictions record and a
    unified row); in a dict, masks may be dense ``[H, W]`` numpy arrays or torch tensors, boxes, scores and
    points arrays or tensors, and ``expr_id`` may be left out (the target's is used). ``merge(other)`` adds
    another evaluator's state; ``compute()`` returns the results dict (``metrics``, ``breakdown``, ``counts``,
    ``notes``, protocol fields); ``compute(ci=0.95)`` adds paired-bootstrap intervals and needs the per-expression
    contributions, kept with ``Evaluator(..., keep_rows=True)``.
    """

    def __init__(
        self, task: str, protocol: str | None = None, resize: int | None = None, keep_rows: bool = False
    ):
        self.protocol = get_protocol(task, protocol, resize)
        self.state = ScoreState(self.protocol, keep_rows=keep_rows)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.state.rows

    def update(self, prediction: Prediction | Mapping | None, target: Target | Mapping) -> dict[str, Any]:
        """Score one expression. ``prediction=None`` scores a missing record as empty."""
        if not isinstance(target, Target):
            target = parse_target(dict(target), "<target>")
        missing = prediction is None
        if missing:
            prediction = Prediction.empty(target.expr_id)
        elif not isinstance(prediction, Prediction):
            prediction = parse_prediction(_plain_prediction(prediction, target), "<prediction>")
        if prediction.expr_id != target.expr_id:
            raise InputError(
                f"prediction expr_id {prediction.expr_id!r} != target expr_id {target.expr_id!r}"
            )
        return self.state.update(prediction, target, missing=missing)

    def merge(self, other: Evaluator) -> Evaluator:
        self.state.merge(other.state)
        return self

    def compute(self, ci: float | None = None, seed: int = 0, resamples: int = 1000) -> dict[str, Any]:
        metrics, breakdown, notes = self.state.compute()
        metrics, nan = clean_metrics(metrics)
        if nan:
            notes = {**notes, "nan_metrics": nan}
        counts = dict(self.state.counts)
        counts["target_types"] = {tt: self.state.type_counts.get(tt, 0) for tt in TARGET_TYPES}
        result = {
            "task": self.protocol.task,
            "protocol": self.protocol.name,
            "protocol_version": self.protocol.version,
            "protocol_params": self.protocol.protocol_params(),
            "metrics": metrics,
            "counts": counts,
            "breakdown": {tt: clean_metrics(m)[0] for tt, m in breakdown.items()},
            "notes": notes,
        }
        if ci is not None:
            if not self.state.keep_rows:
                raise ValueError(
                    "compute(ci=...): confidence intervals resample the per-expression contributions; create the "
                    "evaluator with Evaluator(task, keep_rows=True)"
                )
            result["ci"] = bootstrap_ci(self.protocol, self.state.contributions, ci, resamples, seed)
        return result


@dataclass
class Evaluation:
    """What `score_files` returns: the results dict and the evaluator (rows, state)."""

    results: dict[str, Any]
    evaluator: Evaluator
    warnings: list[str] = field(default_factory=list)


def _join(
    predictions: PredictionsFile, targets: Iterable[Target], allow_missing: bool, visit
) -> tuple[int, int]:
    """Walk targets, calling ``visit(pred_or_None, target)``; check unknown and missing ids."""
    seen: set[str] = set()
    missing: list[str] = []
    take, see = predictions.take, seen.add
    for target in targets:
        expr_id = target.expr_id
        if expr_id in seen:
            raise InputError(
                f"{target.where} expr_id={expr_id!r} field='expr_id': duplicate expr_id in the targets"
            )
        see(expr_id)
        pred = take(expr_id)
        if pred is not None:
            visit(pred, target)
        else:
            missing.append(expr_id)
            if allow_missing:
                visit(None, target)
    check_coverage(predictions, seen, missing, allow_missing)
    return len(seen), len(missing)


def check_coverage(
    predictions: PredictionsFile, target_ids: Container[str], missing: Sequence[str], allow_missing: bool
) -> None:
    """`InputError` for a record whose expr_id is not among ``target_ids`` (the first, with the count), or
    for target expressions without a record (``missing``, target order) unless ``allow_missing``."""
    unknown = [i for i in predictions.ids if i not in target_ids]
    if unknown:
        first = predictions.get(unknown[0])
        raise InputError(
            f"{first.where} expr_id={unknown[0]!r} field='expr_id': unknown expr_id, not in the targets "
            f"({len(unknown)} unknown in all)"
        )
    if missing and not allow_missing:
        listed = ", ".join(repr(i) for i in missing[:MAX_LISTED])
        raise InputError(
            f"{predictions.path}: {len(missing)} target expression(s) have no prediction (e.g. {listed}); "
            "pass --allow-missing to score them as empty predictions"
        )


def score_files(
    task: str,
    predictions: str | Path,
    targets: str | Path,
    config: str | None = None,
    split: str | None = None,
    protocol: str | None = None,
    resize: int | None = None,
    allow_missing: bool = False,
    keep_rows: bool = False,
    ci: float | None = None,
    seed: int = 0,
) -> Evaluation:
    """Score a predictions file against a targets file or a built dataset (config + split).

    The record and target masks are validated by `check_masks` just before scoring, in the same C pass
    that intersects them (the files are read with ``check_counts=False``)."""
    evaluator = Evaluator(task, protocol, resize, keep_rows=keep_rows or ci is not None)
    files = target_files(targets, config, split)
    state = evaluator.state

    fast = getattr(evaluator.protocol, "pair_scorer", None)
    fast = fast(state) if fast is not None else None

    def score(pred: Prediction | None, target: Target) -> None:  # the join matched the expr_ids
        if fast is not None and pred is not None and fast(pred, target):
            return  # the common pair, scored as below
        check_masks(pred, target)
        if pred is None:
            state.score(Prediction.empty(target.expr_id), target, missing=True)
        else:
            state.score(pred, target)

    with PredictionsFile(predictions, check_counts=False) as preds:
        _join(preds, iter_targets(targets, config, split, check_counts=False), allow_missing, score)
        digest = preds.sha256  # hashed while read (the join reads to the end), else None: read again
    results = evaluator.compute(ci=ci, seed=seed)
    results.update(provenance(predictions, targets, files, config, split, predictions_sha256=digest))
    return Evaluation(results=results, evaluator=evaluator)


def validate_files(
    task: str,
    predictions: str | Path,
    targets: str | Path,
    config: str | None = None,
    split: str | None = None,
    protocol: str | None = None,
    allow_missing: bool = False,
) -> dict[str, int]:
    """Check a predictions file against the targets without scoring; raises `InputError` on a defect."""
    from evaluators.protocols.base import check_required
    from evaluators.records import check_prediction_size

    proto = get_protocol(task, protocol)

    def check(pred: Prediction | None, target: Target) -> None:
        if pred is not None:
            check_prediction_size(pred, (target.height, target.width))
            check_required(proto, pred)

    with PredictionsFile(predictions) as preds:
        n, missing = _join(preds, iter_targets(targets, config, split), allow_missing, check)
        return {"expressions": n, "predictions": len(preds), "missing": missing}


def evaluate(
    task: str,
    predictions: Iterable[Mapping] | str | Path,
    targets: Iterable[Mapping] | str | Path,
    protocol: str | None = None,
    resize: int | None = None,
    allow_missing: bool = False,
    config: str | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Functional API: score predictions (records or a file) against targets (rows or a file/dataset).

    Returns the results dict (``metrics`` in percent, ``None`` for empty denominators).
    """
    if isinstance(predictions, (str, Path)) and isinstance(targets, (str, Path)):
        return score_files(task, predictions, targets, config, split, protocol, resize, allow_missing).results
    if isinstance(targets, (str, Path)):
        target_iter = iter_targets(targets, config, split)
    else:
        target_iter = (parse_target(dict(row), f"targets:[{i}]") for i, row in enumerate(targets))
    evaluator = Evaluator(task, protocol, resize)
    preds = (
        PredictionsFile(predictions)
        if isinstance(predictions, (str, Path))
        else PredictionRecords(predictions)
    )
    with preds:
        _join(preds, target_iter, allow_missing, evaluator.update)
    return evaluator.compute()
