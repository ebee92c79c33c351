"""Seeded bootstrap confidence intervals and paired comparisons over the resampling units
(expressions, or referred objects for grouped protocols). Point estimates are never changed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evaluators.accumulate import Sums
from evaluators.protocols.base import Protocol

__all__ = ["bootstrap_ci", "paired_bootstrap", "unit_matrix", "unit_rows"]

DEFAULT_RESAMPLES = 1000


def unit_rows(protocol: Protocol, contributions: Sequence[tuple[Any, dict]]) -> tuple[list, list[dict]]:
    """The resampling units' keys and contributions, in the order the evaluator sums them: one per
    expression (in order), or for grouped protocols one per unit (its expressions summed first,
    units sorted by ``repr`` of the key)."""
    if not protocol.grouped:
        return [key for key, _ in contributions], [c for _, c in contributions]
    grouped: dict[Any, Sums] = {}
    for key, contribution in contributions:
        if key not in grouped:
            grouped[key] = protocol.expression_sums()
        grouped[key].add(contribution)
    keys = sorted(grouped, key=repr)
    return keys, [protocol.unit_contribution(grouped[k]) for k in keys]


def unit_matrix(
    protocol: Protocol, contributions: Sequence[tuple[Any, dict]]
) -> tuple[list, list[str], np.ndarray]:
    """Resampling units and their contribution matrix ``(n_units, n_fields)`` (float64, NaN kept)."""
    keys, rows = unit_rows(protocol, contributions)
    fields = sorted({f for row in rows for f in row})
    matrix = np.array([[float(row.get(f, 0)) for f in fields] for row in rows], dtype=np.float64)
    return keys, fields, matrix.reshape(len(rows), len(fields))


def _metrics_from(protocol: Protocol, fields: list[str], matrix: np.ndarray, weights: np.ndarray) -> dict:
    nan_hit = (np.isnan(matrix) & (weights[:, None] > 0)).any(axis=0)
    totals = np.nan_to_num(matrix).T @ weights
    sums = protocol.metric_sums()
    sums.add({f: (math.nan if nan_hit[i] else float(totals[i])) for i, f in enumerate(fields)})
    return protocol.compute(sums)


def _percentiles(samples: list[float], level: float) -> list[float] | None:
    values = np.array([v for v in samples if v is not None and not math.isnan(v)], dtype=np.float64)
    if values.size == 0:
        return None
    alpha = (1.0 - level) / 2.0
    return [float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))]


def _resample(n: int, resamples: int, seed: int) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(seed)
    return lambda: rng.multinomial(n, np.full(n, 1.0 / n)).astype(np.float64)


def bootstrap_ci(
    protocol: Protocol,
    contributions: Sequence[tuple[Any, dict]],
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Percentile intervals ``{metric: [lo, hi] | None}`` from ``resamples`` seeded resamples."""
    _, fields, matrix = unit_matrix(protocol, contributions)
    n = matrix.shape[0]
    if n == 0:
        return {"level": level, "resamples": resamples, "seed": seed, "intervals": {}}
    draw = _resample(n, resamples, seed)
    samples: dict[str, list] = {}
    for _ in range(resamples):
        for key, value in _metrics_from(protocol, fields, matrix, draw()).items():
            samples.setdefault(key, []).append(value)
    intervals = {key: _percentiles(values, level) for key, values in samples.items()}
    unit = "objects" if protocol.grouped else "expressions"
    return {
        "level": level,
        "resamples": resamples,
        "seed": seed,
        "unit": unit,
        "n_units": n,
        "intervals": intervals,
    }


def paired_bootstrap(
    protocol: Protocol,
    contributions_a: Sequence[tuple[Any, dict]],
    contributions_b: Sequence[tuple[Any, dict]],
    point_a: dict[str, float | None],
    point_b: dict[str, float | None],
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Difference A - B per metric with a paired percentile interval (same resampled units for both).

    ``point_a`` / ``point_b`` are the exact metrics (from `ScoreState.compute`); the bootstrap only adds
    the interval. Also reports ``p_a_not_better``: the share of resamples where A - B <= 0.
    """
    keys_a, fields_a, matrix_a = unit_matrix(protocol, contributions_a)
    keys_b, fields_b, matrix_b = unit_matrix(protocol, contributions_b)
    if keys_a != keys_b and sorted(keys_a, key=repr) != sorted(keys_b, key=repr):
        raise ValueError("paired bootstrap needs the same units in both")
    order_b = {k: i for i, k in enumerate(keys_b)}
    matrix_b = matrix_b[[order_b[k] for k in keys_a]] if len(keys_a) else matrix_b
    n = matrix_a.shape[0]
    draw = _resample(max(n, 1), resamples, seed)
    diffs: dict[str, list] = {}
    for _ in range(resamples if n else 0):
        weights = draw()
        ma = _metrics_from(protocol, fields_a, matrix_a, weights)
        mb = _metrics_from(protocol, fields_b, matrix_b, weights)
        for key in ma:
            a, b = ma[key], mb.get(key)
            diffs.setdefault(key, []).append(None if a is None or b is None else a - b)
    out = {}
    for key in point_a:
        a, b = point_a[key], point_b.get(key)
        values = [d for d in diffs.get(key, []) if d is not None and not math.isnan(d)]
        out[key] = {
            "a": a,
            "b": b,
            "diff": None if a is None or b is None else a - b,
            "ci": _percentiles(values, level),
            "p_a_not_better": (sum(d <= 0 for d in values) / len(values)) if values else None,
        }
    unit = "objects" if protocol.grouped else "expressions"
    return {"level": level, "resamples": resamples, "seed": seed, "unit": unit, "n_units": n, "metrics": out}
