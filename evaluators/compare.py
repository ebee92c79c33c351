"""Paired comparison of two predictions of the same expressions: metrics of A and B, the difference A - B
with a paired bootstrap interval, and how often A does not beat B (the numbers of ``vgbench compare``).

Example::

    >>> from evaluators import compare_predictions
    >>> c = compare_predictions("gres", "a.jsonl", "b.jsonl", "targets.jsonl")  # doctest: +SKIP
    >>> m = c.metrics["giou"]; m.diff, m.ci, m.p_a_not_better  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evaluators.api import Evaluator, score_files
from evaluators.bootstrap import DEFAULT_RESAMPLES, paired_bootstrap
from evaluators.errors import InputError

__all__ = ["Comparison", "MetricComparison", "compare_evaluators", "compare_predictions"]


@dataclass(frozen=True)
class MetricComparison:
    """One metric: ``a`` and ``b`` (percent, ``None`` for an empty denominator), ``diff = a - b``, ``ci`` the
    paired percentile interval ``[lo, hi]`` of A - B (``None`` when no resample defines it) and
    ``p_a_not_better`` the share of resamples where A - B <= 0."""

    a: float | None
    b: float | None
    diff: float | None
    ci: list[float] | None
    p_a_not_better: float | None


@dataclass(frozen=True)
class Comparison:
    """A paired bootstrap comparison of A and B under one protocol.

    ``unit`` is what is resampled (``"expressions"``, or ``"objects"`` for grouped protocols) and ``n_units``
    how many; ``metrics`` maps each metric key to its `MetricComparison`; ``results_a`` / ``results_b``
    are the full results dicts of A and B (as ``vgbench eval`` writes them)."""

    task: str
    protocol: str
    protocol_version: int
    level: float
    resamples: int
    seed: int
    unit: str
    n_units: int
    metrics: dict[str, MetricComparison]
    results_a: dict[str, Any]
    results_b: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The statistics as the comparison file holds them: level, resamples, seed, unit, n_units, metrics."""
        return {
            "level": self.level,
            "resamples": self.resamples,
            "seed": self.seed,
            "unit": self.unit,
            "n_units": self.n_units,
            "metrics": {key: asdict(m) for key, m in self.metrics.items()},
        }


def _check(ci: float, resamples: int) -> None:
    if not 0.0 < ci < 1.0:
        raise InputError(f"ci must be in (0, 1), got {ci}")
    if resamples < 1:
        raise InputError(f"resamples must be >= 1, got {resamples}")


def _compare(
    a: Evaluator,
    b: Evaluator,
    results_a: dict[str, Any],
    results_b: dict[str, Any],
    ci: float,
    resamples: int,
    seed: int,
) -> Comparison:
    _check(ci, resamples)
    if a.protocol != b.protocol:
        raise ValueError(
            f"cannot compare {a.protocol.name!r} with {b.protocol.name!r}: not the same protocol"
        )
    if not (a.state.keep_rows and b.state.keep_rows):
        raise ValueError(
            "a paired comparison needs the per-expression contributions: Evaluator(..., keep_rows=True)"
        )
    paired = paired_bootstrap(
        a.protocol,
        a.state.contributions,
        b.state.contributions,
        results_a["metrics"],
        results_b["metrics"],
        level=ci,
        resamples=resamples,
        seed=seed,
    )
    return Comparison(
        task=a.protocol.task,
        protocol=a.protocol.name,
        protocol_version=a.protocol.version,
        level=paired["level"],
        resamples=paired["resamples"],
        seed=paired["seed"],
        unit=paired["unit"],
        n_units=paired["n_units"],
        metrics={key: MetricComparison(**m) for key, m in paired["metrics"].items()},
        results_a=results_a,
        results_b=results_b,
    )


def compare_evaluators(
    a: Evaluator, b: Evaluator, ci: float = 0.95, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> Comparison:
    """Compare two evaluators that scored the same expressions under the same protocol, both created with
    ``keep_rows=True``; the point estimates are exactly their ``compute()`` metrics."""
    return _compare(a, b, a.compute(), b.compute(), ci, resamples, seed)


def compare_predictions(
    task: str,
    predictions_a: str | Path,
    predictions_b: str | Path,
    targets: str | Path,
    config: str | None = None,
    split: str | None = None,
    protocol: str | None = None,
    resize: int | None = None,
    allow_missing: bool = False,
    ci: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Score two predictions files against the same targets (a targets file, or a built dataset with
    ``config`` and ``split``) and compare them: A - B per metric with a ``ci`` paired bootstrap interval
    from ``resamples`` seeded resamples of the expressions (referred objects for grouped protocols).

    Raises `InputError` on bad input (as ``vgbench eval``), or when ``ci`` is not in (0, 1) or
    ``resamples`` < 1."""
    _check(ci, resamples)
    common: dict[str, Any] = dict(
        targets=targets,
        config=config,
        split=split,
        protocol=protocol,
        resize=resize,
        allow_missing=allow_missing,
        keep_rows=True,
    )
    a = score_files(task, predictions_a, **common)
    b = score_files(task, predictions_b, **common)
    return _compare(a.evaluator, b.evaluator, a.results, b.results, ci, resamples, seed)
