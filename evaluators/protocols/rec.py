"""REC (RefCOCO/+/g boxes): ``rec/iou`` (default), ``rec/giou`` (MDETR), ``rec/refer`` (refer toolkit).

The prediction is the top-scoring instance (ties: larger ``(x1, y1, x2, y2)``); no instance scores 0.
Every expression must have exactly one target box.

``rec/iou`` and ``rec/giou`` work in float32 as the official code does (SimVG / InstanceVG
``accuracy`` with mmdet ``bbox_overlaps``; MDETR ``generalized_box_iou``): scores and corners are
rounded to float32 before ranking, so scores equal in float32 are ranked by the float32 box, as the
official ``sorted(zip(scores.tolist(), boxes.tolist()), reverse=True)`` does; corners are
``x + w`` computed in float64 and rounded to float32 (the official target corners are computed in
Python floats); IoU / GIoU are computed in float32 and compared with the float32 threshold
(``iou >= 0.5`` on a float32 tensor). ``rec/refer`` stays in float64, as the refer toolkit is Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evaluators.accumulate import Sums, declare_state, divide
from evaluators.boxes import box_iou, generalized_box_iou, refer_iou, xywh_to_xyxy
from evaluators.errors import InputError, locate
from evaluators.protocols.base import Protocol, top_index
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def xyxy_f32(xywh: Any) -> np.ndarray:
    """``(N, 4)`` float32 corners of COCO xywh boxes: ``x + w`` in float64, then rounded to float32."""
    return xywh_to_xyxy(np.asarray(xywh, dtype=np.float64)).astype(np.float32)


def top_index_f32(pred: Prediction) -> int | None:
    """The instance the official code ranks first: the largest ``(score, x1, y1, x2, y2)`` with every
    key rounded to float32 (Python's tuple order on ``tensor.tolist()`` values)."""
    if not len(pred.scores):
        return None
    xyxy = xyxy_f32(pred.boxes)
    keys = (xyxy[:, 3], xyxy[:, 2], xyxy[:, 1], xyxy[:, 0], pred.scores.astype(np.float32))
    return int(np.lexsort(keys)[-1])  # lexsort: last key is primary, ascending


@register_protocol
@dataclass(frozen=True)
class RecIoU(Protocol):
    task = "rec"
    name = "rec/iou"
    version = 2  # 2: float32 ranking, IoU and threshold comparison (1: float64)
    summary = (
        "top-scoring box (float32 ranking) vs the target box; IoU = inter / max(union, 1e-6), xyxy, "
        "no +1, float32 (SimVG / InstanceVG accuracy, mmdet bbox_overlaps)"
    )
    sources = ("MDETR datasets/refexp.py", "SimVG / InstanceVG evaluations")
    metric_keys = (*(f"prec@{t}" for t in THRESHOLDS), "miou")
    needs = "boxes"
    state_fields = declare_state(counts=("n", *(f"hit@{t}" for t in THRESHOLDS)), sums=("iou",))

    def default_params(self) -> dict[str, Any]:
        return {
            "similarity": "iou",
            "eps": 1e-6,
            "thresholds": list(THRESHOLDS),
            "tie": "larger (x1,y1,x2,y2)",
            "dtype": "float32",
        }

    dtype: ClassVar[type] = np.float32  # of ranking, similarity and threshold comparison

    def similarity(self, pred_xywh: tuple[float, ...], gt_xywh: np.ndarray) -> float:
        """mmdet ``bbox_overlaps(is_aligned=True)`` in float32: ``inter / max(union, 1e-6)``."""
        a, b = xyxy_f32(pred_xywh), xyxy_f32(gt_xywh)
        return float(box_iou(a, b, eps=1e-6)[0, 0])

    def top(self, pred: Prediction) -> int | None:
        return top_index_f32(pred) if self.dtype is np.float32 else top_index(pred)

    def score(self, pred: Prediction, target: Target):
        if len(target.boxes) != 1:
            raise InputError(
                f"{locate(target.where, None, target.expr_id, 'targets')}: rec needs exactly one target box per "
                f"expression, got {len(target.boxes)}"
            )
        top = self.top(pred)
        iou = 0.0 if top is None else self.similarity(tuple(pred.boxes[top]), target.boxes[0])
        row = {
            "iou": iou,
            "pred_bbox": None if top is None else pred.boxes[top].tolist(),
            "score": None if top is None else float(pred.scores[top]),
        }
        cast = self.dtype
        hits = {f"hit@{t}": int(cast(iou) >= cast(t)) for t in THRESHOLDS}  # NaN: no hit, as in torch
        contribution = {"n": 1, "iou": iou, **hits}
        return row, contribution

    def compute(self, sums: Sums):
        n = sums.count("n")
        metrics = {f"prec@{t}": divide(sums[f"hit@{t}"], n) for t in THRESHOLDS}
        metrics["miou"] = divide(sums["iou"], n)
        return metrics


@register_protocol
@dataclass(frozen=True)
class RecGIoU(RecIoU):
    name = "rec/giou"
    summary = "as rec/iou with generalized IoU in float32 arithmetic (MDETR)"
    sources = ("MDETR datasets/refexp.py, util/box_ops.py",)

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "similarity": "giou", "dtype": "float32", "eps": None}

    def similarity(self, pred_xywh, gt_xywh) -> float:
        return float(generalized_box_iou(xyxy_f32(pred_xywh), xyxy_f32(gt_xywh))[0, 0])


@register_protocol
@dataclass(frozen=True)
class RecRefer(RecIoU):
    name = "rec/refer"
    version = 1
    summary = "as rec/iou with the refer toolkit's computeIoU (inclusive pixels, +1 intersection)"
    sources = ("lichengunc/refer refer.py computeIoU",)

    dtype: ClassVar[type] = np.float64

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "similarity": "refer", "eps": None, "dtype": "float64"}

    def similarity(self, pred_xywh, gt_xywh) -> float:
        return refer_iou(np.asarray(pred_xywh), gt_xywh)
