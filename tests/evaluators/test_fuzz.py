"""Seeded fuzzing of predictions files against the contract (issue 17).

Every generated case runs ``vgbench eval`` in-process with ``--out`` and ``--per-sample`` and must
end in one of two ways: exit 0 with both files written and every metric null or in [0, 100], or
exit 2 with exactly one ``error:`` line on stderr and nothing written (no temp file either). A
crash (traceback, exit 1, another exception, a segfault killing the run) fails the test. Cases
whose mutation puts an invalid value into a field (a boolean, a string, NaN, inf, a float32
overflow, a coordinate beyond 2**24, an out-of-range score) must be refused.

The cases are drawn from a fixed seed and bounded (a few hundred, a few seconds); the counts are
printed (``pytest -s``) and documented in docs/evaluators.md.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest

from evaluators import rle
from tests.evaluators.factory import random_dataset, write_jsonl
from vgbench.cli import main

SEED = 17
N_FIELD = 240  # field mutations
N_BYTES = 60  # byte-level mutations

# Values that must be refused wherever a box coordinate or a score is expected.
BAD_NUMBERS: list[Any] = [
    True,
    False,
    None,
    "1",
    [],
    {},
    float("nan"),
    float("inf"),
    -float("inf"),
    3.5e38,  # inf in float32
    -3.5e38,
    1e300,
    2.0**24 + 1,  # beyond the documented coordinate limit
    10**30,  # beyond int64
    [1.0, 2.0],
]
BAD_SCORES: list[Any] = [True, None, "0.9", float("nan"), 1.0000001, -0.1, 10**30, 1e300, [0.9]]
ODD_VALUES: list[Any] = [*BAD_NUMBERS, -1, 0, 1, 2**31, 2**32 + 5, "", "x" * 300, [[[[[]]]]], {"a": 1}]


def _bad_rle(rng: random.Random, size: list[int]) -> Any:
    h, w = size
    return rng.choice(
        [
            {"size": [h, w], "counts": [h * w - 2**32, 2**32]},  # a run beyond uint32
            {"size": [h, w], "counts": [2**32 + 1]},
            {"size": [h, w], "counts": [-1, h * w + 1]},
            {"size": [h, w], "counts": [True] * 2},
            {"size": [65536, 65536], "counts": [2**32]},  # h*w = 2**32: pycocotools' overflow
            {"size": [70000, 70000], "counts": "0"},
            {"size": [h, w], "counts": "\x80\x81"},
            {"size": [h, w], "counts": "zzzz"},
            {"size": [h, w], "counts": "ooooooooo1"},  # a run of more than 35 bits
            {"size": [h, w + 1], "counts": rle.empty(h, w + 1)["counts"]},  # wrong size
            {"size": [h, w]},
            {"size": "24x32", "counts": ""},
            {"size": [h, w], "counts": 5},
        ]
    )


def _deep(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def _mutate_record(rec: dict[str, Any], rng: random.Random, size: list[int]) -> tuple[dict, bool, str]:
    """One field mutation -> (record, must_refuse, label)."""
    rec = copy.deepcopy(rec)
    insts = rec.get("instances") or []
    kind = rng.choice(["bbox", "bbox", "score", "rle", "expr_id", "no_target", "points", "extra", "shape"])
    if kind == "bbox" and insts:
        inst = rng.choice(insts)
        inst["bbox"] = list(inst["bbox"])
        inst["bbox"][rng.randrange(4)] = rng.choice(BAD_NUMBERS)
        return rec, True, "bbox"
    if kind == "score" and insts:
        rng.choice(insts)["score"] = rng.choice(BAD_SCORES)
        return rec, True, "score"
    if kind == "rle":
        if insts and rng.random() < 0.5:
            rng.choice(insts)["segmentation"] = _bad_rle(rng, size)
        else:
            rec["mask"] = _bad_rle(rng, size)
        return rec, True, "rle"
    if kind == "expr_id":
        rec["expr_id"] = rng.choice([None, 7, True, "", [], "nope/val/999"])
        return rec, True, "expr_id"
    if kind == "no_target":
        rec["no_target"] = rng.choice([1, 0, "true", None, [], float("nan")])
        return rec, rec["no_target"] is not None, "no_target"
    if kind == "points":
        rec["points"] = rng.choice([[[1.0]], [[True, 2.0]], [[float("nan"), 1.0]], "p", [[1e400, 1.0]]])
        return rec, True, "points"
    if kind == "shape":
        rec["instances"] = rng.choice([{}, "x", [1, 2], [[0, 0, 1, 1]], _deep(200), _deep(900)])
        return rec, True, "shape"
    # an unknown extra field or an odd value in a field the protocol ignores: either outcome is fine
    rec[rng.choice(["extra", "no_target_score"])] = rng.choice(ODD_VALUES)
    return rec, False, "extra"


def _write_records(path: Path, records: list[Any], container: str) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records) if container == "jsonl" else json.dumps(records)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _byte_case(rng: random.Random, records: list[dict], folder: Path) -> tuple[Path, bool, str]:
    """Byte-level damage -> (file, must_refuse, label)."""
    text = "".join(json.dumps(r) + "\n" for r in records).encode()
    kind = rng.choice(
        ["flip", "truncate", "utf8", "gzip", "gzip_utf8", "deep_json", "huge_int", "nan_literal"]
    )
    if kind == "flip":
        data = bytearray(text)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return _raw(folder / "p.jsonl", bytes(data)), False, kind
    if kind == "truncate":
        return _raw(folder / "p.jsonl", text[: rng.randrange(1, len(text))]), False, kind
    if kind == "utf8":
        return _raw(folder / "p.jsonl", text.replace(b'"expr_id"', b'"expr_\xff\xfeid"', 1)), True, kind
    if kind == "gzip":
        data = bytearray(gzip.compress(text))
        data[rng.randrange(10, len(data) - 8)] ^= 0xFF
        return _raw(folder / "p.jsonl.gz", bytes(data)), False, kind
    if kind == "gzip_utf8":
        return _raw(folder / "p.jsonl.gz", gzip.compress(b"\xff\xfe" + text)), True, kind
    if kind == "deep_json":
        depth = rng.choice([1100, 100_000])
        return _raw(folder / "p.json", b"[" * depth + b"]" * depth), True, kind
    if kind == "huge_int":
        digits = rng.choice([30, 5000])
        big = b"1" * digits
        return (
            _raw(folder / "p.jsonl", text.replace(b'"score": ', b'"score": ' + big + b', "x": ', 1)),
            True,
            kind,
        )
    return _raw(folder / "p.jsonl", text.replace(b'"score": ', b'"score": NaN, "y": ', 1)), True, kind


def _raw(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _run_case(capsys, task: str, preds: Path, targets: Path, out_dir: Path) -> tuple[int, str]:
    out, per_sample = out_dir / "results.json", out_dir / "rows.jsonl"
    argv = ["eval", "--quiet", "--task", task, "--predictions", str(preds), "--targets", str(targets)]
    code = main([*argv, "--out", str(out), "--per-sample", str(per_sample)])
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    if code == 0:
        results = json.loads(out.read_text())
        assert per_sample.is_file(), "results written without the per-sample file"
        for key, value in results["metrics"].items():
            assert value is None or 0.0 <= value <= 100.0, (key, value)
    else:
        assert code == 2, f"exit {code}: {captured.err[-2000:]}"
        assert len(err) == 1, captured.err[-2000:]
        assert err[0].startswith("error:"), captured.err[-2000:]
        assert not list(out_dir.iterdir()), f"written despite the error: {list(out_dir.iterdir())}"
    return code, err[0] if err else ""


@pytest.mark.parametrize("task", ["grec", "gres", "rec"])
def test_fuzz_predictions_files(tmp_path, capsys, task):
    rng = random.Random(f"{SEED}-{task}")
    rows, preds = random_dataset(6, seed=SEED, with_refs=False)
    if task == "rec":  # one target box per expression
        keep = [i for i, r in enumerate(rows) if len([t for t in r["targets"]]) == 1]
        rows, preds = [rows[i] for i in keep], [preds[i] for i in keep]
        for p in preds:
            p.setdefault("instances", [])
    targets = write_jsonl(tmp_path / "targets.jsonl", rows)
    size = rows[0]["mask"]["size"]
    counts = {"cases": 0, "accepted": 0, "refused": 0, "must_refuse": 0}
    labels: dict[str, int] = {}
    for case in range(N_FIELD + N_BYTES):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        out_dir = folder / "out"
        out_dir.mkdir()
        if case < N_FIELD:
            records = copy.deepcopy(preds)
            index = rng.randrange(len(records))
            records[index], must_refuse, label = _mutate_record(records[index], rng, size)
            container = rng.choice(["jsonl", "json", "jsonl.gz", "json.gz"])
            path = _write_records(folder / f"p.{container}", records, container.split(".")[0])
        else:
            path, must_refuse, label = _byte_case(rng, preds, folder)
        code, _err = _run_case(capsys, task, path, targets, out_dir)
        if must_refuse:
            assert code == 2, f"case {case} ({label}) was accepted: {path.read_bytes()[:400]!r}"
        counts["cases"] += 1
        counts["accepted" if code == 0 else "refused"] += 1
        counts["must_refuse"] += must_refuse
        labels[label] = labels.get(label, 0) + 1
    print(f"fuzz {task}: {counts} by mutation {dict(sorted(labels.items()))}")
    assert counts["cases"] == N_FIELD + N_BYTES
    assert counts["refused"] >= counts["must_refuse"]


def test_grec_float32_overflow_never_scores(tmp_path, capsys):
    """3.5e38 is finite in float64 but inf in float32, where GREC computes GIoU: refused, not 100."""
    rows, preds = random_dataset(4, seed=1)
    targets = write_jsonl(tmp_path / "t.jsonl", rows)
    for p in preds:
        p["instances"] = [{"bbox": [0.0, 0.0, 3.5e38, 3.5e38], "score": 0.99}]
    out = tmp_path / "out"
    out.mkdir()
    code, err = _run_case(capsys, "grec", write_jsonl(tmp_path / "p.jsonl", preds), targets, out)
    assert code == 2
    assert "bbox" in err
