"""`vgbench eval / compare / protocols` through the entry point: outputs, and every bad-input class
of docs/formats.md#validation-and-errors (exit 2, one `error:` line, no traceback, nothing written)."""

import gzip
import json
import subprocess
import sys

import pytest

from evaluators import rle
from tests.evaluators.factory import perfect_prediction, random_dataset, target_row, write_jsonl
from vgbench.cli import main


@pytest.fixture
def files(tmp_path):
    rows, preds = random_dataset(12, seed=3)
    targets = write_jsonl(tmp_path / "targets.jsonl", rows)
    predictions = write_jsonl(tmp_path / "preds.jsonl", preds)
    return tmp_path, rows, preds, targets, predictions


def _eval(capsys, *argv):
    code = main(["eval", "--quiet", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _eval_gres(capsys, predictions, targets, *argv):
    return _eval(capsys, "--task", "gres", "--predictions", predictions, "--targets", targets, *argv)


def test_eval_writes_results_schema_and_per_sample(files, capsys):
    tmp, rows, _, targets, predictions = files
    out_json, per_sample = tmp / "r" / "results.json", tmp / "rows.jsonl"
    code, out, _ = _eval_gres(capsys, predictions, targets, "--out", out_json, "--per-sample", per_sample)
    assert code == 0
    assert "gIoU" in out
    assert "cIoU" in out
    res = json.loads(out_json.read_text())
    for key in (
        "task",
        "protocol",
        "protocol_version",
        "protocol_params",
        "metrics",
        "counts",
        "breakdown",
        "targets",
        "targets_sha256",
        "predictions_sha256",
        "vgbench_version",
        "created",
    ):
        assert key in res, key
    assert res["protocol"] == "gres/rela"
    assert res["protocol_params"]["resize"] is None
    assert set(res["metrics"]) >= {"giou", "ciou", "n_acc", "t_acc", "prec@0.7", "prec@0.8", "prec@0.9"}
    assert set(res["breakdown"]) == {"none", "single", "multi"}
    assert res["counts"]["expressions"] == len(rows)
    assert res["counts"]["missing"] == 0
    lines = [json.loads(x) for x in per_sample.read_text().splitlines()]
    assert [x["expr_id"] for x in lines] == [r["expr_id"] for r in rows]
    assert {"I", "U", "iou", "pred_no_target", "no_target"} <= set(lines[0])


def test_eval_json_envelope_and_gzip_agree(files, capsys):
    tmp, _, preds, targets, predictions = files
    env = tmp / "preds.json.gz"
    with gzip.open(env, "wt") as f:
        json.dump({"meta": {"model": "x"}, "predictions": preds[::-1]}, f)
    results = []
    for p in (predictions, env):
        out = tmp / f"{p.name}.results.json"
        assert _eval(capsys, "--task", "grec", "--predictions", p, "--targets", targets, "--out", out)[0] == 0
        results.append(json.loads(out.read_text())["metrics"])
    assert results[0] == results[1]


def test_eval_ci_is_seeded_and_keeps_point_estimates(files, capsys):
    tmp, _, _, targets, predictions = files
    outs = []
    for name in ("a", "b"):
        out = tmp / f"{name}.json"
        _eval_gres(capsys, predictions, targets, "--ci", "0.9", "--out", out)
        outs.append(json.loads(out.read_text()))
    plain = tmp / "plain.json"
    _eval_gres(capsys, predictions, targets, "--out", plain)
    assert outs[0]["ci"] == outs[1]["ci"]
    assert outs[0]["metrics"] == json.loads(plain.read_text())["metrics"]
    lo, hi = outs[0]["ci"]["intervals"]["giou"]
    assert lo <= outs[0]["metrics"]["giou"] <= hi


def test_compare_paired(files, capsys):
    tmp, rows, _preds, targets, predictions = files
    perfect = write_jsonl(tmp / "perfect.jsonl", [perfect_prediction(r) for r in rows])
    out = tmp / "cmp.json"
    code = main(
        [
            "compare",
            "--quiet",
            "--task",
            "gres",
            "--targets",
            str(targets),
            str(perfect),
            str(predictions),
            "--out",
            str(out),
            "--resamples",
            "200",
        ]
    )
    assert code == 0
    cmp = json.loads(out.read_text())
    giou = cmp["metrics"]["giou"]
    assert giou["a"] == 100.0
    assert giou["diff"] == pytest.approx(100.0 - giou["b"])
    assert giou["ci"][0] <= giou["diff"] <= giou["ci"][1] + 1e-9
    assert "A-B" in capsys.readouterr().out


def test_protocols_lists_every_default(capsys):
    assert main(["protocols", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    defaults = {e["task"]: e["name"] for e in entries if e["default"]}
    assert defaults == {
        "rec": "rec/iou",
        "res": "res/lavt",
        "grec": "grec/grefcoco",
        "gres": "gres/rela",
        "refzom": "refzom/dmmi",
        "rrefcoco": "rrefcoco/refsegformer",
    }


def test_validate_only_and_allow_missing(files, capsys):
    tmp, _rows, preds, targets, predictions = files
    code, out, _ = _eval(
        capsys, "--task", "gres", "--predictions", predictions, "--targets", targets, "--validate-only"
    )
    assert code == 0
    assert out.startswith("ok:")
    partial = write_jsonl(tmp / "partial.jsonl", preds[:-2])
    code, _, err = _eval(capsys, "--task", "gres", "--predictions", partial, "--targets", targets)
    assert code == 2
    assert "2 target expression(s) have no prediction" in err
    out = tmp / "m.json"
    code, _, _ = _eval_gres(capsys, partial, targets, "--allow-missing", "--out", out)
    assert code == 0
    assert json.loads(out.read_text())["counts"]["missing"] == 2


def _bad_records(rows):
    """(name, records, expected fragments) for each error class of docs/formats.md#validation-and-errors."""
    good = [perfect_prediction(r) for r in rows]
    eid = good[1]["expr_id"]

    def with_(index, **changes):
        recs = [dict(g) for g in good]
        recs[index] = {**recs[index], **changes}
        return recs

    inst = {"bbox": [0, 0, 2, 2], "score": 0.9}
    return [
        (
            "unknown expr_id",
            [*good, {**good[0], "expr_id": "nope/val/1"}],
            ["nope/val/1", "expr_id", "unknown"],
        ),
        ("duplicate", [*good, good[1]], [eid, "duplicate"]),
        ("wrong size", with_(1, mask=rle.empty(3, 3)), [eid, "'mask'", "size"]),
        ("malformed rle", with_(1, mask={"size": [24, 32], "counts": "!!"}), [eid, "'mask'", "malformed"]),
        (
            "nan bbox",
            with_(1, instances=[{**inst, "bbox": [0, float("nan"), 2, 2]}]),
            [eid, "instances[0].bbox"],
        ),
        (
            "inf bbox",
            with_(1, instances=[{**inst, "bbox": [0, 0, float("inf"), 2]}]),
            [eid, "instances[0].bbox"],
        ),
        (
            "negative wh",
            with_(1, instances=[{**inst, "bbox": [0, 0, -1, 2]}]),
            [eid, "instances[0].bbox", ">= 0"],
        ),
        ("score > 1", with_(1, instances=[{**inst, "score": 1.5}]), [eid, "instances[0].score"]),
        ("score nan", with_(1, instances=[{**inst, "score": float("nan")}]), [eid, "instances[0].score"]),
        (
            "missing expr_id",
            [{k: v for k, v in g.items() if k != "expr_id"} for g in good],
            ["expr_id", "missing"],
        ),
        ("missing mask", with_(1, mask=None, instances=None), [eid, "'mask'", "missing"]),
        ("missing segmentation", with_(1, mask=None, instances=[inst]), [eid, "segmentation"]),
    ]


@pytest.mark.parametrize("case", range(12))
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, case):
    rows, _ = random_dataset(6, seed=1)
    rows = [r for r in rows] or rows
    name, records, fragments = _bad_records(rows)[case]
    targets = write_jsonl(tmp_path / "t.jsonl", rows)
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r, allow_nan=True) + "\n" for r in records))
    out = tmp_path / "results.json"
    code, _, err = _eval(capsys, "--task", "gres", "--predictions", path, "--targets", targets, "--out", out)
    assert code == 2, name
    assert err.startswith("error:"), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err, err
    assert str(path) in err
    assert ":" in err
    for fragment in fragments:
        assert fragment in err, (name, fragment, err)
    assert not out.exists()
    assert not list(tmp_path.glob(".results.json.*"))


def test_grec_needs_instances_and_line_numbers(tmp_path, capsys):
    rows = [target_row("g/val/1", [(0, 0, 4, 4)]), target_row("g/val/2", [])]
    targets = write_jsonl(tmp_path / "t.jsonl", rows)
    preds = write_jsonl(
        tmp_path / "p.jsonl", [{"expr_id": "g/val/1", "instances": []}, {"expr_id": "g/val/2"}]
    )
    code, _, err = _eval(capsys, "--task", "grec", "--predictions", preds, "--targets", targets)
    assert code == 2
    assert f"{preds}:2" in err
    assert "'instances'" in err


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["eval", "--task", "gres"]) == 2
    assert capsys.readouterr().err.startswith("error:")
    t = write_jsonl(tmp_path / "t.jsonl", [target_row("a", [])])
    p = write_jsonl(tmp_path / "p.jsonl", [{"expr_id": "a", "mask": rle.empty(20, 30)}])
    assert (
        main(
            ["eval", "--task", "gres", "--predictions", str(p), "--targets", str(t), "--protocol", "gres/rla"]
        )
        == 2
    )
    assert "did you mean 'gres/rela'" in capsys.readouterr().err
    assert (
        main(
            [
                "eval",
                "--task",
                "grec",
                "--predictions",
                str(p),
                "--targets",
                str(t),
                "--protocol",
                "gres/rela",
            ]
        )
        == 2
    )
    assert (
        main(["eval", "--task", "gres", "--predictions", str(tmp_path / "x.jsonl"), "--targets", str(t)]) == 2
    )
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    assert (
        main(["eval", "--task", "gres", "--predictions", str(tmp_path / "broken.jsonl"), "--targets", str(t)])
        == 2
    )
    assert "broken.jsonl:1" in capsys.readouterr().err


def test_import_is_light():
    code = "import sys, evaluators; import evaluators.cli_eval; print('torch' in sys.modules, 'datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
