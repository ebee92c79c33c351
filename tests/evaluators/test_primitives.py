"""The shared primitives at the bottom of the package graph: atomic output, hashing, JSON lines,
progress bars, the package version and the one predictions writer."""

import gzip
import hashlib
import io
import json

import pytest

from evaluators.atomic import (
    atomic_file,
    atomic_path,
    check_output_paths,
    copy_atomic,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)
from evaluators.errors import InputError
from evaluators.hashing import sha256_file, sha256_files
from evaluators.jsonl import iter_json_items, read_jsonl, write_jsonl_atomic
from evaluators.predictions_writer import write_predictions
from evaluators.progress import NullBar, progress, progress_bar
from evaluators.version import LOCAL_VERSION, package_version


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_writers_create_folders_and_replace_whole(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    write_text_atomic(target, "one\ntwo\n")
    assert target.read_bytes() == b"one\ntwo\n"
    write_bytes_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    write_json_atomic(target, {"k": [1, 2]})
    assert json.loads(target.read_text()) == {"k": [1, 2]}
    copy_atomic(target, tmp_path / "copy.json")
    assert (tmp_path / "copy.json").read_bytes() == target.read_bytes()
    assert _leftovers(target.parent) == []
    assert _leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_json_atomic(target, {"x": float("nan")})  # NaN is refused mid-write

    def fail_inside_atomic_file():
        with atomic_file(target) as f:
            f.write("partial")
            raise RuntimeError("boom")

    def fail_inside_atomic_path():
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside_atomic_file()
    with pytest.raises(RuntimeError, match="boom"):
        fail_inside_atomic_path()
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_output_paths_that_cannot_be_files_are_refused(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="--out: is a folder"):
        write_text_atomic(tmp_path / "folder", "x", option="--out")
    with pytest.raises(InputError, match="is a file, not a folder"):
        write_text_atomic(tmp_path / "file" / "below.txt", "x")
    with pytest.raises(InputError, match="name the same file"):
        check_output_paths({"--out": tmp_path / "r.json", "--per-sample": tmp_path / "r.json"})


def test_sha256_of_one_file_and_of_a_sharded_split(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    a.write_bytes(b"alpha" * 300_000)  # more than one 1 MiB block
    b.write_bytes(b"beta")
    assert sha256_file(a) == hashlib.sha256(a.read_bytes()).hexdigest()
    assert sha256_files([a]) == sha256_file(a)
    lines = f"a.parquet:{sha256_file(a)}\nb.parquet:{sha256_file(b)}\n".encode()
    assert sha256_files([a, b]) == hashlib.sha256(lines).hexdigest()


def test_json_items_of_lines_lists_and_gzip(tmp_path):
    lines = tmp_path / "x.jsonl"
    write_jsonl_atomic(lines, [{"a": 1, "n": float("nan")}, {"a": 2}])
    assert lines.read_text() == '{"a": 1, "n": null}\n{"a": 2}\n'
    assert list(iter_json_items(lines)) == [(f"{lines}:1", {"a": 1, "n": None}), (f"{lines}:2", {"a": 2})]
    packed = tmp_path / "x.json.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        json.dump({"logs": [{"b": 1}]}, f)
    assert list(iter_json_items(packed, list_keys=("logs",))) == [(f"{packed}:[0]", {"b": 1})]
    with pytest.raises(InputError, match="expected a JSON list of rows"):
        list(iter_json_items(packed, expected="a JSON list of rows"))
    assert read_jsonl(lines) == [{"a": 1, "n": None}, {"a": 2}]


def test_json_item_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(InputError, match=r"bad\.jsonl:3: not valid JSON"):
        list(iter_json_items(bad))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(InputError, match=r"broken\.jsonl\.gz: cannot read"):
        list(iter_json_items(broken))


def test_progress_is_off_when_quiet_or_not_a_terminal(monkeypatch):
    items = [1, 2, 3]
    assert progress(items, 3, "x", quiet=True) is items
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    assert progress(items, 3, "x") is items
    bar = progress_bar(5, "x")
    assert isinstance(bar, NullBar)
    assert bar.total == 5
    bar.update(2)
    bar.set_postfix(loss="1.0")
    bar.close()
    assert bar.n == 2


def test_package_version_is_the_installed_one():
    from importlib.metadata import version

    import vgbench

    assert package_version() == version("vgbench") != LOCAL_VERSION
    assert vgbench.__version__ == package_version()


@pytest.mark.parametrize("name", ["p.jsonl", "p.json", "p.jsonl.gz", "p.json.gz"])
def test_predictions_writer_containers(tmp_path, name):
    from evaluators.readers import PredictionsFile

    records = [
        {"expr_id": "c/s/1", "instances": [], "no_target": True},
        {"expr_id": "c/s/2", "instances": []},
    ]
    path = tmp_path / name
    assert write_predictions(path, records) == 2
    assert PredictionsFile(path).ids == ["c/s/1", "c/s/2"]
    assert _leftovers(tmp_path) == []


def test_predictions_writer_refuses_bad_names_and_nan(tmp_path):
    with pytest.raises(InputError, match=r"must end in \.jsonl or \.json"):
        write_predictions(tmp_path / "p.txt", [])
    (tmp_path / "p.jsonl").write_text("old\n")
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_predictions(tmp_path / "p.jsonl", [{"expr_id": "a", "no_target_score": float("nan")}])
    assert (tmp_path / "p.jsonl").read_text() == "old\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["p.jsonl", "p.json"])
def test_predictions_take_in_and_out_of_order(tmp_path, name):
    """`PredictionsFile.take` (the join's one lookup): the record in any order, ``None`` for an unknown id,
    the line number of each record kept, and the SHA-256 of the streamed file once read to its end."""
    from evaluators.hashing import sha256_file
    from evaluators.readers import PredictionsFile

    records = [{"expr_id": f"c/s/{i}", "instances": [], "no_target": i % 2 == 0} for i in range(4)]
    path = tmp_path / name
    assert write_predictions(path, records) == 4
    with PredictionsFile(path) as preds:
        got = [preds.take(i) for i in ("c/s/2", "c/s/0", "nope", "c/s/3", "c/s/1")]
        assert got[2] is None
        assert [p.expr_id for p in got if p is not None] == ["c/s/2", "c/s/0", "c/s/3", "c/s/1"]
        assert [p.no_target for p in got if p is not None] == [True, True, False, False]
        if name == "p.jsonl":
            assert [p.where.rsplit(":", 1)[1] for p in got if p is not None] == ["3", "1", "4", "2"]
            assert preds.sha256 == sha256_file(path)
