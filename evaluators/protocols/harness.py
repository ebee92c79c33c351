"""REC as two multimodal-LLM harnesses score it: ``rec/lmms-eval`` and ``rec/vlmevalkit``.

These reproduce the harnesses' arithmetic on the prediction's top-scoring box (pixels of the original
image) so that their numbers can be put next to the official ``rec/iou`` from the same answers. Their
*parse* rules live in the text adapter (``vgbench adapt text --family lmms-eval | vlmevalkit``).

- ``rec/lmms-eval`` (``lmms_eval/tasks/refcoco/utils_rec.py``): both boxes normalised to 0-1 xyxy by
  the image width and height; IoU = ``max(0, dx) * max(0, dy) / (area_gt + area_pred - inter)``;
  ``acc@t`` = share with IoU >= t for t in 0.1, 0.3, 0.5, 0.7, 0.9; ``miou`` the mean IoU;
  ``center_acc`` the share whose predicted box centre lies in the target box (borders included). A
  record without a box scores as lmms-eval's parse-failure box ``[0, 0, 0, 0]``. A zero union (lmms-eval
  would divide by zero) scores 0 and is counted in the notes.
- ``rec/vlmevalkit`` (``vlmeval/dataset/refcoco.py``, ``RefCOCODataset.evaluate``): the predicted box
  clipped to the image and its corners put in order, IoU 0 when the boxes do not overlap or the union is
  not positive, ``prec@1`` = share with IoU >= 0.5 ("Precision@1"), ``miou`` the mean IoU ("Average
  IoU", which VLMEvalKit prints as a 0-1 fraction). A record without a box scores IoU 0.

Metrics are in percent like every vgbench metric (the harnesses print fractions for IoU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluators.accumulate import Sums, declare_state, divide
from evaluators.errors import InputError, locate
from evaluators.protocols.base import Protocol, top_index
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

LMMS_THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9)


def _single_target(target: Target):
    if len(target.boxes) != 1:
        raise InputError(
            f"{locate(target.where, None, target.expr_id, 'targets')}: rec needs exactly one target box per "
            f"expression, got {len(target.boxes)}"
        )
    return target.boxes[0]


def _top_xyxy(pred: Prediction) -> list[float] | None:
    top = top_index(pred)
    if top is None:
        return None
    x, y, w, h = (float(v) for v in pred.boxes[top])
    return [x, y, x + w, y + h]


@register_protocol
@dataclass(frozen=True)
class RecLmmsEval(Protocol):
    task = "rec"
    name = "rec/lmms-eval"
    summary = "lmms-eval refcoco*_bbox_rec: 0-1 xyxy IoU, ACC@0.1..0.9, center accuracy; no box = [0,0,0,0]"
    sources = ("EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/refcoco/utils_rec.py",)
    metric_keys = (*(f"acc@{t}" for t in LMMS_THRESHOLDS), "miou", "center_acc")
    needs = "boxes"
    state_fields = declare_state(
        counts=("n", "center", "no_box", "zero_union", *(f"hit@{t}" for t in LMMS_THRESHOLDS)), sums=("iou",)
    )

    def default_params(self) -> dict[str, Any]:
        return {
            "space": "0-1 xyxy (x / width, y / height)",
            "thresholds": list(LMMS_THRESHOLDS),
            "comparison": ">=",
            "no_box": [0, 0, 0, 0],
            "center": "predicted box centre inside the target box, borders included",
        }

    def score(self, pred: Prediction, target: Target):
        gx, gy, gw, gh = (float(v) for v in _single_target(target))
        w, h = target.width, target.height
        gt = [gx / w, gy / h, (gx + gw) / w, (gy + gh) / h]
        box = _top_xyxy(pred)
        p = [0.0, 0.0, 0.0, 0.0] if box is None else [box[0] / w, box[1] / h, box[2] / w, box[3] / h]
        inter = max(0.0, min(gt[2], p[2]) - max(gt[0], p[0])) * max(0.0, min(gt[3], p[3]) - max(gt[1], p[1]))
        union = (gt[2] - gt[0]) * (gt[3] - gt[1]) + (p[2] - p[0]) * (p[3] - p[1]) - inter
        iou = inter / union if union != 0 else 0.0
        cx, cy = (p[0] + p[2]) / 2, (p[1] + p[3]) / 2
        center = int(gt[0] <= cx <= gt[2] and gt[1] <= cy <= gt[3])
        row = {"iou": iou, "center_hit": bool(center), "pred_box_norm": p, "no_box": box is None}
        contribution = {
            "n": 1,
            "iou": iou,
            "center": center,
            "no_box": int(box is None),
            "zero_union": int(union == 0),
            **{f"hit@{t}": int(iou >= t) for t in LMMS_THRESHOLDS},
        }
        return row, contribution

    def compute(self, sums: Sums):
        n = sums.count("n")
        metrics = {f"acc@{t}": divide(sums[f"hit@{t}"], n) for t in LMMS_THRESHOLDS}
        metrics["miou"] = divide(sums["iou"], n)
        metrics["center_acc"] = divide(sums["center"], n)
        return metrics

    def notes(self, sums: Sums) -> dict[str, Any]:
        return {
            "scored_as_0000": sums.count("no_box"),
            "zero_union_scored_0": sums.count("zero_union"),
            "harness_scale": "lmms-eval prints fractions; these metrics are percent",
        }


@register_protocol
@dataclass(frozen=True)
class RecVLMEvalKit(Protocol):
    task = "rec"
    name = "rec/vlmevalkit"
    summary = "VLMEvalKit RefCOCO: box clipped to the image, pixel IoU, Precision@1 = IoU >= 0.5"
    sources = ("open-compass/VLMEvalKit vlmeval/dataset/refcoco.py",)
    metric_keys = ("prec@1", "miou")
    needs = "boxes"
    state_fields = declare_state(counts=("n", "hit", "no_box"), sums=("iou",))

    def default_params(self) -> dict[str, Any]:
        return {"space": "pixels, predicted box clipped to the image", "threshold": 0.5, "comparison": ">="}

    def score(self, pred: Prediction, target: Target):
        gx, gy, gw, gh = (float(v) for v in _single_target(target))
        g = [gx, gy, gx + gw, gy + gh]
        box = _top_xyxy(pred)
        iou = 0.0
        if box is not None:
            w, h = float(target.width), float(target.height)
            x1, x2 = sorted((min(max(box[0], 0.0), w), min(max(box[2], 0.0), w)))
            y1, y2 = sorted((min(max(box[1], 0.0), h), min(max(box[3], 0.0), h)))
            left, top, right, bottom = max(x1, g[0]), max(y1, g[1]), min(x2, g[2]), min(y2, g[3])
            if right > left and bottom > top:
                inter = (right - left) * (bottom - top)
                union = max(x2 - x1, 0) * max(y2 - y1, 0) + max(g[2] - g[0], 0) * max(g[3] - g[1], 0) - inter
                iou = inter / union if union > 0 else 0.0
        row = {"iou": iou, "hit": iou >= 0.5, "no_box": box is None}
        return row, {"n": 1, "iou": iou, "hit": int(iou >= 0.5), "no_box": int(box is None)}

    def compute(self, sums: Sums):
        n = sums.count("n")
        return {"prec@1": divide(sums["hit"], n), "miou": divide(sums["iou"], n)}

    def notes(self, sums: Sums) -> dict[str, Any]:
        return {
            "no_box_scored_0": sums.count("no_box"),
            "harness_scale": "VLMEvalKit prints Average IoU as a fraction; these metrics are percent",
        }
