"""The protocol interface and the helpers every protocol shares.

A protocol turns one (prediction, target) pair into a per-sample row and a *contribution*: a mapping
of named numbers whose sums are the protocol's state (`evaluators.accumulate.Sums`). ``compute`` maps
the sums to the metrics. Grouped protocols (R-RefCOCO) first sum expression contributions per unit
(``unit_key``), then turn each unit's sums into one unit contribution (``unit_contribution``).

Every protocol declares its state: ``state_fields`` (the fields of an expression contribution) and, when
grouped, ``unit_fields`` (those of a unit contribution), each ``{name: COUNT | SUM}`` from
`evaluators.accumulate.declare_state`. A contribution or a read naming any other field raises
`evaluators.accumulate.StateFieldError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evaluators import rle
from evaluators.accumulate import Sums
from evaluators.errors import InputError, locate
from evaluators.records import Prediction, Target

SCORE_THRESHOLD = 0.7


def kept_f32(scores: np.ndarray, threshold: float = SCORE_THRESHOLD) -> np.ndarray:
    """``score >= threshold`` after rounding the scores to float32, compared in float64 (bool array).

    A float32 "0.7" is 0.699999988 and is therefore *not* kept, as in the official gRefCOCO code.
    """
    return scores.astype(np.float32).astype(np.float64) >= threshold


def any_above_f32_strict(scores: np.ndarray, threshold: float = SCORE_THRESHOLD) -> bool:
    """Some ``score > threshold`` (strict) after rounding to float32, as InstanceVG's tensors do."""
    return bool((scores.astype(np.float32).astype(np.float64) > threshold).any())


def ranked(pred: Prediction, dtype=np.float64, keep: np.ndarray | None = None) -> np.ndarray:
    """Indices of the instances ordered by ``(score, x1, y1, x2, y2)`` descending, as the official code
    sorts (score, box) pairs; keys in ``dtype``. ``keep`` (bool) restricts to some instances."""
    index = np.arange(len(pred.scores)) if keep is None else np.flatnonzero(keep)
    if index.size <= 1:
        return index
    b = pred.boxes[index].astype(dtype)
    x1, y1 = b[:, 0], b[:, 1]
    keys = (y1 + b[:, 3], x1 + b[:, 2], y1, x1, pred.scores[index].astype(dtype))  # lexsort: last is primary
    return index[np.lexsort(keys)[::-1]]


def top_index(pred: Prediction) -> int | None:
    """The top-scoring instance; equal scores go to the larger ``(x1, y1, x2, y2)`` tuple."""
    order = ranked(pred)
    return int(order[0]) if order.size else None


def fail(pred: Prediction, fld: str, reason: str) -> InputError:
    return InputError(f"{locate(pred.where, None, pred.expr_id, fld)}: {reason}")


def kept_instances_mask(pred: Prediction, target: Target) -> rle.RLE:
    """The expression mask of a record: its ``mask``, else the union of the ``segmentation`` of the
    instances kept at score >= 0.7 (float32). Fields are checked by `check_required`."""
    if pred.mask is not None:
        return pred.mask
    kept = np.flatnonzero(kept_f32(pred.scores))
    return rle.union([pred.segmentations[i] for i in kept], target.height, target.width)


@dataclass
class MaskPair:
    """Areas of a prediction / ground-truth pair: ``inter = |P AND G|``, ``union = |P OR G|``, ``pred = |P|``."""

    inter: int
    union: int
    pred: int

    @property
    def iou(self) -> float:
        return self.inter / self.union if self.union else 0.0


def mask_pair(pred_mask: rle.RLE, gt_mask: rle.RLE, resize: int | None) -> MaskPair:
    """I, U and |P| on the RLEs (no dense decode), or after nearest-resizing both to ``resize``^2."""
    if resize:
        pred_mask, gt_mask = rle.resize_nearest(pred_mask, resize), rle.resize_nearest(gt_mask, resize)
    inter, area_pred, area_gt = rle.overlap(pred_mask, gt_mask)
    return MaskPair(inter=inter, union=area_pred + area_gt - inter, pred=area_pred)


def cover_fraction(points: tuple[tuple[float, float], ...] | None, target: Target) -> float:
    """Share of the target boxes containing at least one point (borders included)."""
    boxes = target.boxes
    if not len(boxes):
        return 0.0
    if not points:
        return 0.0
    pts = np.asarray(points, dtype=np.float64)
    x1, y1 = boxes[:, 0:1], boxes[:, 1:2]
    x2, y2 = x1 + boxes[:, 2:3], y1 + boxes[:, 3:4]
    inside = (
        (pts[None, :, 0] >= x1) & (pts[None, :, 0] <= x2) & (pts[None, :, 1] >= y1) & (pts[None, :, 1] <= y2)
    )
    return float(inside.any(axis=1).mean())


@dataclass(frozen=True)
class Protocol(ABC):
    """A named, versioned scoring protocol. Subclasses set the class variables and ``score``/``compute``."""

    task: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""
    sources: ClassVar[tuple[str, ...]] = ()
    metric_keys: ClassVar[tuple[str, ...]] = ()
    grouped: ClassVar[bool] = False
    needs: ClassVar[str] = "mask"  # "boxes" or "mask": what a record must carry
    state_fields: ClassVar[Mapping[str, str]] = {}  # expression contribution: {field: COUNT | SUM}
    unit_fields: ClassVar[Mapping[str, str]] = {}  # grouped only: unit contribution fields
    resize: int | None = None  # compare masks nearest-resized to resize x resize (--resize)

    def expression_sums(self) -> Sums:
        """An empty state of expression contributions (``state_fields``)."""
        return Sums(self.state_fields, f"protocol {self.name!r}")

    def metric_sums(self) -> Sums:
        """An empty state of what ``compute`` reads: unit contributions if grouped, else expression ones."""
        if self.grouped:
            return Sums(self.unit_fields, f"protocol {self.name!r} (units)")
        return self.expression_sums()

    def protocol_params(self) -> dict[str, Any]:
        return {**self.default_params(), "resize": self.resize}

    def default_params(self) -> dict[str, Any]:
        return {}

    @abstractmethod
    def score(self, pred: Prediction, target: Target) -> tuple[dict[str, Any], dict[str, float | int]]:
        """One expression -> (per-sample row, contribution)."""

    @abstractmethod
    def compute(self, sums: Sums) -> dict[str, float | None]:
        """State -> metrics (percent; ``None`` for an empty denominator)."""

    # Grouped protocols only.
    def unit_key(self, target: Target) -> Any:
        return None

    def unit_contribution(self, unit: Sums) -> dict[str, float | int]:
        return {}

    def notes(self, sums: Sums) -> dict[str, Any]:
        """Extra facts for the results' ``notes`` (e.g. how the no-target decision was obtained)."""
        return {}


def check_required(protocol: Protocol, pred: Prediction) -> None:
    """Raise `InputError` if ``pred`` lacks what ``protocol``'s task needs (docs/formats.md#predictions-file).

    For a mask task a record needs ``mask``, or a non-empty ``instances`` list whose every instance
    carries ``segmentation``, or -- to say "no mask at all" -- ``"instances": []`` with
    ``"no_target": true`` (scored as the empty mask). A record with neither ``mask`` nor any
    ``segmentation`` is otherwise invalid. A missing record (``--allow-missing``) is not checked."""
    if protocol.needs == "boxes":
        if not pred.has_instances:
            raise fail(pred, "instances", f"missing (required for {protocol.task})")
        return
    if pred.mask is None:
        if not pred.has_instances:
            raise fail(
                pred, "mask", f"missing (required for {protocol.task}, or instances with segmentation)"
            )
        if not pred.segmentations and pred.no_target is not True:
            raise fail(
                pred,
                "mask",
                f"missing (required for {protocol.task}): no instance to take it from; write an empty "
                "'mask', or 'no_target': true",
            )
        for index, seg in enumerate(pred.segmentations):
            if seg is None:
                raise fail(pred, f"instances[{index}].segmentation", "missing: no 'mask' to fall back on")
