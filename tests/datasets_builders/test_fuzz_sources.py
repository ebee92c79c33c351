"""Seeded fuzzing of source files (issue 17): ``instances.json`` and ``refs(unc).p``.

Each case damages one field of a referenced image or annotation, one field of a ref, the refs
pickle as a whole (shared-reference bombs, deep nesting, cycles, ``[]``, globals, flipped bytes) or
``instances.json`` as a whole, then runs the reading pipeline of a build (`load_instances`,
`read_refs`, `ref_rows`). Contract: a one-line `InputError`, or rows that the evaluator accepts
(`parse_target`) with file names inside the images folder; a value the evaluator would reject
must be refused at build time. A few cases run the whole ``vgbench build`` to check exit 2 and that
nothing is written.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from datasets_builders.coco import load_instances
from datasets_builders.configs import CONFIGS
from datasets_builders.rows import ref_rows
from datasets_builders.sources import read_refs
from datasets_builders.unpickle import load_pickle
from evaluators.errors import InputError
from evaluators.records import parse_target
from vgbench.cli import main

SEED = 17
N_INSTANCES = 160
N_REFS = 100
SPEC = CONFIGS["refcoco_unc"]

ODD: list[Any] = [None, True, "7", "x", [], {}, 1.5, float("nan"), float("inf"), -1, 10**30, 2**32]


def _pipeline(folder: Path) -> int:
    coco = load_instances(folder / "instances.json")
    refs = read_refs(folder / "refs(unc).p", SPEC.kind)
    n = 0
    for i, ref in enumerate(refs):
        for row in ref_rows(ref, coco, SPEC, f"refs:[{i}]"):
            parse_target(row, f"row {n}")  # whatever the builder writes, the evaluator accepts
            assert ".." not in Path(row["file_name"]).parts
            assert not Path(row["file_name"]).is_absolute()
            n += 1
    return n


def _case(folder: Path, outcome: dict[str, Any], must_refuse: bool, label: str) -> None:
    try:
        _pipeline(folder)
    except InputError as exc:
        assert "\n" not in str(exc), str(exc)
        outcome["refused"] += 1
        return
    assert not must_refuse, f"{label}: accepted"
    outcome["accepted"] += 1
    outcome.setdefault("accepted_as", set()).add(label.split("=")[0] + ("=..." if "=" in label else ""))


def _bad_value(rng: random.Random, key: str) -> tuple[Any, bool]:
    """A replacement for ``key`` and whether it must be refused."""
    table: dict[str, list[Any]] = {
        "height": [0, -1, 1.5, "480", None, True, 16385, 65536, 2**31, float("nan")],
        "width": [0, -2, 70000, "640", [], 2**32],
        "file_name": [
            "../../../etc/passwd.jpg",
            "..",
            "COCO_train2014_../x.jpg",
            "a\\..\\b.jpg",
            "x\x00.jpg",
            5,
            None,
        ],
        "bbox": [
            [0, 0, -1, 5],
            [float("nan"), 0, 1, 1],
            [True, 0, 1, 1],
            [1, 2, 3],
            "box",
            [1e300, 0, 1, 1],
            [0, 0, 3.5e38, 1],
            ["1", 2, 3, 4],
        ],
        "segmentation": [
            [[float("nan")] * 8],
            [[[1, 2], [3, 4], [5, 6]]],
            [["1", "2", "3", "4", "5", "6"]],
            [[True, 1, 2, 3, 4, 5]],
            [[1, 2, 3, 4, 5, 6, 7]],
            {"size": [10, 10], "counts": [2**32 + 1]},
            {"size": [65536, 65536], "counts": [2**32]},
            {"size": "x", "counts": "0"},
            "poly",
        ],
        "id": ODD,
        "image_id": ODD,
        "category_id": ["x", None, 1.5, float("inf"), True],
        "area": ["big", None, [1], float("nan")],
    }
    value = rng.choice(table[key])
    must = not (key == "area" and value is None)
    if key == "file_name" and isinstance(value, str) and value.endswith(".jpg") and "\\" not in value:
        must = "\x00" in value  # only the base name is kept: "../../x.jpg" reads as "x.jpg"
    return value, must


def _write_pickle(path: Path, obj: Any) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _shared_bomb() -> Any:
    leaf = ["x"] * 1000
    mid = [leaf] * 1000
    return [{"ref_id": 0, "sentences": [mid] * 1000}]  # a ~10**9-value tree from a few KB


class _Global:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.fixture(scope="module")
def source(synth_src, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzzsrc")
    shutil.copy(synth_src / SPEC.folder / "instances.json", folder / "instances.json")
    shutil.copy(synth_src / SPEC.folder / "refs(unc).p", folder / "refs(unc).p")
    assert _pipeline(folder) > 0
    return folder


def test_fuzz_instances_json(source, tmp_path):
    rng = random.Random(SEED)
    coco = json.loads((source / "instances.json").read_text())
    refs = load_pickle(source / "refs(unc).p")
    used_images = sorted({r["image_id"] for r in refs})
    used_anns = sorted({r["ann_id"] for r in refs})
    outcome: dict[str, Any] = {"refused": 0, "accepted": 0}
    for case in range(N_INSTANCES):
        folder = tmp_path / f"c{case}"
        folder.mkdir()
        shutil.copy(source / "refs(unc).p", folder / "refs(unc).p")
        data = copy.deepcopy(coco)
        if case % 8 == 7:  # whole-file damage
            kind = rng.choice(["utf8", "deep", "huge_int", "root_list", "trunc"])
            text = json.dumps(data).encode()
            raw = {
                "utf8": text.replace(b'"images"', b'"ima\xff\xfeges"', 1),
                "deep": b"[" * 100_000 + b"]" * 100_000,
                "huge_int": text.replace(b'"id": ', b'"id": ' + b"9" * 5000 + b', "x": ', 1),
                "root_list": b"[]",
                "trunc": text[: len(text) // 2],
            }[kind]
            (folder / "instances.json").write_bytes(raw)
            _case(folder, outcome, True, kind)
            continue
        if rng.random() < 0.4:
            image_id = rng.choice(used_images)
            target = next(i for i in data["images"] if i["id"] == image_id)
            key = rng.choice(["height", "width", "file_name", "id"])
        else:
            ann_id = rng.choice(used_anns)
            target = next(a for a in data["annotations"] if a["id"] == ann_id)
            key = rng.choice(
                ["bbox", "bbox", "segmentation", "segmentation", "id", "image_id", "category_id", "area"]
            )
        value, must = _bad_value(rng, key)
        if key == "id" and value == -1:
            must = True  # the refs now point at a missing id
        target[key] = value
        (folder / "instances.json").write_text(json.dumps(data))
        _case(folder, outcome, must, f"{key}={value!r}")
    print(f"fuzz instances.json: {N_INSTANCES} cases -> {outcome}")
    assert outcome["refused"] >= N_INSTANCES * 0.9


def test_fuzz_refs_pickle(source, tmp_path):
    rng = random.Random(SEED + 1)
    refs = load_pickle(source / "refs(unc).p")
    raw = (source / "refs(unc).p").read_bytes()
    outcome: dict[str, Any] = {"refused": 0, "accepted": 0}
    for case in range(N_REFS):
        folder = tmp_path / f"r{case}"
        folder.mkdir()
        shutil.copy(source / "instances.json", folder / "instances.json")
        path = folder / "refs(unc).p"
        kind = rng.choice(["field", "field", "field", "root", "bytes"])
        must = True
        if kind == "field":
            data = copy.deepcopy(refs)
            ref = rng.choice(data)
            key = rng.choice(["ref_id", "image_id", "ann_id", "sentences", "sent_id", "split"])
            value = rng.choice(ODD)
            if key == "sent_id":
                ref["sentences"][0]["sent_id"] = value
            else:
                ref[key] = value
            must = key != "split" and not (key == "ann_id" and value == [])
            must = must and not (key in ("ref_id", "image_id", "ann_id", "sent_id") and value in (-1, 2**32))
            must = must or (key == "split" and not isinstance(value, str))
            if key == "split":
                must = False  # str() of anything is a split name; odd names are logged, not refused
            _write_pickle(path, data)
            label = f"{key}={value!r}"
        elif kind == "root":
            label = rng.choice(["empty", "dict", "bomb", "deep", "cycle", "global"])
            must = label != "empty"  # an empty list reads as no refs; the build plan refuses it
            if label == "global":
                path.write_bytes(pickle.dumps([_Global()], protocol=2))
            elif label == "cycle":
                loop: list[Any] = []
                loop.append(loop)
                _write_pickle(path, [{"ref_id": 0, "sentences": loop}])
            elif label == "deep":  # 5000 nested lists: EMPTY_LIST x N, then APPEND x (N - 1)
                path.write_bytes(b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".")
            else:
                _write_pickle(path, {"empty": [], "dict": {"refs": refs}, "bomb": _shared_bomb()}[label])
        else:
            data = bytearray(raw)
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data))
            must, label = False, "bytes"
        _case(folder, outcome, must, label)
    print(f"fuzz refs pickle: {N_REFS} cases -> {outcome}")


def _build(src: Path, out: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["build", "--quiet", "--source", str(src), "--out", str(out), "--configs", SPEC.name, *extra])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def _mini_source(synth_src: Path, dst: Path) -> Path:
    shutil.copytree(synth_src / SPEC.folder, dst / SPEC.folder)
    shutil.copytree(synth_src / "images", dst / "images")
    return dst


@pytest.mark.parametrize("damage", ["height0", "dotdot", "symlink", "empty_refs", "bomb"])
def test_build_refuses_and_writes_nothing(synth_src, tmp_path, capsys, damage):
    src = _mini_source(synth_src, tmp_path / "src")
    coco_path = src / SPEC.folder / "instances.json"
    coco = json.loads(coco_path.read_text())
    extra: tuple[str, ...] = ()
    if damage == "height0":
        coco["images"][0]["height"] = 0
    elif damage == "dotdot":
        coco["images"][0]["file_name"] = ".."
    elif damage == "symlink":  # an image that is a link to a file outside the source
        outside = tmp_path / "secret.jpg"
        outside.write_bytes(b"not yours")
        first = coco["images"][0]["file_name"]
        image = next((src / "images").rglob(first))
        image.unlink()
        image.symlink_to(outside)
        extra = ("--embed-images",)
    elif damage == "empty_refs":
        _write_pickle(src / SPEC.folder / "refs(unc).p", [])
    else:
        _write_pickle(src / SPEC.folder / "refs(unc).p", _shared_bomb())
    coco_path.write_text(json.dumps(coco))
    out = tmp_path / "data"
    code, err = _build(src, out, capsys, *extra)
    assert code == 2, err
    assert err.startswith("error:"), err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_killed_build_temp_folders_are_removed(synth_src, tmp_path, capsys):
    src = _mini_source(synth_src, tmp_path / "src")
    dead = tmp_path / ".data.building-999999999"  # no such process
    dead.mkdir()
    (dead / "half.parquet").write_bytes(b"x")
    live = tmp_path / f".data.building-{os.getppid()}"  # a running process: left alone
    live.mkdir()
    code, _ = _build(src, tmp_path / "data", capsys)
    assert code == 0
    assert not dead.exists()
    assert live.exists()
