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
from evaluators.accumulate import COUNT, Sums, declare_state, divide
from evaluators.protocols.base import Protocol, any_above_f32_strict, kept_instances_mask, mask_pair
from evaluators.protocols.cover import COVER_COUNTS, COVER_SUMS, NO_POINTS, cover_contribution, cover_metric
from evaluators.protocols.registry import register_protocol
from evaluators.records import Prediction, Target

THRESHOLDS = (0.7, 0.8, 0.9)
_T7, _T8, _T9 = THRESHOLDS


# The mask terms of a contribution (no-target, targeted) in the order `_mask_terms` gives their values;
# `GresReLA.pair_scorer` appends them with the CoverAcc terms of a record without points (`cover.NO_POINTS`)
# straight to the state's held contributions.
_NT_KEYS = ("n", "derived", "nt_n", "nt_ok", "U", "iou")
_T_KEYS = ("n", "derived", "t_n", "t_ok", "U", "I", *(f"hit@{t}" for t in THRESHOLDS), "iou")


def _mask_terms(
    target_no_target: bool, pred_nt: bool, derived: bool, inter: int, union: int, area_pred: int
) -> tuple[tuple, float]:
    """``(values of _NT_KEYS or _T_KEYS, iou)`` of one expression's mask overlap."""
    if target_no_target:
        iou = 1.0 if pred_nt else 0.0
        return (1, int(derived), 1, int(pred_nt), 0 if pred_nt else area_pred, iou), iou
    iou = 0.0 if pred_nt else inter / union if union else 0.0  # `MaskPair.iou`
    hit7, hit8, hit9 = iou >= _T7, iou >= _T8, iou >= _T9  # spelt out: once per expression
    return (
        1,
        int(derived),
        1,
        int(not pred_nt),
        union,
        0 if pred_nt else inter,
        int(hit7),
        int(hit8),
        int(hit9),
        iou,
    ), iou


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
        values, iou = _mask_terms(target.no_target, pred_nt, derived, inter, union, area_pred)
        contribution: dict[str, float | int] = dict(zip(_NT_KEYS if target.no_target else _T_KEYS, values))
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
        layouts = {}  # (target type, target no_target) -> (held value tuples, cover values, Sums)
        for tt, per in state.sums.items():
            for nt, keys in ((True, _NT_KEYS), (False, _T_KEYS)):
                cover = NO_POINTS[nt]
                names = keys + tuple(cover)
                held = per.held(names, tuple(int if per.fields[k] == COUNT else float for k in names))
                if held is None:  # pragma: no cover - the layouts are declared
                    return None
                layouts[tt, nt] = (held, tuple(cover.values()), per)
        counts, type_counts = state.counts, state.type_counts

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
            pred_nt, derived = self.predicted_no_target(pred, area_pred)
            tt = target.target_type
            held, cover, sums = layouts[tt, target.no_target]
            values, _ = _mask_terms(
                target.no_target, pred_nt, derived, inter, area_pred + area_gt - inter, area_pred
            )
            held.append(values + cover)
            sums.flush_if_full(held)
            counts["expressions"] += 1
            counts["no_target"] += int(target.no_target)
            type_counts[tt] += 1
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
