"""Shared fixtures of the report tests: a small synthetic build and a few baselines' predictions (they need
the data extra: pillow and datasets)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIG, SPLIT = "grefcoco_unc", "val"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``(source, data)`` of a 12-image synthetic build."""
    pytest.importorskip("PIL")
    pytest.importorskip("datasets")
    from datasets_builders.build import build_dataset
    from datasets_builders.synth import write_synth

    root = tmp_path_factory.mktemp("report-data")
    source = write_synth(root / "src", images=12, seed=3)
    data = build_dataset(source, root / "data", quiet=True)
    return root / "src", data


@pytest.fixture(scope="session")
def preds(built, tmp_path_factory):
    """``{baseline: predictions file}`` on grefcoco_unc val."""
    from baselines import run_baseline

    source, data = built
    root = tmp_path_factory.mktemp("report-preds")
    out = {}
    for name in ("empty", "largest-object", "oracle-jitter"):
        out[name] = root / f"{name}.jsonl"
        run_baseline(name, data, CONFIG, SPLIT, out[name], seed=0, source=source, quiet=True)
    return out
