"""build -> export-targets -> `vgbench eval` of perfect predictions scores 100 on every task."""

import json

import pytest

from datasets_builders.reading import iter_rows
from vgbench.cli import main

CASES = [
    ("rec", "refcoco_unc", "val"),
    ("res", "refcocog_umd", "test"),
    ("grec", "grefcoco_unc", "val"),
    ("gres", "grefcoco_unc", "testA"),
    ("refzom", "refzom_final", "test"),
    ("rrefcoco", "rrefcoco_unc", "val"),
]


def _perfect(row):
    return {
        "expr_id": row["expr_id"],
        "instances": [{"bbox": t["bbox"], "score": 1.0, "segmentation": t["mask"]} for t in row["targets"]],
        "mask": row["mask"],
        "no_target": row["no_target"],
    }


@pytest.mark.parametrize(("task", "config", "split"), CASES)
def test_perfect_predictions_score_100(built, tmp_path, capsys, task, config, split):
    targets = tmp_path / "targets.jsonl"
    assert (
        main(
            [
                "export-targets",
                "--quiet",
                "--data",
                str(built),
                "--config",
                config,
                "--split",
                split,
                "--out",
                str(targets),
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in targets.read_text().splitlines()]
    assert [r["expr_id"] for r in rows] == [
        r["expr_id"] for r in iter_rows(built, config, split, columns=["expr_id"])
    ]
    assert "image" not in rows[0]
    assert "tokens" not in rows[0]
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps(_perfect(r)) + "\n" for r in rows))
    out = tmp_path / "results.json"
    for target_args in (
        ["--targets", str(targets)],
        ["--targets", str(built), "--config", config, "--split", split],
    ):
        code = main(
            ["eval", "--quiet", "--task", task, "--predictions", str(preds), *target_args, "--out", str(out)]
        )
        capsys.readouterr()
        assert code == 0
        metrics = json.loads(out.read_text())["metrics"]
        assert metrics
        assert all(v == pytest.approx(100.0) for v in metrics.values() if v is not None), metrics
        assert json.loads(out.read_text())["counts"]["expressions"] == len(rows)


def test_export_of_a_missing_split_is_a_clear_error(built, tmp_path, capsys):
    code = main(
        [
            "export-targets",
            "--data",
            str(built),
            "--config",
            "refcoco_unc",
            "--split",
            "testC",
            "--out",
            str(tmp_path / "t.jsonl"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error:")
    assert "testC" in err
    assert "Traceback" not in err
    assert not (tmp_path / "t.jsonl").exists()
