"""GREC (gRefCOCO boxes): ``grec/grefcoco`` (default, the official evaluation) and ``grec/iou``.

Kept boxes: score >= 0.7 after rounding to float32. Similarity between kept boxes (ordered by
(score, box) descending) and all target boxes, crowd included, in float32. Greedy matching
(`evaluators.matching`); TP = matches, FP = kept - TP, FN = targets - TP; a targeted expression is
correct iff F1 = 2TP / (2TP + FP + FN) == 1, a no-target one iff no box is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluators.accumulate import Sums, declare_state, divide
from evaluators.boxes import box_iou, generalized_box_iou, xywh_to_xyxy
from evaluators.matching import greedy_match_count
from evaluators.protocols.base import Protocol, kept_f32, ranked
from evaluators.protocols.cover import COVER_COUNTS, COVER_SUMS, cover_contribution, cover_metric
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

MATCH_THRESHOLD = 0.5


@register_protocol
@dataclass(frozen=True)
class GrecGRefCOCO(Protocol):
    task = "grec"
    name = "grec/grefcoco"
    summary = (
        "official gRefCOCO: float32 score >= 0.7, GIoU (float32), greedy matching at 0.5, torch.topk ties"
    )
    sources = ("gRefCOCO mdetr/datasets/refexp.py",)
    metric_keys = ("f1_score", "n_acc", "t_acc")
    needs = "boxes"
    state_fields = declare_state(
        counts=("n", "correct", "nt_n", "nt_ok", "t_n", "t_ok", *COVER_COUNTS), sums=COVER_SUMS
    )
    tie_rule = "torch_topk"

    def default_params(self) -> dict[str, Any]:
        return {
            "score_threshold": 0.7,
            "score_dtype": "float32",
            "similarity": "giou",
            "match_threshold": MATCH_THRESHOLD,
            "matching": "greedy global maximum",
            "tie_rule": self.tie_rule,
        }

    def similarity(self, kept_xyxy: np.ndarray, gt_xyxy: np.ndarray) -> np.ndarray:
        return generalized_box_iou(kept_xyxy, gt_xyxy)

    def score(self, pred: Prediction, target: Target):
        kept = ranked(pred, np.float32, kept_f32(pred.scores))
        n_kept, n_gt = len(kept), len(target.boxes)
        tp = 0
        if n_kept and n_gt:
            kept_xyxy = xywh_to_xyxy(pred.boxes[kept].astype(np.float32), np.float32)
            gt_xyxy = xywh_to_xyxy(target.boxes.astype(np.float32), np.float32)
            tp = greedy_match_count(self.similarity(kept_xyxy, gt_xyxy), MATCH_THRESHOLD, self.tie_rule)
        fp, fn = n_kept - tp, n_gt - tp
        if target.no_target:
            correct = n_kept == 0
            contribution = {"nt_n": 1, "nt_ok": int(n_kept == 0)}
        else:
            correct = 2 * tp + fp + fn > 0 and 2 * tp / (2 * tp + fp + fn) >= 1.0
            contribution = {"t_n": 1, "t_ok": int(n_kept > 0)}
        contribution.update({"n": 1, "correct": int(correct)})
        contribution.update(cover_contribution(pred, target))
        row = {
            "kept": pred.boxes[kept].tolist(),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "correct": correct,
            "pred_no_target": n_kept == 0,
        }
        return row, contribution

    def compute(self, sums: Sums):
        metrics = {
            "f1_score": divide(sums["correct"], sums.count("n")),
            "n_acc": divide(sums["nt_ok"], sums.count("nt_n")),
            "t_acc": divide(sums["t_ok"], sums.count("t_n")),
        }
        metrics.update(cover_metric(sums))
        return metrics


@register_protocol
@dataclass(frozen=True)
class GrecIoU(GrecGRefCOCO):
    name = "grec/iou"
    summary = (
        "as grec/grefcoco with plain IoU (float32, union floored at 1e-6) and first-maximum ties (the paper)"
    )
    sources = ("gRefCOCO paper (Liu et al., CVPR 2023), section on GREC metrics",)
    tie_rule = "first"

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "similarity": "iou"}

    def similarity(self, kept_xyxy: np.ndarray, gt_xyxy: np.ndarray) -> np.ndarray:
        return box_iou(kept_xyxy, gt_xyxy)
