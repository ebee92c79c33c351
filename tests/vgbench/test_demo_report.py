"""The demo's report step (vgbench/demo/pipeline.py: step_report) writes the model's report next to
the best text-blind baseline, with images, into OUT/report (run here without the training)."""

from __future__ import annotations

import json

import pytest

from tests.vgbench.conftest import CONFIG, SPLIT
from vgbench.demo.pipeline import MODEL_NAME, step_report

pytest.importorskip("PIL")
pytest.importorskip("datasets")


def test_demo_report_step(built, preds, tmp_path):
    source, data = built
    key = f"{CONFIG}/{SPLIT}"
    predictions = {
        MODEL_NAME: {key: preds["oracle-jitter"]},
        "largest-object": {key: preds["largest-object"]},
    }
    page = step_report(tmp_path, data, source, predictions, quiet=True)
    assert page == tmp_path / "report" / "index.html"
    assert page.is_file()
    summary = json.loads((tmp_path / "report" / "report.json").read_text())
    assert list(summary["models"]) == [MODEL_NAME, "largest-object"]
    assert summary["paired"]["grec"]["protocol"] == "grec/grefcoco"
    assert "images" in page.read_text()
    assert "blank canvas" not in page.read_text()
