"""The scoring state of one protocol: sums per target type (or per unit for grouped protocols).

States are sums and counts, so ``a.merge(b)`` after scoring two parts equals scoring both at once,
exactly and in any order -- the path to multi-process scoring.
"""

from __future__ import annotations

from typing import Any

from evaluators.accumulate import Sums
from evaluators.protocols.base import Protocol, check_required
from evaluators.records import TARGET_TYPES, Prediction, Target, check_prediction_size

__all__ = ["ScoreState"]


class ScoreState:
    """Accumulates one protocol's contributions; ``compute`` gives metrics, breakdown and notes.

    With ``keep_rows=True`` the per-sample rows (and contributions, for the bootstrap) are kept too.
    """

    def __init__(self, protocol: Protocol, keep_rows: bool = False):
        self.protocol = protocol
        self.keep_rows = keep_rows
        self.sums = {tt: protocol.expression_sums() for tt in TARGET_TYPES}
        self.units: dict[str, dict[Any, Sums]] = {tt: {} for tt in TARGET_TYPES}
        self.counts = {"expressions": 0, "no_target": 0, "missing": 0}
        self.type_counts = dict.fromkeys(TARGET_TYPES, 0)
        self.rows: list[dict[str, Any]] = []
        self.contributions: list[tuple[Any, dict[str, float | int]]] = []

    def update(self, pred: Prediction, target: Target, missing: bool = False) -> dict[str, Any]:
        """Score one expression; returns its per-sample row."""
        check_prediction_size(pred, (target.height, target.width))
        return self.score(pred, target, missing, row=True)

    def score(
        self, pred: Prediction, target: Target, missing: bool = False, row: bool = False
    ) -> dict[str, Any] | None:
        """`update` for a prediction whose mask sizes were checked already (`records.check_masks`); the
        per-sample row is built and returned only with ``row=True`` (else ``None``) or ``keep_rows``."""
        protocol = self.protocol
        if not missing and (pred.mask is None or protocol.needs != "mask"):  # else nothing to check
            check_required(protocol, pred)  # a missing record is scored as empty (--allow-missing)
        sample, contribution = protocol.score(pred, target)
        tt = target.target_type
        if protocol.grouped:
            self._unit(tt, protocol.unit_key(target)).add(contribution)
        else:
            self.sums[tt].add(contribution)
        counts = self.counts
        counts["expressions"] += 1
        counts["no_target"] += int(target.no_target)
        counts["missing"] += int(missing)
        self.type_counts[tt] += 1
        if not (row or self.keep_rows):
            return None
        sample = {
            "expr_id": target.expr_id,
            "target_type": tt,
            "no_target": target.no_target,
            "missing": missing,
            **sample,
        }
        if pred.no_target_score is not None:
            sample["no_target_score"] = pred.no_target_score
        if self.keep_rows:
            self.rows.append(sample)
            unit = self.protocol.unit_key(target) if self.protocol.grouped else len(self.contributions)
            self.contributions.append((unit, contribution))
        return sample

    def merge(self, other: ScoreState) -> None:
        if other.protocol != self.protocol:
            raise ValueError("cannot merge states of different protocols")
        for tt in TARGET_TYPES:
            self.sums[tt].merge(other.sums[tt])
            for key, unit in other.units[tt].items():
                self._unit(tt, key).merge(unit)
        for key, value in other.counts.items():
            self.counts[key] += value
        for key, value in other.type_counts.items():
            self.type_counts[key] += value
        self.rows.extend(other.rows)
        self.contributions.extend(other.contributions)

    def _unit(self, tt: str, key: Any) -> Sums:
        unit = self.units[tt].get(key)
        if unit is None:
            unit = self.units[tt][key] = self.protocol.expression_sums()
        return unit

    def _sums_for(self, types: tuple[str, ...]) -> Sums:
        if not self.protocol.grouped:
            total = self.protocol.expression_sums()
            for tt in types:
                total.merge(self.sums[tt])
            return total
        units: dict[Any, Sums] = {}
        for tt in types:
            for key, unit in self.units[tt].items():
                if key not in units:
                    units[key] = self.protocol.expression_sums()
                units[key].merge(unit)
        total = self.protocol.metric_sums()
        for key in sorted(units, key=repr):
            total.add(self.protocol.unit_contribution(units[key]))
        return total

    def compute(self) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]], dict[str, Any]]:
        """(metrics, breakdown by target type, notes)."""
        overall = self._sums_for(TARGET_TYPES)
        breakdown = {tt: self.protocol.compute(self._sums_for((tt,))) for tt in TARGET_TYPES}
        return self.protocol.compute(overall), breakdown, self.protocol.notes(overall)
