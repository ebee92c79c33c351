"""`vgbench predict` on the synthetic benchmark: files valid per docs/formats.md#predictions-file for every task family."""

import dataclasses
import gzip
import json

import pytest

from datasets_builders.build import build_dataset
from datasets_builders.reading import iter_rows
from datasets_builders.synth import write_synth
from evaluators.api import score_files, validate_files
from instancevg.config import load_config
from instancevg.training import RunOptions, predict, train
from tests.instancevg.test_train_data import one_torch_thread
from vgbench.cli import main


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    source = write_synth(root / "src", images=12, seed=1)
    data = build_dataset(source, root / "data", quiet=True)
    embedded = build_dataset(
        source, root / "embedded", configs=["grefcoco_unc"], embed_images=True, quiet=True
    )
    return root, data, embedded


@pytest.fixture(scope="module")
def checkpoint(synth):
    root, data, _ = synth
    cfg = load_config("tiny-cpu", ["img_size=32", "max_tokens=12", "num_queries=4"])
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, epochs=0))
    train(cfg, data, root / "run", quiet=True, options=RunOptions(evaluate=False))
    return root / "run" / "last.pt"


def _cli(capsys, *argv):
    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("config", "split", "tasks"),
    [
        ("grefcoco_unc", "val", ("grec", "gres")),
        ("refcoco_unc", "testA", ("rec", "res")),
        ("refzom_final", "test", ("refzom",)),
        ("rrefcoco_unc", "val", ("rrefcoco",)),
    ],
)
def test_predictions_validate_for_every_task(synth, checkpoint, tmp_path, capsys, config, split, tasks):
    _, data, _ = synth
    out = tmp_path / f"{config}.jsonl"
    code, stdout, err = _cli(
        capsys,
        "predict",
        "--quiet",
        "--checkpoint",
        checkpoint,
        "--data",
        data,
        "--config",
        config,
        "--split",
        split,
        "--out",
        out,
        "--batch-size",
        "5",
    )
    assert code == 0, err
    assert stdout.strip() == str(out)
    rows = list(iter_rows(data, config, split, columns=["expr_id", "height", "width"]))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["expr_id"] for r in records] == [r["expr_id"] for r in rows]
    for rec, row in zip(records, rows):
        assert rec["mask"]["size"] == [row["height"], row["width"]]
        assert isinstance(rec["no_target"], bool)
        assert 0.0 <= rec["no_target_score"] <= 1.0
        for inst in rec["instances"]:
            x, y, w, h = inst["bbox"]
            eps = 1e-6  # x + w recomputed from a clipped xyxy box may round past the border
            assert x >= 0
            assert w >= 0
            assert x + w <= row["width"] + eps
            assert y >= 0
            assert h >= 0
            assert y + h <= row["height"] + eps
            assert 0.0 <= inst["score"] <= 1.0
    for task in tasks:
        code, _, err = _cli(
            capsys,
            "eval",
            "--quiet",
            "--task",
            task,
            "--predictions",
            out,
            "--targets",
            data,
            "--config",
            config,
            "--split",
            split,
            "--validate-only",
        )
        assert code == 0, err
        assert validate_files(task, out, data, config, split)["missing"] == 0
        metrics = score_files(task, out, data, config=config, split=split).results["metrics"]
        assert metrics  # scored without error; values depend on the untrained weights


def test_api_gzip_output_and_embedded_images(synth, checkpoint, tmp_path):
    _root, data, embedded = synth
    a = predict(checkpoint, data, "grefcoco_unc", "testA", tmp_path / "a.jsonl", batch_size=3, quiet=True)
    b = predict(
        checkpoint, embedded, "grefcoco_unc", "testA", tmp_path / "b.jsonl.gz", batch_size=3, quiet=True
    )
    with gzip.open(b, "rt") as f:
        assert f.read() == a.read_text()  # the same images whether embedded or on disk
    c = predict(checkpoint, data, "grefcoco_unc", "testA", tmp_path / "c.jsonl", batch_size=7, quiet=True)
    rec_a = [json.loads(x) for x in a.read_text().splitlines()]
    rec_c = [json.loads(x) for x in c.read_text().splitlines()]
    # another batch size: same records up to float rounding (BLAS blocking depends on the batch)
    assert [r["expr_id"] for r in rec_a] == [r["expr_id"] for r in rec_c]
    assert [r["no_target_score"] for r in rec_a] == pytest.approx(
        [r["no_target_score"] for r in rec_c], abs=1e-4
    )


def test_bf16_opt_in_validates_and_stays_close_to_fp32(synth, checkpoint, tmp_path, capsys):
    import torch

    from instancevg.training.inference import to_float32

    nested = to_float32({"a": torch.ones(2, dtype=torch.bfloat16), "b": [torch.ones(1, dtype=torch.float16)]})
    assert nested["a"].dtype == torch.float32
    assert nested["b"][0].dtype == torch.float32
    _, data, _ = synth
    fp32 = predict(checkpoint, data, "grefcoco_unc", "val", tmp_path / "fp32.jsonl", quiet=True)
    out = tmp_path / "bf16.jsonl"
    code, _, err = _cli(
        capsys, "predict", "--checkpoint", checkpoint, "--data", data, "--config", "grefcoco_unc",
        "--split", "val", "--out", out, "--bf16", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    validate_files("gres", out, data, config="grefcoco_unc", split="val")
    rec_32 = [json.loads(x) for x in fp32.read_text().splitlines()]
    rec_16 = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["expr_id"] for r in rec_32] == [r["expr_id"] for r in rec_16]
    # bfloat16 keeps 8 bits of mantissa: scores agree to about 1e-2, not exactly (so bf16 really ran)
    assert [r["no_target_score"] for r in rec_16] != [r["no_target_score"] for r in rec_32]
    assert [r["no_target_score"] for r in rec_16] == pytest.approx(
        [r["no_target_score"] for r in rec_32], abs=5e-2
    )


def test_bad_inputs_exit_2_with_one_error_line(synth, checkpoint, tmp_path, capsys):
    _, data, _ = synth
    base = ["predict", "--quiet", "--data", data, "--split", "val", "--out", tmp_path / "p.jsonl"]
    (tmp_path / "junk.pt").write_bytes(b"junk")
    cases = [
        ([*base, "--checkpoint", tmp_path / "junk.pt", "--config", "grefcoco_unc"], "cannot read checkpoint"),
        ([*base, "--checkpoint", checkpoint, "--config", "nope_unc"], "nope_unc"),
        (
            [*base, "--checkpoint", checkpoint, "--config", "grefcoco_unc", "--images", tmp_path],
            "image not found",
        ),
    ]
    for argv, message in cases:
        code, _, err = _cli(capsys, *argv)
        assert code == 2
        assert err.startswith("error:")
        assert message in err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.jsonl").exists()
