"""``vgbench baseline`` through the dispatcher: exit codes, one-line errors, outputs that validate."""

from __future__ import annotations

import json

import pytest

from tests.baselines.factory import rows_of, write_dataset
from vgbench.cli import main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("built"))


def test_baseline_then_eval(data, tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    args = ["--data", str(data), "--config", "grefcoco_unc", "--split", "val", "--out", str(out)]
    assert main(["baseline", "oracle-jitter", *args, "--quiet", "--seed", "1"]) == 0
    assert "wrote 6 predictions" in capsys.readouterr().out
    ev = ["eval", "--task", "grec", "--predictions", str(out), "--targets", str(data)]
    assert main([*ev, "--config", "grefcoco_unc", "--split", "val", "--validate-only"]) == 0


def test_cli_errors_are_one_line(data, tmp_path, capsys):
    base = [
        "--data",
        str(data),
        "--config",
        "grefcoco_unc",
        "--split",
        "val",
        "--out",
        str(tmp_path / "p.jsonl"),
    ]
    assert main(["baseline", "emtpy", *base]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "did you mean 'empty'" in err
    assert err.count("\n") == 1
    assert main(["baseline", "png-masks", *base]) == 2
    assert "--input is required" in capsys.readouterr().err
    assert main(["baseline", "coco-results", *base, "--input", str(tmp_path)]) == 2
    assert "--mapping" in capsys.readouterr().err
    assert main(["baseline", "empty", "--data", str(data)]) == 2
    assert not (tmp_path / "p.jsonl").exists()


def test_cli_adapters(data, tmp_path):
    rows = rows_of("grefcoco_unc", "val")
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        "".join(
            json.dumps({"expr_id": r["expr_id"], "pred_bboxes": [], "pred_scores": []}) + "\n" for r in rows
        )
    )
    out = tmp_path / "p.jsonl"
    base = ["--data", str(data), "--config", "grefcoco_unc", "--split", "val", "--out", str(out), "--quiet"]
    assert main(["baseline", "vg-dump", *base, "--input", str(dump)]) == 0
    assert all(json.loads(line)["no_target"] for line in out.read_text().splitlines())
    (tmp_path / "r.json").write_text("[]")
    (tmp_path / "m.json").write_text("{}")
    args = ["--input", str(tmp_path / "r.json"), "--mapping", str(tmp_path / "m.json")]
    assert main(["baseline", "coco-results", *base, *args]) == 0
    (tmp_path / "pngs").mkdir()
    assert main(["baseline", "png-masks", *base, "--input", str(tmp_path / "pngs"), "--allow-missing"]) == 0
