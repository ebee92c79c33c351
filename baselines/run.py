"""Run one baseline over one config/split of a built dataset and write its predictions file."""

from __future__ import annotations

import logging
from pathlib import Path

from baselines.annotation_pool import AnnotationPool
from baselines.predictors import Baseline, LargestObject, OracleJitter, get_baseline
from baselines.rows import count_rows, iter_rows
from evaluators.predictions_writer import write_predictions
from evaluators.progress import progress

__all__ = ["make_baseline", "run_baseline"]

log = logging.getLogger(__name__)


def make_baseline(
    name: str,
    data_dir: str | Path,
    config: str,
    *,
    seed: int = 0,
    jitter: float = 0.1,
    source: str | Path | None = None,
) -> Baseline:
    """Instantiate baseline ``name``; ``largest-object`` builds its pool from ``source`` (the
    source folder) when given, else from every row of the built dataset ``data_dir``."""
    cls = get_baseline(name)
    if cls is LargestObject:
        pool = AnnotationPool.from_source(source, config) if source else AnnotationPool.from_dataset(data_dir)
        return LargestObject(pool)
    if cls is OracleJitter:
        return OracleJitter(jitter=jitter, seed=seed)
    return cls()


def run_baseline(
    name: str,
    data_dir: str | Path,
    config: str,
    split: str,
    out: str | Path,
    *,
    seed: int = 0,
    jitter: float = 0.1,
    source: str | Path | None = None,
    quiet: bool = False,
) -> int:
    """Write baseline ``name``'s predictions for ``data_dir``'s ``config``/``split`` to ``out``
    (atomically); returns the number of records written (one per row)."""
    baseline = make_baseline(name, data_dir, config, seed=seed, jitter=jitter, source=source)
    total = count_rows(data_dir, config, split)
    rows = iter_rows(data_dir, config, split, columns=baseline.columns)
    records = (
        baseline.predict(row)
        for row in progress(rows, total, f"{name} {config}/{split}", quiet=quiet, unit="expr")
    )
    n = write_predictions(out, records)
    log.info("%s: wrote %d predictions for %s/%s to %s", name, n, config, split, out)
    return n
