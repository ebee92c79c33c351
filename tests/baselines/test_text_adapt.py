"""``vgbench adapt text`` end to end: parse failures in the results notes, --on-parse-failure error,
harness logs (lmms-eval --log_samples, VLMEvalKit results) in, [SEG] text + PNG masks, Florence-2
polygons, bad input (exit 2, nothing written)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from baselines.adapters import png_name
from baselines.adapters.text import ImageSize, render_answer
from evaluators import rle, score_files
from tests.baselines.factory import rows_of, write_dataset
from vgbench.cli import main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("built"))


def xyxy(b):
    return [b[0], b[1], b[0] + b[2], b[1] + b[3]]


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def answers_for(config, family, broken=()):
    out = []
    for row in rows_of(config, "val"):
        boxes = [xyxy(t["bbox"]) for t in row["targets"]]
        text = render_answer(family, boxes, ImageSize(row["width"], row["height"]))
        if row["expr_id"] in broken:
            text = text[: len(text) // 2]  # cut off mid-box
        out.append({"expr_id": row["expr_id"], "text": text})
    return out


def adapt(data, tmp_path, *extra, config="refcoco_unc", answers=None):
    argv = ["adapt", "text", "--answers", str(answers), "--targets", str(data), "--config", config]
    return main([*argv, "--split", "val", "--out", str(tmp_path / "preds.jsonl"), "--quiet", *extra])


def test_parse_failures_counted_listed_and_in_results_notes(data, tmp_path, capsys):
    bad = "refcoco_unc/val/8"
    answers = write_jsonl(tmp_path / "a.jsonl", answers_for("refcoco_unc", "qwen-vl", broken=(bad,)))
    rc = adapt(
        data,
        tmp_path,
        "--family",
        "qwen-vl",
        "--task",
        "rec",
        "--results-dir",
        str(tmp_path / "res"),
        answers=answers,
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "parse failures: 1 (written as misses" in out
    assert "rec/iou" in out
    assert "rec/lmms-eval" in out
    assert "rec/vlmevalkit" in out
    two_thirds = f"{200 / 3:.2f}"
    assert (
        f"side by side, same answers: rec/iou prec@0.5 = {two_thirds} | rec/lmms-eval acc@0.5 = {two_thirds} | "
        f"rec/vlmevalkit prec@1 = {two_thirds}"
    ) in out
    report = json.loads((tmp_path / "preds.adapt.json").read_text())
    assert report["parse_failure_ids"] == [bad]
    assert report["on_parse_failure"] == "miss"
    for name in ("rec_iou", "rec_lmms-eval", "rec_vlmevalkit"):
        results = json.loads((tmp_path / "res" / f"{name}.json").read_text())
        notes = results["notes"]["adapter"]
        assert notes["parse_failures"] == 1
        assert notes["parse_failure_ids"] == [bad]
        assert "miss" in notes["parse_failure_rule"]
    iou = json.loads((tmp_path / "res" / "rec_iou.json").read_text())["metrics"]
    assert iou["prec@0.5"] == pytest.approx(200 / 3)  # 2 of 3 right; the broken answer is a miss
    preds = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    failed = next(p for p in preds if p["expr_id"] == bad)
    assert failed["instances"] == []
    assert failed["no_target"] is False  # never a zero box


def test_on_parse_failure_error_writes_nothing(data, tmp_path, capsys):
    answers = write_jsonl(
        tmp_path / "a.jsonl", answers_for("refcoco_unc", "internvl", broken=("refcoco_unc/val/9",))
    )
    rc = adapt(data, tmp_path, "--family", "internvl", "--on-parse-failure", "error", answers=answers)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1
    assert "a.jsonl:3" in err[0]
    assert "refcoco_unc/val/9" in err[0]
    assert "field='text'" in err[0]
    assert not (tmp_path / "preds.jsonl").exists()
    assert not (tmp_path / "preds.adapt.json").exists()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a: [*a, {"expr_id": "refcoco_unc/val/999", "text": "x"}], "unknown expr_id"),
        (lambda a: [*a, a[0]], "duplicate answer"),
        (lambda a: a[1:], "have no answer"),
        (lambda a: [{**a[0], "text": 5}, *a[1:]], "field='text'"),
        (lambda a: [{"text": "x"}, *a[1:]], "field='expr_id'"),
        (lambda a: [{**a[0], "input_width": -3}, *a[1:]], "field='input_width'"),
    ],
)
def test_bad_answers_exit_2(data, tmp_path, capsys, mutate, message):
    answers = write_jsonl(tmp_path / "a.jsonl", mutate(answers_for("refcoco_unc", "ferret")))
    rc = adapt(data, tmp_path, "--family", "ferret", answers=answers)
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "preds.jsonl").exists()


def test_bad_options_exit_2(data, tmp_path, capsys):
    answers = write_jsonl(tmp_path / "a.jsonl", answers_for("refcoco_unc", "ferret"))
    assert adapt(data, tmp_path, "--family", "ferrett", answers=answers) == 2
    assert "did you mean 'ferret'" in capsys.readouterr().err
    assert adapt(data, tmp_path, "--family", "generic", answers=answers) == 2
    assert "--coords" in capsys.readouterr().err
    assert adapt(data, tmp_path, "--family", "ferret", "--coords", "norm1", answers=answers) == 2
    assert adapt(data, tmp_path, answers=answers) == 2  # a vgbench answers file needs --family
    assert "--family is required" in capsys.readouterr().err
    (tmp_path / "bad.jsonl").write_text('{"expr_id": "refcoco_unc/val/7", "text": \n')
    assert adapt(data, tmp_path, "--family", "ferret", answers=tmp_path / "bad.jsonl") == 2
    assert "bad.jsonl:1: not valid JSON" in capsys.readouterr().err


def test_allow_missing_writes_misses(data, tmp_path):
    answers = write_jsonl(tmp_path / "a.jsonl", answers_for("refcoco_unc", "ferret")[1:])
    assert adapt(data, tmp_path, "--family", "ferret", "--allow-missing", answers=answers) == 0
    report = json.loads((tmp_path / "preds.adapt.json").read_text())
    assert report["missing_answers"] == 1
    assert report["missing_answer_ids"] == ["refcoco_unc/val/7"]


def lmms_samples(wrong=False):
    """lmms-eval --log_samples records of refcoco_unc val: sentence + ann_id, text response."""
    out = []
    for i, row in enumerate(rows_of("refcoco_unc", "val")):
        t = row["targets"][0]
        x, y, w, h = t["bbox"]
        W, H = row["width"], row["height"]
        norm = [x / W, y / H, (x + w) / W, (y + h) / H]
        text = f"[{norm[0]:.4f}, {norm[1]:.4f}, {norm[2]:.4f}, {norm[3]:.4f}]" if i != 1 else "I cannot tell."
        entry = {"answer": row["sentence"], "pred": norm, "ann_id": str(t["ann_id"]), "bbox": norm}
        if wrong:
            entry["ann_id"] = "4242"
        out.append(
            {
                "doc_id": i,
                "target": "",
                "arguments": [],
                "resps": [[text]],
                "filtered_resps": [text],
                **{f"refcoco_{m}": entry for m in ("IoU", "ACC@0.5", "Center_ACC")},
            }
        )
    return out


def test_lmms_eval_log_samples_in(data, tmp_path, capsys):
    log = write_jsonl(tmp_path / "model_refcoco_bbox_rec_val.jsonl", lmms_samples())
    rc = adapt(
        data, tmp_path, "--task", "rec", "--protocol", "rec/lmms-eval", "--protocol", "rec/iou", answers=log
    )
    assert rc == 0
    report = json.loads((tmp_path / "preds.adapt.json").read_text())
    assert report["answers_format"] == "lmms-eval"
    assert report["family"] == "lmms-eval"
    assert report["parse_failure_ids"] == ["refcoco_unc/val/8"]
    res = score_files("rec", tmp_path / "preds.jsonl", data, "refcoco_unc", "val", "rec/lmms-eval").results
    assert res["metrics"]["acc@0.9"] == pytest.approx(200 / 3)
    assert res["notes"]["scored_as_0000"] == 1
    # the older container: one JSON object with "logs"
    (tmp_path / "log.json").write_text(json.dumps({"logs": lmms_samples()}))
    assert adapt(data, tmp_path, answers=tmp_path / "log.json") == 0
    log = write_jsonl(tmp_path / "wrong.jsonl", lmms_samples(wrong=True))
    assert adapt(data, tmp_path, answers=log) == 2
    assert "doc_id=0" in capsys.readouterr().err


def test_vlmevalkit_results_in(data, tmp_path, capsys):
    rows = rows_of("refcoco_unc", "val")
    lines = ["index\tquestion\tprediction"]
    for row in rows:
        x, y, w, h = row["targets"][0]["bbox"]
        lines.append(f"{row['sent_id']}\t{row['sentence']}\t[{x}, {y}, {x + w}, {y + h}]")
    tsv = tmp_path / "model_RefCOCO.tsv"
    tsv.write_text("\n".join(lines) + "\n")
    assert adapt(data, tmp_path, answers=tsv) == 2
    assert "--id-template" in capsys.readouterr().err
    assert adapt(data, tmp_path, "--id-template", "refcoco_unc/val/{index}", answers=tsv) == 0
    report = json.loads((tmp_path / "preds.adapt.json").read_text())
    assert report["answers_format"] == "vlmevalkit"
    assert report["family"] == "vlmevalkit"
    # pixel boxes on images under 1000 px: VLMEvalKit's scale guess reads them as 0-1000
    res = score_files("rec", tmp_path / "preds.jsonl", data, "refcoco_unc", "val", "rec/vlmevalkit").results
    assert res["metrics"]["prec@1"] == 0.0
    # the same file read in its real convention scores 100
    assert (
        adapt(
            data,
            tmp_path,
            "--family",
            "generic",
            "--coords",
            "pixel",
            "--id-template",
            "refcoco_unc/val/{index}",
            answers=tsv,
        )
        == 0
    )
    res = score_files("rec", tmp_path / "preds.jsonl", data, "refcoco_unc", "val", "rec/vlmevalkit").results
    assert res["metrics"]["prec@1"] == 100.0


def write_pngs(folder, rows):
    folder.mkdir()
    for row in rows:
        Image.fromarray(rle.decode(row["mask"]) * 255).save(folder / png_name(row["expr_id"]))
    return folder


def test_seg_text_plus_png_masks_gres_round_trip(data, tmp_path):
    rows = rows_of("grefcoco_unc", "val")
    masks = write_pngs(tmp_path / "masks", rows)
    answers = [
        {"expr_id": r["expr_id"], "text": "There is no such object." if r["no_target"] else "Sure, [SEG]."}
        for r in rows
    ]
    path = write_jsonl(tmp_path / "a.jsonl", answers)
    argv = ["--family", "seg", "--masks", str(masks), "--task", "gres", "--results-dir", str(tmp_path / "r")]
    assert adapt(data, tmp_path, *argv, config="grefcoco_unc", answers=path) == 0
    m = json.loads((tmp_path / "r" / "gres_rela.json").read_text())["metrics"]
    assert m["giou"] == 100.0
    assert m["ciou"] == 100.0
    assert m["n_acc"] == 100.0
    assert m["t_acc"] == 100.0
    # a [SEG] answer whose PNG is missing is a parse failure, not an empty mask
    (masks / png_name(rows[0]["expr_id"])).unlink()
    assert (
        adapt(data, tmp_path, "--family", "seg", "--masks", str(masks), config="grefcoco_unc", answers=path)
        == 0
    )
    report = json.loads((tmp_path / "preds.adapt.json").read_text())
    assert report["parse_failure_ids"] == [rows[0]["expr_id"]]


def test_florence2_polygons_gres_round_trip(data, tmp_path):
    rows = rows_of("grefcoco_unc", "val")
    answers = []
    for r in rows:  # the factory's masks are filled rectangles: each one a 4-point polygon
        plain = [xyxy(t["bbox"]) for t in r["targets"] if not t["iscrowd"]]
        answers.append(
            {
                "expr_id": r["expr_id"],
                "text": render_answer("florence-2-seg", plain, ImageSize(r["width"], r["height"])),
            }
        )
    path = write_jsonl(tmp_path / "a.jsonl", answers)
    argv = ["--family", "florence-2-seg", "--task", "gres", "--results-dir", str(tmp_path / "r")]
    assert adapt(data, tmp_path, *argv, config="grefcoco_unc", answers=path) == 0
    m = json.loads((tmp_path / "r" / "gres_rela.json").read_text())["metrics"]
    assert m["giou"] == 100.0
    assert m["n_acc"] == 100.0


def test_ref_vlm_decoder_boxes_and_masks(data, tmp_path):
    rows = rows_of("grefcoco_unc", "val")
    answers = []
    for r in rows:
        boxes = [xyxy(t["bbox"]) for t in r["targets"]]
        text = render_answer("ref-vlm", boxes, ImageSize(r["width"], r["height"]))
        answers.append({"expr_id": r["expr_id"], "text": text, "boxes": boxes})
    path = write_jsonl(tmp_path / "a.jsonl", answers)
    argv = ["--family", "ref-vlm", "--task", "grec", "--results-dir", str(tmp_path / "r")]
    assert adapt(data, tmp_path, *argv, config="grefcoco_unc", answers=path) == 0
    m = json.loads((tmp_path / "r" / "grec_grefcoco.json").read_text())["metrics"]
    assert m["f1_score"] == 100.0
    masks = write_pngs(tmp_path / "masks", rows)
    assert (
        adapt(
            data,
            tmp_path,
            "--family",
            "ref-vlm",
            "--masks",
            str(masks),
            "--task",
            "gres",
            "--results-dir",
            str(tmp_path / "g"),
            config="grefcoco_unc",
            answers=path,
        )
        == 0
    )
    assert json.loads((tmp_path / "g" / "gres_rela.json").read_text())["metrics"]["giou"] == 100.0


def test_qwen25_input_size_from_the_answer(data, tmp_path):
    rows = rows_of("refcoco_unc", "val")
    answers = []
    for r in rows:
        box = xyxy(r["targets"][0]["bbox"])
        scaled = [round(v * 2) for v in box]  # the model saw the image at twice its size
        answers.append(
            {
                "expr_id": r["expr_id"],
                "text": json.dumps([{"bbox_2d": scaled}]),
                "input_width": 2 * r["width"],
                "input_height": 2 * r["height"],
            }
        )
    path = write_jsonl(tmp_path / "a.jsonl", answers)
    assert (
        adapt(
            data,
            tmp_path,
            "--family",
            "qwen2.5-vl",
            "--task",
            "rec",
            "--protocol",
            "rec/iou",
            "--results-dir",
            str(tmp_path / "r"),
            answers=path,
        )
        == 0
    )
    assert json.loads((tmp_path / "r" / "rec_iou.json").read_text())["metrics"]["miou"] == 100.0


def test_vlmevalkit_xlsx_results_in(data, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["index", "question", "prediction", "split"])
    for row in rows_of("refcoco_unc", "val"):
        x, y, w, h = row["targets"][0]["bbox"]
        W, H = row["width"], row["height"]
        sheet.append(
            [
                row["sent_id"],
                row["sentence"],
                f"[{x / W:.4f}, {y / H:.4f}, {(x + w) / W:.4f}, {(y + h) / H:.4f}]",
                "val",
            ]
        )
    book.save(tmp_path / "model_RefCOCO.xlsx")
    argv = ["--id-template", "refcoco_unc/{split}/{index}", "--task", "rec", "--protocol", "rec/vlmevalkit"]
    assert (
        adapt(
            data,
            tmp_path,
            *argv,
            "--results-dir",
            str(tmp_path / "r"),
            answers=tmp_path / "model_RefCOCO.xlsx",
        )
        == 0
    )
    assert json.loads((tmp_path / "r" / "rec_vlmevalkit.json").read_text())["metrics"]["prec@1"] == 100.0


def test_in_pass_scores_equal_vgbench_eval_and_workers_agree(data, tmp_path, monkeypatch):
    from baselines.adapters.text import adapt_and_score, chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 0)  # fork even for this small split
    answers = write_jsonl(
        tmp_path / "a.jsonl", answers_for("grefcoco_unc", "qwen-vl", broken=("grefcoco_unc/val/2",))
    )
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"p{workers}.jsonl"
        report, results = adapt_and_score(
            "qwen-vl",
            answers,
            data,
            out,
            task="grec",
            protocols=["grec/grefcoco", "grec/iou"],
            config="grefcoco_unc",
            split="val",
            workers=workers,
            quiet=True,
        )
        runs[workers] = (
            out.read_text(),
            report.as_dict(),
            [r["metrics"] for r in results],
            [r["counts"] for r in results],
        )
        for r in results:
            direct = score_files("grec", out, data, "grefcoco_unc", "val", r["protocol"]).results
            assert r["metrics"] == direct["metrics"]
            assert r["breakdown"] == direct["breakdown"]
            assert r["predictions_sha256"] == direct["predictions_sha256"]
            assert r["targets_sha256"] == direct["targets_sha256"]
    assert runs[1][0] == runs[2][0]
    assert runs[1][2:] == runs[2][2:]
    assert {k: v for k, v in runs[1][1].items() if k != "answers"} == {
        k: v for k, v in runs[2][1].items() if k != "answers"
    }


def test_lmms_eval_join_through_a_targets_file_and_box_family_on_a_mask_task(data, tmp_path, capsys):
    from datasets_builders import export_targets

    targets = tmp_path / "targets.jsonl"
    export_targets(data, "refcoco_unc", "val", targets)
    rows = {json.loads(line)["expr_id"] for line in targets.read_text().splitlines()}
    if not all("sentence" in json.loads(line) for line in targets.read_text().splitlines()):
        pytest.skip("this export has no sentences to join lmms-eval samples on")
    log = write_jsonl(tmp_path / "log.jsonl", lmms_samples())
    argv = [
        "adapt",
        "text",
        "--answers",
        str(log),
        "--targets",
        str(targets),
        "--out",
        str(tmp_path / "p.jsonl"),
    ]
    assert main([*argv, "--quiet"]) == 0
    assert len(rows) == 3
    answers = write_jsonl(tmp_path / "a.jsonl", answers_for("grefcoco_unc", "qwen-vl"))
    rc = adapt(
        data, tmp_path, "--family", "qwen-vl", "--task", "gres", config="grefcoco_unc", answers=answers
    )
    assert rc == 2
    assert "boxes only" in capsys.readouterr().err


def test_adapt_kinds(data, tmp_path, capsys):
    log = write_jsonl(tmp_path / "log.jsonl", lmms_samples())
    argv = [
        "--targets",
        str(data),
        "--config",
        "refcoco_unc",
        "--split",
        "val",
        "--out",
        str(tmp_path / "p.jsonl"),
    ]
    assert main(["adapt", "lmms-eval", "--answers", str(log), *argv, "--quiet"]) == 0
    assert json.loads((tmp_path / "p.adapt.json").read_text())["answers_format"] == "lmms-eval"
    assert main(["adapt", "text", *argv, "--quiet"]) == 2
    assert "--answers is required" in capsys.readouterr().err
    # the baseline adapters under `vgbench adapt NAME`
    rows = rows_of("grefcoco_unc", "val")
    masks = write_pngs(tmp_path / "masks", rows)
    out = tmp_path / "png.jsonl"
    common = ["--data", str(data), "--config", "grefcoco_unc", "--split", "val", "--out", str(out), "--quiet"]
    assert main(["adapt", "png-masks", "--input", str(masks), *common]) == 0
    res = score_files("gres", out, data, "grefcoco_unc", "val").results
    assert res["metrics"]["giou"] == 100.0
    assert main(["adapt", "png-masks", *common]) == 2
    assert "--input is required" in capsys.readouterr().err


def test_cli_prints_the_convention_warning_with_evidence(data, tmp_path, capsys):
    rows = rows_of("grefcoco_unc", "val")
    answers = []
    for r in rows:
        boxes = [xyxy(t["bbox"]) for t in r["targets"]]
        answers.append(
            {
                "expr_id": r["expr_id"],
                "text": render_answer("generic", boxes, ImageSize(r["width"], r["height"]), coords="norm1"),
            }
        )
    path = write_jsonl(tmp_path / "a.jsonl", answers)
    argv = ["--family", "generic", "--coords", "norm1000"]
    assert adapt(data, tmp_path, *argv, config="grefcoco_unc", answers=path) == 0
    out = capsys.readouterr().out
    assert "convention warning: all 7 boxes have every coordinate within [0, 1] although norm1000" in out
    assert json.loads((tmp_path / "preds.adapt.json").read_text())["convention_warnings"]
    assert (
        adapt(data, tmp_path, "--family", "generic", "--coords", "norm1", config="grefcoco_unc", answers=path)
        == 0
    )
    assert "convention warning" not in capsys.readouterr().out
