"""Output paths, results committed as a pair, and the documented input limits (issue 17, items 3-4)."""

from __future__ import annotations

import json
import threading

import pytest

from evaluators import rle
from evaluators.errors import InputError
from evaluators.jsonio import JSONDecodeError, loads
from evaluators.limits import MAX_COORD, MAX_IMAGE_SIDE, MAX_RESIZE
from evaluators.records import parse_prediction, parse_target
from evaluators.results import write_results
from tests.evaluators.factory import random_dataset, write_jsonl
from vgbench.cli import main


@pytest.fixture
def files(tmp_path):
    rows, preds = random_dataset(8, seed=2)
    return write_jsonl(tmp_path / "t.jsonl", rows), write_jsonl(tmp_path / "p.jsonl", preds)


def _eval(capsys, targets, preds, *extra):
    argv = ["eval", "--quiet", "--task", "gres", "--targets", str(targets), "--predictions", str(preds)]
    code = main([*argv, *map(str, extra)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("where", ["folder", "under_file", "same_file"])
def test_bad_out_paths_fail_before_anything_is_written(files, tmp_path, capsys, where):
    targets, preds = files
    per_sample = tmp_path / "rows.jsonl"
    if where == "folder":
        out = tmp_path / "a_folder"
        out.mkdir()
    elif where == "under_file":
        (tmp_path / "plain").write_text("x")
        out = tmp_path / "plain" / "results.json"
    else:
        out = per_sample
    code, err = _eval(capsys, targets, preds, "--out", out, "--per-sample", per_sample)
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("error:")
    assert "--out" in err[0]
    assert not per_sample.exists()


def test_resize_is_bounded(files, capsys):
    targets, preds = files
    code, err = _eval(capsys, targets, preds, "--resize", MAX_RESIZE + 1)
    assert code == 2
    assert str(MAX_RESIZE) in err[0]


def test_concurrent_writers_leave_a_consistent_pair(tmp_path):
    """Many writers of the same pair: the files on disk always come from one writer."""
    out, per_sample = tmp_path / "results.json", tmp_path / "rows.jsonl"

    def writer(k: int) -> None:
        for _ in range(20):
            write_results(out, {"run": k}, per_sample, [{"run": k}] * 50)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run = json.loads(out.read_text())["run"]
    assert {json.loads(line)["run"] for line in per_sample.read_text().splitlines()} == {run}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "rows.jsonl"]


def test_rle_sizes_beyond_the_limit_are_refused():
    side = MAX_IMAGE_SIDE + 1
    with pytest.raises(ValueError, match="size"):
        rle.normalize({"size": [side, 1], "counts": [side]})
    with pytest.raises(ValueError, match="size"):
        rle.normalize({"size": [65536, 65536], "counts": [2**32]})  # h*w = 2**32 crashed pycocotools
    with pytest.raises(ValueError, match="size"):
        rle.empty(side, side)
    assert rle.area(rle.normalize({"size": [2, 3], "counts": [1, 5]})) == 5


@pytest.mark.parametrize(
    "bbox",
    [[True, 0, 1, 1], [0, 0, 3.5e38, 1], [0, 0, 1, MAX_COORD * 2], [10**400, 0, 1, 1], [0, 0, 1e300, 1e300]],
)
def test_boxes_outside_float32_or_the_limit_are_refused(bbox):
    record = {"expr_id": "e", "instances": [{"bbox": bbox, "score": 0.9}]}
    with pytest.raises(InputError, match="bbox"):
        parse_prediction(record, "p.jsonl:1")


def test_box_at_the_limit_is_accepted():
    record = {"expr_id": "e", "instances": [{"bbox": [-MAX_COORD, 0, MAX_COORD, 1], "score": 0.9}]}
    assert parse_prediction(record, "p.jsonl:1").boxes.shape == (1, 4)


@pytest.mark.parametrize("height", [0, -1, 1.5, "480", True, MAX_IMAGE_SIDE + 1, float("nan")])
def test_target_sides_are_integers_in_range(height):
    row = {
        "expr_id": "e",
        "height": height,
        "width": 4,
        "no_target": True,
        "targets": [],
        "mask": rle.empty(1, 4),
    }
    with pytest.raises(InputError, match="height"):
        parse_target(row, "t.jsonl:1")


@pytest.mark.parametrize(
    "text", [b"[" * 5000 + b"]" * 5000, b'{"a": ' + b"9" * 5000 + b"}", b'{"a": 1e999999}', b"\xff"]
)
def test_json_decoding_raises_only_decode_errors(text):
    try:
        value = loads(text)
    except (JSONDecodeError, UnicodeDecodeError):
        return
    assert value == {"a": float("inf")}  # 1e999999 is inf, refused later where a number is validated


def test_overlong_jsonl_record_is_refused_without_reading_it_whole(files, monkeypatch, capsys):
    import evaluators.readers as readers

    targets, preds = files
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 64)
    code, err = _eval(capsys, targets, preds)
    assert code == 2
    assert "record longer than 64 characters" in err[0]
    assert ":1:" in err[0]


@pytest.mark.parametrize("command", ["synth", "build"])
def test_out_below_a_file_is_an_input_error_for_every_writer(tmp_path, capsys, command):
    (tmp_path / "plain").write_text("x")
    out = str(tmp_path / "plain" / "out")
    argv = {
        "synth": ["synth", "--out", out, "--images", "10", "--quiet"],
        "build": ["build", "--source", str(tmp_path), "--out", out, "--quiet"],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "is a file, not a folder" in err[0]


def test_atomic_writers_refuse_a_path_below_a_file(tmp_path):
    from evaluators.results import write_json_atomic

    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        write_json_atomic(tmp_path / "plain" / "t.json", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]
