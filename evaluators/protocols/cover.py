"""CoverAcc (``cover_acc``) of the GREC and GRES protocols: the share of target boxes that contain at
least one of the record's ``points``, over targeted expressions, reported when some record has points."""

from __future__ import annotations

from evaluators.accumulate import Sums, divide
from evaluators.protocols.base import cover_fraction
from evaluators.records import Prediction, Target

__all__ = ["COVER_COUNTS", "COVER_SUMS", "NO_POINTS", "cover_contribution", "cover_metric"]

COVER_COUNTS = ("points_records", "cover_n")  # the state fields of `cover_contribution`
COVER_SUMS = ("cover",)
# `cover_contribution` of a record without points, for a no-target (True) or targeted (False) expression
NO_POINTS: dict[bool, dict[str, float | int]] = {
    True: {"points_records": 0},
    False: {"points_records": 0, "cover_n": 1, "cover": 0.0},
}


def cover_contribution(pred: Prediction, target: Target) -> dict[str, float | int]:
    """CoverAcc terms for a targeted expression (records without ``points`` cover nothing)."""
    if pred.points is None:  # the common case: `cover_fraction` of no points is 0.0
        return dict(NO_POINTS[target.no_target])
    contribution: dict[str, float | int] = {"points_records": 1}
    if not target.no_target:
        contribution.update({"cover_n": 1, "cover": cover_fraction(pred.points, target)})
    return contribution


def cover_metric(sums: Sums) -> dict[str, float | None]:
    """``{"cover_acc": percent}`` when some record had ``points``, else ``{}``."""
    return {"cover_acc": divide(sums["cover"], sums.count("cover_n"))} if sums.count("points_records") else {}
