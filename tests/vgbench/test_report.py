"""``vgbench report``: the numbers equal ``vgbench eval`` / ``compare``, outcomes and breakdowns add
up, the thumbnails draw what they should, bad input writes nothing, re-runs reuse thumbnails."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaluators import rle, score_files
from tests.vgbench.conftest import CONFIG, SPLIT
from vgbench.cli import main
from vgbench.report import build_report
from vgbench.report.thumbs import BLANK, COLOURS, Drawing, render

pytest.importorskip("PIL")
pytest.importorskip("datasets")


def _data_js(out: Path) -> dict:
    text = (out / "data.js").read_text(encoding="utf-8")
    prefix = "window.VGB_REPORT = "
    assert text.startswith(prefix)
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))


@pytest.fixture(scope="module")
def report(built, preds, tmp_path_factory):
    source, data = built
    out = tmp_path_factory.mktemp("rep") / "report"
    argv = ["report", "--predictions", str(preds["largest-object"]), "--targets", str(data)]
    argv += ["--config", CONFIG, "--split", SPLIT, "--images", str(source / "images"), "--out", str(out)]
    argv += ["--compare", str(preds["oracle-jitter"]), "--resamples", "200", "--quiet"]
    assert main(argv) == 0
    return out


def test_report_is_self_contained(report):
    names = {p.name for p in report.iterdir()}
    assert {"index.html", "report.css", "report.js", "data.js", "report.json", "thumbs"} <= names
    for name in ("index.html", "report.css", "report.js", "data.js"):
        text = (report / name).read_text(encoding="utf-8")
        assert "http://" not in text, name
        assert "https://" not in text, name
        assert "//cdn" not in text, name
    html = (report / "index.html").read_text(encoding="utf-8")
    assert '<script src="data.js">' in html
    assert '<script src="report.js">' in html
    data = _data_js(report)
    for card in data["cards"]:
        for side in ("a", "b"):
            assert (report / card[side]["th"]).is_file()
    assert not list(report.parent.glob(".report.tmp-*"))


def test_metrics_equal_vgbench_eval(report, built, preds):
    _, data = built
    summary = json.loads((report / "report.json").read_text())
    assert summary["tasks"] == ["grec", "gres"]
    model = summary["models"]["largest-object.jsonl"]
    for task in ("grec", "gres"):
        for res in model["results"][task]:
            ref = score_files(task, preds["largest-object"], data, CONFIG, SPLIT, protocol=res["protocol"])
            assert res["metrics"] == ref.results["metrics"]
            assert set(res["ci"]["intervals"]) == set(res["metrics"])
        # breakdown by target type equals the evaluator's own breakdown
        default = model["results"][task][0]
        for tt, metrics in model["breakdowns"]["target_type"].items():
            assert metrics[task] == default["breakdown"][tt]
    n = summary["expressions"]
    for dim, counts in model["breakdown_counts"].items():
        assert sum(counts.values()) == n, dim


def test_paired_statistics_equal_vgbench_compare(report, built, preds, tmp_path, capsys):
    _, data = built
    summary = json.loads((report / "report.json").read_text())
    for task in ("grec", "gres"):
        out = tmp_path / f"{task}.json"
        argv = ["compare", "--task", task, "--targets", str(data), "--config", CONFIG, "--split", SPLIT]
        argv += [
            str(preds["largest-object"]),
            str(preds["oracle-jitter"]),
            "--resamples",
            "200",
            "--out",
            str(out),
        ]
        assert main(argv) == 0
        ref = json.loads(out.read_text())
        assert summary["paired"][task]["metrics"] == ref["metrics"]
    assert sum(summary["pair_counts"].values()) == summary["expressions"]


def test_outcome_tags_of_the_empty_baseline(built, preds, tmp_path):
    _, data = built
    result = build_report(preds["empty"], data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True)
    assert result["thumbnails"]["drawn"] > 0
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    counts = summary["models"]["empty.jsonl"]["breakdown_counts"]["target_type"]
    tags = summary["tag_counts"]
    n_none = counts.get("none", 0)
    assert n_none > 0
    assert tags["nt_right"] == n_none
    assert tags["correct"] == n_none
    assert tags["said_empty"] == summary["expressions"] - n_none
    assert tags["missed"] == tags["extra"] == tags["low_iou"] == tags["nt_wrong"] == 0


def test_blank_canvas_without_images(built, preds, tmp_path):
    _, data = built
    build_report(preds["empty"], data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True)
    from PIL import Image

    card = _data_js(tmp_path / "r")["cards"][0]
    with Image.open(tmp_path / "r" / card["a"]["th"]) as img:
        assert max(img.size) == 256
        corner = np.asarray(img.convert("RGB"))[0, 0].astype(int)
    assert np.abs(corner - np.array(BLANK)).max() <= 6  # JPEG


def test_thumbnail_draws_boxes_masks_and_points(tmp_path):
    from PIL import Image

    mask = np.zeros((100, 200), np.uint8)
    mask[20:60, 100:180] = 1
    d = Drawing(
        height=100,
        width=200,
        image=None,
        gt_boxes=((10.0, 10.0, 50.0, 50.0),),
        gt_mask=None,
        pred_boxes=(),
        pred_mask=rle.encode(mask),
        points=((150.0, 80.0),),
    )
    path = render(d, tmp_path / "t.png.jpg", size=200)
    arr = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert arr.shape == (100, 200, 3)

    def near(pixel, colour, tol=60):
        return np.abs(pixel - np.array(colour)).max() <= tol

    assert near(arr[35, 11], COLOURS["gt"])  # left edge of the ground-truth box
    inside = arr[40, 140]
    tint = np.array(BLANK) * 0.55 + np.array(COLOURS["pred"]) * 0.45
    assert near(inside, tint, 25)  # predicted mask tint
    assert near(arr[80, 150], COLOURS["points"])
    assert near(arr[90, 20], BLANK, 10)  # untouched background


def test_rerun_reuses_thumbnails(built, preds, tmp_path):
    _, data = built
    first = build_report(
        preds["largest-object"], data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True
    )
    again = build_report(
        preds["largest-object"], data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True
    )
    assert again["thumbnails"] == {"drawn": 0, "reused": first["thumbnails"]["drawn"]}
    other = build_report(
        preds["oracle-jitter"], data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True
    )
    assert other["thumbnails"]["drawn"] > 0
    names = {p.name for p in (tmp_path / "r" / "thumbs").iterdir()}
    assert names == {Path(c["a"]["th"]).name for c in _data_js(tmp_path / "r")["cards"]}


def _run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


def test_bad_input_writes_nothing(built, preds, tmp_path, capsys):
    _source, data = built
    base = ["report", "--targets", str(data), "--config", CONFIG, "--split", SPLIT, "--quiet"]
    out = tmp_path / "out"
    # an unknown expr_id
    bad = tmp_path / "bad.jsonl"
    lines = preds["largest-object"].read_text().splitlines()
    record = json.loads(lines[0])
    record["expr_id"] = "grefcoco_unc/val/nope"
    bad.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    code, err = _run([*base, "--predictions", str(bad), "--out", str(out)], capsys)
    assert code == 2
    assert "nope" in err
    assert "expr_id" in err
    assert err.count("\n") == 1
    # a missing image
    images = tmp_path / "images"
    images.mkdir()
    code, err = _run(
        [*base, "--predictions", str(preds["empty"]), "--images", str(images), "--out", str(out)], capsys
    )
    assert code == 2
    assert "file_name" in err
    assert "image not found" in err
    # a folder that is not a report
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    code, err = _run([*base, "--predictions", str(preds["empty"]), "--out", str(foreign)], capsys)
    assert code == 2
    assert "--out" in err
    assert (foreign / "keep.txt").read_text() == "x"
    # an unknown task
    code, err = _run(
        [*base, "--predictions", str(preds["empty"]), "--task", "grecc", "--out", str(out)], capsys
    )
    assert code == 2
    assert "grecc" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_targets_file_and_task_inference(built, preds, tmp_path):
    _, data = built
    targets = tmp_path / "targets.jsonl"
    assert (
        main(
            [
                "export-targets",
                "--data",
                str(data),
                "--config",
                CONFIG,
                "--split",
                SPLIT,
                "--out",
                str(targets),
                "--quiet",
            ]
        )
        == 0
    )
    build_report(preds["largest-object"], targets, tmp_path / "r", resamples=10, tasks=["grec"], quiet=True)
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    assert summary["tasks"] == ["grec"]
    assert list(summary["models"]["largest-object.jsonl"]["results"]) == ["grec"]


def test_tasks_the_records_do_not_support_are_left_out(built, preds, tmp_path):
    _, data = built
    boxes_only = tmp_path / "boxes.jsonl"
    with open(boxes_only, "w") as f:
        for line in preds["largest-object"].read_text().splitlines():
            record = json.loads(line)
            record.pop("mask", None)
            for inst in record.get("instances", []):
                inst.pop("segmentation", None)
            f.write(json.dumps(record) + "\n")
    build_report(boxes_only, data, tmp_path / "r", CONFIG, SPLIT, resamples=10, quiet=True)
    summary = json.loads((tmp_path / "r" / "report.json").read_text())
    assert summary["tasks"] == ["grec"]
    # named explicitly, a task the records cannot support is an error naming the record and field
    with pytest.raises(Exception, match="mask"):
        build_report(
            boxes_only, data, tmp_path / "r2", CONFIG, SPLIT, resamples=10, tasks=["gres"], quiet=True
        )
    assert not (tmp_path / "r2").exists()


@pytest.mark.parametrize(
    ("config", "split", "task"), [("rrefcoco_unc", "val", "rrefcoco"), (CONFIG, SPLIT, "gres")]
)
def test_subset_metrics_equal_scoring_the_subset(built, tmp_path, config, split, task):
    """Breakdown metrics come from kept contributions; they equal a fresh evaluator on the subset
    (R-RefCOCO: grouped by ref_id, so the units of the subset are regrouped)."""
    from baselines import run_baseline
    from evaluators import DEFAULTS, Evaluator, PredictionsFile
    from vgbench.report.analysis import subset_metrics
    from vgbench.report.rows import read_expressions

    source, data = built
    path = tmp_path / "p.jsonl"
    run_baseline("oracle-jitter", data, config, split, path, seed=1, source=source, quiet=True)
    expressions = read_expressions(data, config, split)
    full = Evaluator(task, DEFAULTS[task], keep_rows=True)
    part = Evaluator(task, DEFAULTS[task])
    chosen = list(range(0, len(expressions), 2))
    with PredictionsFile(path) as preds:
        for i, e in enumerate(expressions):
            pred = preds.get(e.target.expr_id)
            full.update(pred, e.target)
            if i in chosen:
                part.update(pred, e.target)
    got = subset_metrics(full.protocol, [full.state.contributions[i] for i in chosen])
    assert got == part.compute()["metrics"]
    assert got != full.compute()["metrics"]
