"""RES (RefCOCO/+/g masks): ``res/lavt``.

Per expression IoU = I / U (0 when U = 0); ``oiou`` (cIoU) = sum I / sum U. The expression mask is the
record's ``mask``, else the top-scoring instance's ``segmentation`` (an empty mask without instances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluators import rle
from evaluators.accumulate import Sums, declare_state, divide
from evaluators.protocols.base import Protocol, mask_pair, top_index
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def res_mask(pred: Prediction, target: Target) -> rle.RLE:
    """The record's ``mask``, else the top-scoring instance's ``segmentation`` (checked by `check_required`)."""
    if pred.mask is not None:
        return pred.mask
    top = top_index(pred)
    return rle.empty(target.height, target.width) if top is None else pred.segmentations[top]


@register_protocol
@dataclass(frozen=True)
class ResLAVT(Protocol):
    task = "res"
    name = "res/lavt"
    summary = "mIoU (IoU 0 when U = 0), oIoU = sum I / sum U, prec@0.5..0.9 (>=), over all expressions"
    sources = ("LAVT test.py / utils", "SimVG / InstanceVG evaluations")
    metric_keys = ("miou", "oiou", *(f"prec@{t}" for t in THRESHOLDS))
    state_fields = declare_state(counts=("n", "I", "U", *(f"hit@{t}" for t in THRESHOLDS)), sums=("iou",))

    def default_params(self) -> dict[str, Any]:
        return {"thresholds": list(THRESHOLDS), "mask_from_instances": "top-scoring instance"}

    def score(self, pred: Prediction, target: Target):
        pair = mask_pair(res_mask(pred, target), target.mask, self.resize)
        iou = pair.iou
        row = {"I": pair.inter, "U": pair.union, "iou": iou}
        contribution = {"n": 1, "iou": iou, "I": pair.inter, "U": pair.union}
        contribution.update({f"hit@{t}": int(iou >= t) for t in THRESHOLDS})
        return row, contribution

    def compute(self, sums: Sums):
        n = sums.count("n")
        metrics = {"miou": divide(sums["iou"], n), "oiou": divide(sums["I"], sums["U"])}
        metrics.update({f"prec@{t}": divide(sums[f"hit@{t}"], n) for t in THRESHOLDS})
        return metrics
