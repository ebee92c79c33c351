"""Ref-ZOM: ``refzom/dmmi`` (default) and ``refzom/instancevg``.

``acc``: one-to-zero (no-target) expressions with an empty predicted mask / all one-to-zero ones.
``miou``, ``oiou``, ``prec@0.5..0.9``: as RES, over targeted expressions only. A record's
``no_target: true`` empties its mask first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluators import rle
from evaluators.accumulate import Sums, declare_state, divide
from evaluators.protocols.base import Protocol, any_above_f32_strict, kept_instances_mask, mask_pair
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def expression_mask(pred: Prediction, target: Target) -> rle.RLE:
    """The record's mask (or kept instances' union), emptied when the record says ``no_target: true``."""
    mask = kept_instances_mask(pred, target)
    return rle.empty(target.height, target.width) if pred.no_target else mask


@register_protocol
@dataclass(frozen=True)
class RefzomDMMI(Protocol):
    task = "refzom"
    name = "refzom/dmmi"
    summary = "DMMI: acc = empty mask on one-to-zero expressions; mIoU, oIoU, prec@ over targeted ones"
    sources = ("DMMI test.py",)
    metric_keys = ("acc", "miou", "oiou", *(f"prec@{t}" for t in THRESHOLDS))
    state_fields = declare_state(
        counts=("n", "nt_n", "nt_ok", "t_n", "I", "U", *(f"hit@{t}" for t in THRESHOLDS)), sums=("iou",)
    )

    def default_params(self) -> dict[str, Any]:
        return {
            "zero_hit": "predicted mask has no foreground pixel",
            "mask_from_instances": "union of instances with float32 score >= 0.7",
            "thresholds": list(THRESHOLDS),
        }

    def zero_hit(self, pred: Prediction, mask: rle.RLE) -> bool:
        return rle.area(mask) == 0

    def expression_mask(self, pred: Prediction, target: Target) -> rle.RLE:
        return expression_mask(pred, target)

    def score(self, pred: Prediction, target: Target):
        mask = self.expression_mask(pred, target)
        if target.no_target:
            hit = self.zero_hit(pred, mask)
            return {"zero_hit": hit, "pred_pixels": rle.area(mask)}, {"n": 1, "nt_n": 1, "nt_ok": int(hit)}
        pair = mask_pair(mask, target.mask, self.resize)
        iou = pair.iou
        contribution = {"n": 1, "t_n": 1, "iou": iou, "I": pair.inter, "U": pair.union}
        contribution.update({f"hit@{t}": int(iou >= t) for t in THRESHOLDS})
        return {"I": pair.inter, "U": pair.union, "iou": iou}, contribution

    def compute(self, sums: Sums):
        t_n = sums.count("t_n")
        metrics = {
            "acc": divide(sums["nt_ok"], sums.count("nt_n")),
            "miou": divide(sums["iou"], t_n),
            "oiou": divide(sums["I"], sums["U"]),
        }
        metrics.update({f"prec@{t}": divide(sums[f"hit@{t}"], t_n) for t in THRESHOLDS})
        return metrics


@register_protocol
@dataclass(frozen=True)
class RefzomInstanceVG(RefzomDMMI):
    """InstanceVG's ``refzom_evaluate``: the one-to-zero hit is "no instance with score > 0.7", and a targeted
    expression is scored on its mask as predicted (the code never reads a no-target flag, so a record's
    ``no_target: true`` does not empty it). Version 2: version 1 emptied that mask."""

    name = "refzom/instancevg"
    version = 2
    summary = "as refzom/dmmi, but the one-to-zero hit is 'no instance with score > 0.7' (InstanceVG)"
    sources = ("InstanceVG instancevg/evaluations/refzom.py",)

    def default_params(self) -> dict[str, Any]:
        return {
            **super().default_params(),
            "zero_hit": "no instance with float32 score > 0.7",
            "targeted_mask": "as predicted (no_target not applied)",
        }

    def expression_mask(self, pred: Prediction, target: Target) -> rle.RLE:
        return kept_instances_mask(pred, target)

    def zero_hit(self, pred: Prediction, mask: rle.RLE) -> bool:
        return not any_above_f32_strict(pred.scores)
