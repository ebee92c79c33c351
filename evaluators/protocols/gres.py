"""GRES (gRefCOCO masks): ``gres/rela`` (default) and ``gres/instancevg``.

Per expression (I, U from the masks; ``pred_nt`` the predicted no-target decision):

=============  ==========  ========  =============================
ground truth   pred_nt     IoU       sum I / sum U
=============  ==========  ========  =============================
no-target      true        1         nothing
no-target      false       0         U += |pred|
targeted       true        0         U += |pred OR gt| (full union)
targeted       false       I / U     I += I, U += U
=============  ==========  ========  =============================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evaluators import rle
from evaluators.accumulate import Sums, declare_state, divide
from evaluators.protocols.base import Protocol, any_above_f32_strict, kept_instances_mask, mask_pair
from evaluators.protocols.cover import COVER_COUNTS, COVER_SUMS, cover_contribution, cover_metric
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

THRESHOLDS = (0.7, 0.8, 0.9)
_HITS = tuple((f"hit@{t}", t) for t in THRESHOLDS)  # (state field, IoU threshold)


# The layouts of `GresReLA.score`'s contributions without points (no-target, targeted): the fast path
# builds their value tuples directly (`GresReLA.pair_scorer`).
_NT_KEYS = ("n", "derived", "nt_n", "nt_ok", "U", "iou", "points_records")
_NT_KINDS = (int, int, int, int, int, float, int)
_T_KEYS = ("n", "derived", "t_n", "t_ok", "U", "I", *(key for key, _ in _HITS), "iou", "points_records")
_T_KEYS += ("cover_n", "cover")
_T_KINDS = (int, int, int, int, int, int, int, int, int, float, int, int, float)


@register_protocol
@dataclass(frozen=True)
class GresReLA(Protocol):
    task = "gres"
    name = "gres/rela"
    summary = "ReLA: gIoU (mean IoU, no-target right = 1), cIoU, N-acc, T-acc, prec@0.7..0.9 over targeted"
    sources = ("ReLA gres_model/evaluation/refer_evaluation.py",)
    metric_keys = ("giou", "ciou", "n_acc", "t_acc", *(f"prec@{t}" for t in THRESHOLDS))
    state_fields = declare_state(
        counts=(
            "n",
            "derived",
            "nt_n",
            "nt_ok",
            "t_n",
            "t_ok",
            "I",
            "U",
            *(f"hit@{t}" for t in THRESHOLDS),
            *COVER_COUNTS,
        ),
        sums=("iou", *COVER_SUMS),
    )

    def default_params(self) -> dict[str, Any]:
        return {
            "no_target_decision": "record no_target, else mask empty",
            "mask_from_instances": "union of instances with float32 score >= 0.7",
            "thresholds": list(THRESHOLDS),
        }

    def predicted_no_target(self, pred: Prediction, mask_pixels: int) -> tuple[bool, bool]:
        """(pred_nt, derived?) given the number of pixels of the predicted mask."""
        if pred.no_target is not None:
            return pred.no_target, False
        return mask_pixels == 0, True

    def score(self, pred: Prediction, target: Target):
        mask = pred.mask if pred.mask is not None else kept_instances_mask(pred, target)
        if self.resize:
            pair = mask_pair(mask, target.mask, self.resize)
            inter, union, area_pred = pair.inter, pair.union, pair.pred
            pixels = rle.area(mask)  # decided at the original resolution
        else:  # `mask_pair` without its resize step and its object (once per expression)
            inter, area_pred, area_gt = rle.overlap(mask, target.mask)
            union = area_pred + area_gt - inter
            pixels = area_pred
        pred_nt, derived = self.predicted_no_target(pred, pixels)
        if target.no_target:
            iou = 1.0 if pred_nt else 0.0
            contribution: dict[str, float | int] = {
                "n": 1,
                "derived": int(derived),
                "nt_n": 1,
                "nt_ok": int(pred_nt),
                "U": 0 if pred_nt else area_pred,
            }
        else:
            iou = 0.0 if pred_nt else inter / union if union else 0.0  # `MaskPair.iou`
            contribution = {
                "n": 1,
                "derived": int(derived),
                "t_n": 1,
                "t_ok": int(not pred_nt),
                "U": union,
                "I": 0 if pred_nt else inter,
            }
            for key, threshold in _HITS:
                contribution[key] = int(iou >= threshold)
        contribution["iou"] = iou
        contribution.update(cover_contribution(pred, target))
        row = {
            "I": inter,
            "U": union,
            "iou": iou,
            "pred_no_target": pred_nt,
            "no_target_derived": derived,
        }
        return row, contribution

    def pair_scorer(self, state: Any) -> Callable[[Prediction, Target], bool] | None:
        """A function ``f(pred, target)`` that scores the common pair into ``state`` (an
        `evaluators.state.ScoreState` of this protocol) as ``state.score(pred, target)`` after
        `evaluators.records.check_masks` would, and returns True; it returns False, having changed
        nothing, for any other pair (a record without ``mask``, with instances or points, a size or counts
        defect, ...), which the caller then scores the general way (which names any defect).
        ``None`` when this protocol or state has no such path (a subclass, ``resize``, kept rows)."""
        overlap = getattr(rle._rlecount, "overlap", None)
        if type(self) is not GresReLA or self.resize or state.keep_rows or state.protocol is not self:
            return None
        if overlap is None:
            return None
        held_nt, held_t, sums = {}, {}, state.sums
        for tt, per in sums.items():
            held_nt[tt] = per.held(_NT_KEYS, _NT_KINDS)
            held_t[tt] = per.held(_T_KEYS, _T_KINDS)
            if held_nt[tt] is None or held_t[tt] is None:  # pragma: no cover - the layouts are declared
                return None
        counts, type_counts = state.counts, state.type_counts
        t7, t8, t9 = THRESHOLDS
        flush_at = Sums._FLUSH_AT

        def score(pred: Prediction, target: Target) -> bool:
            mask = pred.mask
            if mask is None or pred.segmentations or pred.points is not None:
                return False
            h, w = mask["size"]
            if h != target.height or w != target.width:
                return False
            try:
                inter, area_pred, area_gt, total_pred, total_gt = overlap(
                    mask["counts"], target.mask["counts"]
                )
            except ValueError:
                return False  # a malformed string (or a size mismatch): the general path names it
            if total_pred != h * w or total_gt != h * w:
                return False
            no_target = pred.no_target
            derived = no_target is None
            pred_nt = area_pred == 0 if derived else no_target
            tt = target.target_type
            if target.no_target:
                held = held_nt[tt]
                held.append(
                    (
                        1,
                        int(derived),
                        1,
                        int(pred_nt),
                        0 if pred_nt else area_pred,
                        1.0 if pred_nt else 0.0,
                        0,
                    )
                )
                counts["no_target"] += 1
            else:
                union = area_pred + area_gt - inter
                iou = 0.0 if pred_nt else inter / union if union else 0.0
                held = held_t[tt]
                held.append(
                    (
                        1,
                        int(derived),
                        1,
                        int(not pred_nt),
                        union,
                        0 if pred_nt else inter,
                        int(iou >= t7),
                        int(iou >= t8),
                        int(iou >= t9),
                        iou,
                        0,
                        1,
                        0.0,
                    )
                )
            counts["expressions"] += 1
            type_counts[tt] += 1
            if len(held) >= flush_at:
                sums[tt].flush_if_full(held)
            return True

        return score

    def compute(self, sums: Sums):
        t_n = sums.count("t_n")
        metrics = {
            "giou": divide(sums["iou"], sums.count("n")),
            "ciou": divide(sums["I"], sums["U"]),
            "n_acc": divide(sums["nt_ok"], sums.count("nt_n")),
            "t_acc": divide(sums["t_ok"], t_n),
        }
        metrics.update({f"prec@{t}": divide(sums[f"hit@{t}"], t_n) for t in THRESHOLDS})
        metrics.update(cover_metric(sums))
        return metrics

    def notes(self, sums: Sums) -> dict[str, Any]:
        derived, n = sums.count("derived"), sums.count("n")
        source = "record" if derived == 0 else "derived" if derived == n else "mixed"
        return {"no_target_source": source, "no_target_derived": derived}


@register_protocol
@dataclass(frozen=True)
class GresInstanceVG(GresReLA):
    name = "gres/instancevg"
    summary = "as gres/rela, but pred_nt = no instance with score > 0.7 (strict), as InstanceVG's test code"
    sources = ("InstanceVG instancevg/evaluations/*.py, instancevg/apis/test.py",)

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "no_target_decision": "no instance with float32 score > 0.7"}

    def predicted_no_target(self, pred: Prediction, mask_pixels: int) -> tuple[bool, bool]:
        return not any_above_f32_strict(pred.scores), False

    def notes(self, sums: Sums) -> dict[str, Any]:
        return {"no_target_source": "instances"}
