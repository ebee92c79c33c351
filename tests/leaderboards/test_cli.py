"""`vgbench leaderboard` through the entry point, including a results file written by `vgbench eval`."""

import json

from tests.evaluators.factory import random_dataset, write_jsonl
from vgbench.cli import main


def run(capsys, *argv):
    code = main(["leaderboard", "--quiet", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok(capsys):
    code, out, _err = run(capsys, "--check")
    assert code == 0
    assert out.startswith("ok: 1270 published numbers from 21 tables of 4 sources")


def test_check_bad_data_exits_2_with_one_error_line(capsys, tmp_path):
    from leaderboards.schema import PUBLISHED_CSV

    lines = PUBLISHED_CSV.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "p.csv"
    bad.write_text(
        "\n".join([*lines[:3], lines[2].replace(",prec@0.5,", ",prec@50,")]) + "\n", encoding="utf-8"
    )
    code, _out, err = run(capsys, "--check", "--data", bad)
    assert code == 2
    assert err.count("error:") == 1
    assert "unknown metric 'prec@50'" in err
    assert "Traceback" not in err


def test_table_renders_requested_formats(capsys, tmp_path):
    code, out, _ = run(capsys, "--table", "refzom", "--out", tmp_path, "--format", "md,csv")
    assert code == 0
    assert out.split() == [str(tmp_path / "refzom.md"), str(tmp_path / "refzom.csv")]
    assert (
        "| InstanceVG (Ours) | BEiT3-ViT-B | **71.52** | **71.12** | **97.42** |"
        in (tmp_path / "refzom.md").read_text()
    )


def test_usage_errors_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "--table", "gress", "--out", tmp_path)
    assert code == 2
    assert "did you mean 'gres'" in err
    code, _, err = run(capsys, "--table", "gres")
    assert code == 2
    assert "--out: required" in err
    code, _, err = run(capsys, "--table", "gres", "--out", tmp_path, "--format", "pdf")
    assert code == 2
    assert "unknown format" in err
    code, _, err = run(capsys, "--table", "gres", "--out", tmp_path, "--results", tmp_path / "nope")
    assert code == 2
    assert "is not a folder" in err


def test_results_from_vgbench_eval_join_as_reproduced_rows(capsys, tmp_path):
    rows, preds = random_dataset(12, seed=3)
    targets = write_jsonl(tmp_path / "targets.jsonl", rows)
    predictions = write_jsonl(tmp_path / "preds.jsonl", preds)
    results = tmp_path / "results" / "my-model" / "grefcoco_unc_val_gres.json"
    results.parent.mkdir(parents=True)
    assert (
        main(
            [
                "eval",
                "--quiet",
                "--task",
                "gres",
                "--predictions",
                str(predictions),
                "--targets",
                str(targets),
                "--out",
                str(results),
            ]
        )
        == 0
    )
    capsys.readouterr()
    giou = json.loads(results.read_text())["metrics"]["giou"]
    code, _, _ = run(
        capsys,
        "--table",
        "gres",
        "--results",
        tmp_path / "results",
        "--out",
        tmp_path / "out",
        "--format",
        "csv",
    )
    assert code == 0
    line = next(x for x in (tmp_path / "out" / "gres.csv").read_text().splitlines() if ",reproduced," in x)
    assert line.startswith(
        f"Reproduced (computed by vgbench eval),reproduced,my-model (reproduced; gres/rela v1),,{giou:.2f},"
    )


def test_computed_only_table(capsys, tmp_path):
    res = tmp_path / "res" / "m1" / "r.json"
    res.parent.mkdir(parents=True)
    res.write_text(
        json.dumps(
            {
                "task": "grec",
                "protocol": "grec/grefcoco",
                "protocol_version": 1,
                "protocol_params": {},
                "metrics": {"f1_score": 50.0, "n_acc": None, "t_acc": 60.0},
                "targets": "d:grefcoco_unc/val",
            }
        )
    )
    code, out, _ = run(
        capsys,
        "--table",
        "computed",
        "--results",
        tmp_path / "res",
        "--out",
        tmp_path / "o",
        "--format",
        "csv",
    )
    assert code == 0
    assert out.split() == [str(tmp_path / "o" / "computed.csv")]
    assert (tmp_path / "o" / "computed.csv").read_text().splitlines()[
        1
    ] == ",computed,m1,grec/grefcoco v1,50.00,n/a,60.00"
    code, _, err = run(capsys, "--table", "computed", "--out", tmp_path / "o")
    assert code == 2
    assert "--results: required" in err
