"""R-RefCOCO/+/g: ``rrefcoco/refsegformer`` (and ``rrefcoco/instancevg``), averaged over referred objects (expressions grouped by
``ref_id``): targeted expressions of a group are its positives, no-target ones its negatives.

Per object o: I_o, U_o = sums over positives; m_o = mean positive IoU (U = 0 gives NaN, as officially);
FP_o = negatives with any predicted pixel, r_o = TN_o / (TN_o + FP_o) (NaN without negatives);
rIoU_o = I_o / (U_o + pixels predicted on the FP negatives). Metrics: ``miou`` = mean m_o, ``oiou`` =
sum I_o / sum U_o, ``mrr`` = mean r_o, ``riou`` = mean rIoU_o; NaN propagates through the means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from evaluators.accumulate import Sums, declare_state, divide
from evaluators.errors import InputError, locate
from evaluators.protocols.base import Protocol, any_above_f32_strict, kept_instances_mask, mask_pair
from evaluators.protocols.refzom import expression_mask
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target


def _nan_div(num: float, den: float) -> float:
    return num / den if den else math.nan


@register_protocol
@dataclass(frozen=True)
class RRefCOCORefSegformer(Protocol):
    task = "rrefcoco"
    name = "rrefcoco/refsegformer"
    summary = "RefSegformer: per-object mIoU, oIoU, mRR, rIoU with NaN propagating"
    sources = ("RefSegformer utils/validation.py",)
    metric_keys = ("miou", "oiou", "mrr", "riou")
    grouped = True
    state_fields = declare_state(counts=("pos_n", "neg_n", "neg_fp", "fp_pixels", "I", "U"), sums=("iou",))
    unit_fields = declare_state(counts=("objects", "I", "U", "no_negative"), sums=("m", "r", "riou"))

    def default_params(self) -> dict[str, Any]:
        return {"unit": "ref_id", "nan": "propagates", "mask_from_instances": "float32 score >= 0.7"}

    def unit_key(self, target: Target) -> Any:
        if target.ref_id is None:
            raise InputError(f"{locate(target.where, None, target.expr_id, 'ref_id')}: rrefcoco needs ref_id")
        return target.ref_id

    def score(self, pred: Prediction, target: Target):
        mask = expression_mask(pred, target)
        pair = mask_pair(mask, target.mask, self.resize)
        if target.no_target:
            fp = int(pair.pred > 0)
            row = {"pred_pixels": pair.pred, "false_positive": bool(fp)}
            return row, {"neg_n": 1, "neg_fp": fp, "fp_pixels": pair.pred if fp else 0}
        iou = pair.inter / pair.union if pair.union else math.nan
        row = {"I": pair.inter, "U": pair.union, "iou": iou}
        return row, {"pos_n": 1, "I": pair.inter, "U": pair.union, "iou": iou}

    def unit_contribution(self, unit: Sums) -> dict[str, float | int]:
        pos_n, neg_n, neg_fp = unit.count("pos_n"), unit.count("neg_n"), unit.count("neg_fp")
        inter, union = unit.count("I"), unit.count("U")
        m = unit["iou"].ratio(pos_n) if pos_n else math.nan
        r = _nan_div(neg_n - neg_fp, neg_n)
        riou = _nan_div(inter, union + unit.count("fp_pixels"))
        return {
            "objects": 1,
            "m": m,
            "r": r,
            "riou": riou,
            "I": inter,
            "U": union,
            "no_negative": int(neg_n == 0),
        }

    def compute(self, sums: Sums):
        n = sums.count("objects")
        return {
            "miou": divide(sums["m"], n),
            "oiou": divide(sums["I"], sums["U"]),
            "mrr": divide(sums["r"], n),
            "riou": divide(sums["riou"], n),
        }

    def notes(self, sums: Sums) -> dict[str, Any]:
        return {"objects": sums.count("objects"), "objects_without_negative": sums.count("no_negative")}


@register_protocol
@dataclass(frozen=True)
class RRefCOCOInstanceVG(RRefCOCORefSegformer):
    """InstanceVG's ``rrefcoco_evaluate``: the same per-object averaging, but a negative is a false positive when
    an instance scores above 0.7 (float32, strict), adding the pixels of its mask as predicted to the rIoU
    union; positives are scored on the mask as predicted (the code never reads a no-target flag)."""

    name = "rrefcoco/instancevg"
    summary = "as rrefcoco/refsegformer, but a negative is a false positive when an instance scores > 0.7"
    sources = ("InstanceVG instancevg/evaluations/rrefcoco.py",)

    def default_params(self) -> dict[str, Any]:
        return {
            **super().default_params(),
            "false_positive": "an instance with float32 score > 0.7",
            "targeted_mask": "as predicted (no_target not applied)",
        }

    def score(self, pred: Prediction, target: Target):
        mask = kept_instances_mask(pred, target)
        pair = mask_pair(mask, target.mask, self.resize)
        if target.no_target:
            fp = int(any_above_f32_strict(pred.scores))
            row = {"pred_pixels": pair.pred, "false_positive": bool(fp)}
            return row, {"neg_n": 1, "neg_fp": fp, "fp_pixels": pair.pred if fp else 0}
        iou = pair.inter / pair.union if pair.union else math.nan
        row = {"I": pair.inter, "U": pair.union, "iou": iou}
        return row, {"pos_n": 1, "I": pair.inter, "U": pair.union, "iou": iou}
