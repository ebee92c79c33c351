"""`vgbench predict` with a released-format checkpoint (the official tiny fixture model): the official input
pipeline, valid predictions for GREC and GRES, the same records as a direct forward pass and `torchrun` sharding
into one merged file (`vgbench reproduce`: tests/vgbench/test_reproduce.py)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from datasets_builders.reading import iter_rows
from evaluators.api import validate_files
from instancevg import load_official
from instancevg.postprocess import postprocess
from instancevg.tokenizer import Tokenizer
from tests.instancevg.official_inputs import CHECKPOINT, HEADS, run_cli
from tests.instancevg.test_train_data import one_torch_thread
from vgbench.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


def _read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def predicted(official_built, tmp_path_factory):
    root, data, spm = official_built
    out = root / "official.jsonl"
    code = main(
        ["predict", "--quiet", "--checkpoint", str(CHECKPOINT), "--spm", str(spm), *HEADS, "--data", str(data),
         "--config", "grefcoco_unc", "--split", "val", "--out", str(out), "--batch-size", "1", "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    return out


def test_official_predictions_validate(official_built, predicted):
    _, data, _ = official_built
    for task in ("grec", "gres"):
        counts = validate_files(task, predicted, data, "grefcoco_unc", "val")
        assert counts["missing"] == 0
        assert counts["expressions"] > 0
    records = _read(predicted)
    assert all(len(r["instances"]) == 10 for r in records)  # every query listed, as the official pred_bboxes


def test_records_equal_a_direct_official_forward(official_built, predicted):
    from instancevg.official.preprocess import official_inputs

    _, data, spm = official_built
    rows = list(iter_rows(data, "grefcoco_unc", "val"))[:2]
    model = load_official(CHECKPOINT, encoder_heads=4)
    tokenizer = Tokenizer.from_file(spm)
    from datasets_builders.images import resolve_images_dir

    images = resolve_images_dir(data, None)
    samples = [official_inputs(images / r["file_name"], r["sentence"], tokenizer, 128, 50) for r in rows]
    with torch.no_grad():
        outputs = model(
            torch.stack([s[0] for s in samples]),
            torch.stack([s[1] for s in samples]),
            torch.stack([s[2] for s in samples]),
        )
    metas = [{"expr_id": r["expr_id"], "orig_size": (r["height"], r["width"])} for r in rows]
    expected = postprocess(outputs, metas, model.cfg)
    got = _read(predicted)[:2]
    for want, have in zip(expected, got):
        assert have["expr_id"] == want["expr_id"]
        assert have["mask"] == want["mask"]
        assert have["no_target"] == want["no_target"]
        for a, b in zip(have["instances"], want["instances"]):
            assert a["bbox"] == pytest.approx(b["bbox"], abs=1e-3)
            assert a["score"] == pytest.approx(b["score"], abs=1e-5)


def test_official_checkpoint_needs_the_spm(official_built, tmp_path, capsys):
    _, data, _ = official_built
    code, _, err = run_cli(
        capsys, "predict", "--checkpoint", CHECKPOINT, "--data", data, "--config", "grefcoco_unc", "--split", "val",
        "--out", tmp_path / "p.jsonl",
    )  # fmt: skip
    assert code == 2
    assert "--spm beit3.spm" in err
    assert not (tmp_path / "p.jsonl").exists()


def test_torchrun_shards_and_merges(official_built, predicted, tmp_path):
    _, data, spm = official_built
    out = tmp_path / "merged.jsonl"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "vgbench",
        "predict", "--quiet", "--checkpoint", str(CHECKPOINT), "--spm", str(spm), *HEADS, "--data", str(data),
        "--config", "grefcoco_unc", "--split", "val", "--out", str(out), "--batch-size", "1", "--device", "cpu",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _read(out) == _read(predicted)


def test_one_query_refcoco_layout_writes_its_box_whatever_its_score(official_built, tmp_path):
    """The RefCOCO checkpoints have one query (and 20 tokens): REC scores its box even below 0.7, as the official
    ``accuracy`` takes the top-scoring box; the inferred config follows the RefCOCO config."""
    _, data, spm = official_built
    state = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)["state_dict"]
    state["head.query_generation.query_embed.weight"] = state["head.query_generation.query_embed.weight"][:1]
    path = tmp_path / "InstanceVG-tiny-refcoco.pth"
    torch.save({"state_dict": state, "epoch": 19}, path)
    out = tmp_path / "refcoco.jsonl"
    argv = ["predict", "--quiet", "--checkpoint", path, "--spm", spm, *HEADS, "--data", data, "--config",
            "refcoco_unc", "--split", "testA", "--out", out, "--device", "cpu"]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    assert load_official(path, encoder_heads=4).cfg.max_tokens == 20
    records = _read(out)
    assert all(len(r["instances"]) == 1 for r in records)
    for task in ("rec", "res"):
        assert validate_files(task, out, data, "refcoco_unc", "testA")["missing"] == 0
