"""`vgbench reproduce` (vgbench/cli_reproduce.py) with the official tiny fixture checkpoint: the reproduced rows
join the paper's tables, and a re-run keeps the predictions already written."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("datasets")

from tests.instancevg.official_inputs import CHECKPOINT, HEADS, run_cli
from tests.instancevg.test_train_data import one_torch_thread


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


def test_reproduce_joins_the_paper_tables(official_built, capsys, tmp_path):
    _, data, spm = official_built
    out = tmp_path / "repro"
    argv = ["reproduce", "--quiet", "--table", "gres,grec", "--checkpoint", CHECKPOINT, "--spm", spm, *HEADS,
            "--data", data, "--out", out, "--device", "cpu", "--backbone", "BEiT3-ViT-B"]  # fmt: skip
    code, _stdout, err = run_cli(capsys, *argv)
    assert code == 0, err
    results = json.loads((out / "results" / "InstanceVG" / "grefcoco_unc_val_gres.json").read_text())
    assert results["protocol"] == "gres/instancevg"
    assert results["backbone"] == "BEiT3-ViT-B"
    table = (out / "tables" / "gres.md").read_text()
    assert "gres/instancevg" in table
    assert "Δ" in table
    preds = out / "predictions" / "grefcoco_unc_val.jsonl.gz"
    before = preds.stat().st_mtime_ns
    code, _, err = run_cli(capsys, *argv)  # a re-run keeps the predictions already written
    assert code == 0, err
    assert preds.stat().st_mtime_ns == before
