"""The mask scoring path of `score_files`: counts validated in the overlap pass (C accelerator and the
pycocotools fallback), one front-to-back read of a ``.jsonl``, and the mask-task record contract."""

from __future__ import annotations

import re

import numpy as np
import pytest

from evaluators import rle, score_files
from evaluators.errors import InputError
from tests.evaluators.factory import random_dataset, target_row, write_jsonl
from vgbench.cli import main


@pytest.fixture(params=["c", "fallback"])
def path(request, monkeypatch):
    """Run a test with the C accelerator, and again as if it had not been built."""
    if request.param == "c":
        if rle._OVERLAP is None:
            pytest.skip("the C accelerator is not built")
    else:
        monkeypatch.setattr(rle, "_OVERLAP", None)
        monkeypatch.setattr(rle, "_rlecount", None)
        monkeypatch.setattr(rle, "_LAST_OVERLAP", (None, None, -1, None))
    return request.param


def _noisy(rng, h, w, p):
    return rng.random((h, w)) < p


def test_overlap_equals_dense_counts_on_both_paths(path):
    rng = np.random.default_rng(5)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        a, b = _noisy(rng, h, w, rng.random()), _noisy(rng, h, w, rng.random())
        if rng.random() < 0.2:
            a[:] = rng.random() < 0.5
        ra, rb = rle.encode(a), rle.encode(b)
        want = (int((a & b).sum()), int(a.sum()), int(b.sum()))
        assert rle.overlap(ra, rb) == want
        assert rle.overlap(rb, ra) == (want[0], want[2], want[1])


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        ("\x7f", "outside the COCO alphabet"),
        ("0P", "ends inside a run length"),
        ("1", "cover 1 pixels, expected 3*4=12"),
        ("<1N", "negative run length"),
        ("oooooooo0", "run too large"),
    ],
)
def test_overlap_names_the_malformed_string_on_both_paths(path, counts, reason):
    good = rle.encode(np.ones((3, 4), np.uint8))
    bad = {"size": [3, 4], "counts": counts}
    for args, index in (((bad, good), 0), ((good, bad), 1)):
        with pytest.raises(rle.CountsError, match=re.escape(reason)) as info:
            rle.overlap(*args)
        assert info.value.index == index


def test_remembered_overlap_still_checks_the_size(path):
    a = rle.encode(np.ones((3, 4), np.uint8))
    assert rle.overlap(a, a) == (12, 12, 12)
    with pytest.raises(rle.CountsError, match=r"expected 2[*]2=4"):
        rle.overlap({"size": [2, 2], "counts": a["counts"]}, {"size": [2, 2], "counts": a["counts"]})


def test_long_noisy_strings_take_every_branch_of_the_word_decoder():
    """Strings of many 1-, 2- and 3-byte groups across 64-byte blocks: C equals dense counting."""
    rng = np.random.default_rng(9)
    for p in (0.002, 0.02, 0.3):
        a, b = _noisy(rng, 97, 131, p), _noisy(rng, 97, 131, 0.5)
        b[:40] = False
        ra, rb = rle.encode(a), rle.encode(b)
        assert rle.overlap(ra, rb) == (int((a & b).sum()), int(a.sum()), int(b.sum()))
        assert int(rle.counts_totals([ra["counts"]])[0]) == 97 * 131


def _files(tmp_path, preds, rows):
    return write_jsonl(tmp_path / "p.jsonl", preds), write_jsonl(tmp_path / "t.jsonl", rows)


def test_score_files_names_the_record_with_a_malformed_mask(tmp_path, path):
    rows = [target_row("a", [(0, 0, 4, 4)]), target_row("b", [(2, 2, 5, 5)])]
    preds = [{"expr_id": r["expr_id"], "mask": r["mask"], "no_target": False} for r in rows]
    preds[1]["mask"] = {"size": [20, 30], "counts": "0P"}
    p, t = _files(tmp_path, preds, rows)
    with pytest.raises(
        InputError, match=r"p\.jsonl:2 expr_id='b' field='mask': malformed RLE: .*ends inside"
    ):
        score_files("gres", p, t)
    preds[1]["mask"] = rows[1]["mask"]
    rows[0]["mask"] = {"size": [20, 30], "counts": "1"}
    p, t = _files(tmp_path, preds, rows)
    with pytest.raises(
        InputError, match=r"t\.jsonl:1 expr_id='a' field='mask': malformed RLE: .*cover 1 pixels"
    ):
        score_files("gres", p, t)


def test_score_files_equals_evaluate_of_records_in_any_order(tmp_path, path):
    rows, preds = random_dataset(40, seed=3)
    p, t = _files(tmp_path, preds, rows)
    in_order = score_files("gres", p, t).results
    shuffled = write_jsonl(tmp_path / "s.jsonl", preds[::-1])
    reverse = score_files("gres", shuffled, t).results
    from evaluators import evaluate

    records = evaluate("gres", preds, rows)
    assert in_order["metrics"] == reverse["metrics"] == records["metrics"]


def test_duplicate_and_unknown_ids_are_found_when_read(tmp_path):
    rows = [target_row("a", [(0, 0, 4, 4)])]
    pred = {"expr_id": "a", "mask": rows[0]["mask"]}
    p, t = _files(tmp_path, [pred, pred], rows)
    with pytest.raises(InputError, match=r"p\.jsonl:2 expr_id='a' field='expr_id': duplicate"):
        score_files("gres", p, t)
    p, t = _files(tmp_path, [pred, {"expr_id": "zz", "mask": rows[0]["mask"]}], rows)
    with pytest.raises(InputError, match=r"p\.jsonl:2 expr_id='zz' field='expr_id': unknown expr_id"):
        score_files("gres", p, t)


def test_mask_record_without_mask_or_segmentation_needs_no_target_true(tmp_path, capsys):
    rows = [target_row("a", [(0, 0, 4, 4)]), target_row("b", [])]
    t = write_jsonl(tmp_path / "t.jsonl", rows)
    for task in ("gres", "res", "refzom"):
        p = write_jsonl(
            tmp_path / "p.jsonl", [{"expr_id": "a", "instances": []}, {"expr_id": "b", "instances": []}]
        )
        code = main(["eval", "--quiet", "--task", task, "--predictions", str(p), "--targets", str(t)])
        err = capsys.readouterr().err
        assert code == 2, (task, err)
        assert err.count("\n") == 1, (task, err)
        assert f"{p}:1 expr_id='a' field='mask': missing" in err
        assert "'no_target': true" in err
    p = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"expr_id": "a", "instances": [], "no_target": True},
            {"expr_id": "b", "instances": [], "no_target": True},
        ],
    )
    ev = score_files("gres", p, t, keep_rows=True).evaluator
    assert [(r["I"], r["pred_no_target"]) for r in ev.rows] == [(0, True), (0, True)]  # the empty mask
    assert ev.rows[0]["U"] == int(rle.area(rows[0]["mask"]))


def test_missing_records_are_still_scored_as_empty(tmp_path):
    rows = [target_row("a", [(0, 0, 4, 4)]), target_row("b", [(1, 1, 3, 3)])]
    p, t = _files(tmp_path, [{"expr_id": "a", "mask": rows[0]["mask"]}], rows)
    res = score_files("gres", p, t, allow_missing=True).results
    assert res["counts"]["missing"] == 1
    assert res["metrics"]["giou"] == 50.0


def _mask_only_dataset(n, seed):
    """Rows of every target type and records with a ``mask`` only (the GRES fast path), some with
    ``no_target``, some with ``points`` or an empty ``instances`` list, some empty masks."""
    rows, _ = random_dataset(n, seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for row in rows:
        h, w = row["height"], row["width"]
        mask = rle.encode(rng.random((h, w)) < rng.choice([0.0, 0.05, 0.5]))
        record = {"expr_id": row["expr_id"], "mask": mask}
        kind = int(rng.integers(0, 5))
        if kind == 1:
            record["no_target"] = bool(rng.random() < 0.5)
        elif kind == 2:
            record["points"] = [[float(rng.integers(0, w)), float(rng.integers(0, h))]]
        elif kind == 3:
            record["instances"] = []
        out.append(record)
    return rows, out


def test_score_files_fast_path_equals_the_general_path(tmp_path, path, monkeypatch):
    """`GresReLA.pair_scorer` (taken by ``score_files`` for records with a mask only) gives the results
    of the general path (`Evaluator.update`, and ``score_files`` without the fast path)."""
    from evaluators import Evaluator
    from evaluators.protocols.gres import GresReLA

    rows, preds = _mask_only_dataset(120, seed=8)
    p, t = _files(tmp_path, preds, rows)
    fast = score_files("gres", p, t).results
    ev = Evaluator("gres")
    for pred, row in zip(preds, rows):
        ev.update(pred, row)
    general = ev.compute()
    monkeypatch.setattr(GresReLA, "pair_scorer", lambda self, state: None)
    slow = score_files("gres", p, t).results
    for key in ("metrics", "counts", "breakdown", "notes"):
        assert fast[key] == general[key] == slow[key], key
    assert fast["counts"]["expressions"] == 120


def test_score_files_fast_path_still_names_defects(tmp_path, path):
    rows, preds = _mask_only_dataset(6, seed=9)
    preds[3]["mask"] = {
        "size": [rows[3]["height"] + 1, rows[3]["width"]],
        "counts": preds[3]["mask"]["counts"],
    }
    p, t = _files(tmp_path, preds, rows)
    with pytest.raises(InputError, match=r"p\.jsonl:4 expr_id='d/val/3' field='mask': RLE size"):
        score_files("gres", p, t)
    rows, preds = _mask_only_dataset(6, seed=9)
    preds[2]["mask"] = {"size": preds[2]["mask"]["size"], "counts": preds[2]["mask"]["counts"] + "1"}
    p, t = _files(tmp_path, preds, rows)
    with pytest.raises(
        InputError, match=r"p\.jsonl:3 expr_id='d/val/2' field='mask': malformed RLE: .*cover"
    ):
        score_files("gres", p, t)
