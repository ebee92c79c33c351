"""DistributedDataParallel on the CPU: `torchrun --nproc_per_node 2 -m vgbench train` with gloo."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from instancevg.training import load_checkpoint, read_log
from tests.instancevg.test_train_data import tiny_train_argv, write_tiny_build

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "img_size=32",
    "vocab_size=64",
    "max_tokens=8",
    "num_queries=3",
    "train.batch_size=2",
    "run.device=cpu",
]


def torchrun(data, run, *overrides, resume=False):
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "vgbench",
        *tiny_train_argv(data, run, "--set", *TINY, *overrides),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        cmd + (["--resume"] if resume else []), cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_build(tmp_path_factory.mktemp("ddp"), n_train=10, n_val=5)


def test_two_gloo_processes_train_evaluate_and_checkpoint(data, tmp_path):
    run = tmp_path / "run"
    proc = torchrun(data, run, "train.epochs=1", "run.log_every=1")
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])  # printed once, by rank 0
    assert summary["world_size"] == 2
    assert summary["epochs_completed"] == 1
    log = read_log(run / "log.jsonl")
    assert log[0]["event"] == "start"
    assert log[0]["world_size"] == 2
    # DistributedSampler: 10 samples -> 5 per rank -> 3 steps of 2 per rank
    assert [r["step"] for r in log if r["event"] == "step"] == [1, 2, 3]
    evals = [r for r in log if r["event"] == "eval"]
    assert len(evals) == 1
    assert set(evals[0]["metrics"]) == {"grec", "gres"}
    # the val rows were split over the two ranks and gathered back in dataset order, once each
    preds = [json.loads(x)["expr_id"] for x in Path(evals[0]["predictions"]).read_text().splitlines()]
    assert preds == [f"grefcoco_unc/val/{1000 + i}" for i in range(5)]
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt["world_size"] == 2
    assert len(ckpt["rng"]) == 2
    assert not any(k.startswith("module.") for k in ckpt["model"])  # saved unwrapped from DDP


@pytest.mark.slow
def test_distributed_resume_equals_uninterrupted(data, tmp_path):
    torchrun(data, tmp_path / "full", "train.epochs=2", "run.evaluate=false")
    torchrun(data, tmp_path / "cut", "train.epochs=1", "run.evaluate=false")
    torchrun(data, tmp_path / "cut", "train.epochs=2", "run.evaluate=false", resume=True)
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(tmp_path / "cut" / "last.pt")
    assert a["global_step"] == b["global_step"] == 6
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


@pytest.mark.slow
def test_distributed_time_budget_stops_every_rank_at_the_same_step(data, tmp_path):
    proc = torchrun(data, tmp_path / "run", "train.epochs=5", "--time-budget", "0")
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert summary["stopped"] == "time_budget"
    assert summary["global_step"] == 1
    assert load_checkpoint(tmp_path / "run" / "last.pt")["step_in_epoch"] == 1
