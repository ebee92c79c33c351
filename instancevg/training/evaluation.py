"""Per-epoch evaluation: score a predictions file with the default protocol of each matching task.

The task(s) follow the data config's dataset (the name before the first ``_``):

| dataset | tasks |
|---|---|
| ``grefcoco`` | ``grec``, ``gres`` |
| ``refcoco``, ``refcocoplus``, ``refcocog``, ``refmix`` | ``rec``, ``res`` |
| ``refzom`` | ``refzom`` |
| ``rrefcoco``, ``rrefcocoplus``, ``rrefcocog`` | ``rrefcoco`` |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.api import score_files
from evaluators.errors import InputError
from evaluators.results import HEADLINE

__all__ = ["TASKS_BY_DATASET", "score_predictions", "selection_value", "tasks_for_config"]

TASKS_BY_DATASET: dict[str, tuple[str, ...]] = {
    "grefcoco": ("grec", "gres"),
    "refcoco": ("rec", "res"),
    "refcocoplus": ("rec", "res"),
    "refcocog": ("rec", "res"),
    "refmix": ("rec", "res"),
    "refzom": ("refzom",),
    "rrefcoco": ("rrefcoco",),
    "rrefcocoplus": ("rrefcoco",),
    "rrefcocog": ("rrefcoco",),
}


def selection_value(metrics: dict[str, dict[str, Any]]) -> tuple[str, float] | None:
    """``("task/metric", value)`` that ranks epochs for ``RUN/best.pt``: the first evaluated task's
    headline metric (`evaluators.results.HEADLINE`); None when the evaluation has no such value."""
    for task, values in metrics.items():
        key = HEADLINE.get(task)
        value = values.get(key) if key else None
        if isinstance(value, (int, float)):
            return f"{task}/{key}", float(value)
    return None


def tasks_for_config(config: str) -> tuple[str, ...]:
    """The evaluation tasks of a data config, e.g. ``grefcoco_unc`` -> ``("grec", "gres")``."""
    dataset = config.split("_", 1)[0]
    if dataset not in TASKS_BY_DATASET:
        raise InputError(
            f"config {config!r}: unknown dataset {dataset!r} (known: {', '.join(TASKS_BY_DATASET)})"
        )
    return TASKS_BY_DATASET[dataset]


def score_predictions(
    predictions: str | Path, data_dir: str | Path, config: str, split: str
) -> dict[str, dict[str, Any]]:
    """``{task: results dict}`` for every task of ``config`` (default protocols, no resize)."""
    return {
        task: score_files(task, predictions, data_dir, config=config, split=split).results
        for task in tasks_for_config(config)
    }
