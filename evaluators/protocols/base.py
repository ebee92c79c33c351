"""The protocol interface and the helpers every protocol shares.

A protocol turns one (prediction, target) pair into a per-sample row and a *contribution*: a mapping
of named numbers whose sums are the protocol's state (`evaluators.accumulate.Sums`). ``compute`` maps
the sums to the metrics. Grouped protocols (R-RefCOCO) first sum expression contributions per unit
(``unit_key``), then turn each unit's sums into one unit contribution (``unit_contribution``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evaluators import rle
from evaluators.accumulate import Sums
from evaluators.errors import InputError, locate
from evaluators.records import Instance, Prediction, Target

SCORE_THRESHOLD = 0.7


def keep_score_f32(score: float, threshold: float = SCORE_THRESHOLD) -> bool:
    """``score >= threshold`` after rounding the score to float32, compared in float64.

    A float32 "0.7" is 0.699999988 and is therefore *not* kept, as in the official gRefCOCO code.
    """
    return float(np.float32(score)) >= threshold


def above_score_strict(score: float, threshold: float = SCORE_THRESHOLD) -> bool:
    """``score > threshold`` (strict) after rounding to float32, as InstanceVG's tensors do."""
    return float(np.float32(score)) > threshold


def instance_order_key(inst: Instance) -> tuple[float, float, float, float, float]:
    """Sort key of the official code: ``(score, x1, y1, x2, y2)``, compared descending."""
    x, y, w, h = inst.bbox
    return (inst.score, x, y, x + w, y + h)


def top_instance(pred: Prediction) -> Instance | None:
    """The top-scoring instance; equal scores go to the larger ``(x1, y1, x2, y2)`` tuple."""
    if not pred.instances:
        return None
    return max(pred.instances, key=instance_order_key)


def fail(pred: Prediction, fld: str, reason: str) -> InputError:
    return InputError(f"{locate(pred.where, None, pred.expr_id, fld)}: {reason}")


def union_of_segmentations(pred: Prediction, instances: list[Instance], target: Target) -> rle.RLE:
    """Union of the given instances' ``segmentation``; every one must carry it."""
    masks = []
    for inst in instances:
        if inst.segmentation is None:
            index = pred.instances.index(inst)
            raise fail(pred, f"instances[{index}].segmentation", "missing: no 'mask' to fall back on")
        masks.append(inst.segmentation)
    return rle.union(masks, target.height, target.width)


def kept_instances_mask(pred: Prediction, target: Target) -> rle.RLE:
    """The expression mask of a record: its ``mask``, else the union of instances kept at score >= 0.7.

    Raises `InputError` when neither a ``mask`` nor ``instances`` is present.
    """
    if pred.mask is not None:
        return pred.mask
    if pred.instances is None:
        raise fail(pred, "mask", "missing (and no 'instances' with 'segmentation' to derive it from)")
    kept = [inst for inst in pred.instances if keep_score_f32(inst.score)]
    return union_of_segmentations(pred, kept, target)


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
    resize: int | None = None  # compare masks nearest-resized to resize x resize (--resize)

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
    """Raise `InputError` if ``pred`` lacks what ``protocol``'s task needs (PREDICTIONS.md section 1)."""
    if protocol.needs == "boxes":
        if pred.instances is None:
            raise fail(pred, "instances", f"missing (required for {protocol.task})")
        return
    if pred.mask is None:
        if pred.instances is None:
            raise fail(
                pred, "mask", f"missing (required for {protocol.task}, or instances with segmentation)"
            )
        for index, inst in enumerate(pred.instances):
            if inst.segmentation is None:
                raise fail(pred, f"instances[{index}].segmentation", "missing: no 'mask' to fall back on")
