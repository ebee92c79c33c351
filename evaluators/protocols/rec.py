"""REC (RefCOCO/+/g boxes): ``rec/iou`` (default), ``rec/giou`` (MDETR), ``rec/refer`` (refer toolkit).

The prediction is the top-scoring instance (ties: larger ``(x1, y1, x2, y2)``); no instance scores 0.
Every expression must have exactly one target box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluators.accumulate import Sums, divide
from evaluators.boxes import box_iou, generalized_box_iou, refer_iou, xywh_to_xyxy
from evaluators.errors import InputError, locate
from evaluators.protocols.base import Protocol, top_index
from evaluators.records import Prediction, Target

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class RecIoU(Protocol):
    task = "rec"
    name = "rec/iou"
    summary = "top-scoring box vs the target box; IoU = inter / max(union, 1e-6), xyxy, no +1 (float64)"
    sources = ("MDETR datasets/refexp.py", "SimVG / InstanceVG evaluations")
    metric_keys = tuple(f"prec@{t}" for t in THRESHOLDS) + ("miou",)
    needs = "boxes"

    def default_params(self) -> dict[str, Any]:
        return {
            "similarity": "iou",
            "eps": 1e-6,
            "thresholds": list(THRESHOLDS),
            "tie": "larger (x1,y1,x2,y2)",
        }

    def similarity(self, pred_xywh: tuple[float, ...], gt_xywh: np.ndarray) -> float:
        return float(box_iou(xywh_to_xyxy(pred_xywh), xywh_to_xyxy(gt_xywh))[0, 0])

    def score(self, pred: Prediction, target: Target):
        if len(target.boxes) != 1:
            raise InputError(
                f"{locate(target.where, None, target.expr_id, 'targets')}: rec needs exactly one target box per "
                f"expression, got {len(target.boxes)}"
            )
        top = top_index(pred)
        iou = 0.0 if top is None else self.similarity(tuple(pred.boxes[top]), target.boxes[0])
        row = {
            "iou": iou,
            "pred_bbox": None if top is None else pred.boxes[top].tolist(),
            "score": None if top is None else float(pred.scores[top]),
        }
        contribution = {"n": 1, "iou": iou, **{f"hit@{t}": int(iou >= t) for t in THRESHOLDS}}
        return row, contribution

    def compute(self, sums: Sums):
        n = sums.count("n")
        metrics = {f"prec@{t}": divide(sums[f"hit@{t}"], n) for t in THRESHOLDS}
        metrics["miou"] = divide(sums["iou"], n)
        return metrics


@dataclass(frozen=True)
class RecGIoU(RecIoU):
    name = "rec/giou"
    summary = "as rec/iou with generalized IoU in float32 arithmetic (MDETR)"
    sources = ("MDETR datasets/refexp.py, util/box_ops.py",)

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "similarity": "giou", "dtype": "float32", "eps": None}

    def similarity(self, pred_xywh, gt_xywh) -> float:
        a = xywh_to_xyxy(np.asarray(pred_xywh, dtype=np.float32), np.float32)
        b = xywh_to_xyxy(np.asarray(gt_xywh, dtype=np.float32), np.float32)
        return float(generalized_box_iou(a, b)[0, 0])


@dataclass(frozen=True)
class RecRefer(RecIoU):
    name = "rec/refer"
    summary = "as rec/iou with the refer toolkit's computeIoU (inclusive pixels, +1 intersection)"
    sources = ("lichengunc/refer refer.py computeIoU",)

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "similarity": "refer", "eps": None}

    def similarity(self, pred_xywh, gt_xywh) -> float:
        return refer_iou(np.asarray(pred_xywh), gt_xywh)
