"""Every answer family on hand-written answer strings (tests/baselines/data/text_answers.json).

The expected boxes were computed by hand from each family's documented grammar and convention
(docs/baselines.md), including Qwen2.5-VL's smart-resize, Shikra's square padding, Florence-2's bin
centres, PaliGemma's y-first order and Kosmos-2's patch grid.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baselines.adapters.text import FAMILIES, Answer, adapt_answers, says_no_target, smart_resize
from evaluators import rle
from evaluators.records import parse_target

CASES = json.loads((Path(__file__).parent / "data" / "text_answers.json").read_text())["cases"]


def target(h: int, w: int, expr_id: str = "c/val/1"):
    return parse_target(
        {
            "expr_id": expr_id,
            "height": h,
            "width": w,
            "no_target": True,
            "targets": [],
            "mask": rle.empty(h, w),
        },
        "<t>",
    )


def adapt_one(case: dict):
    answer = Answer(
        "c/val/1",
        case["text"],
        "<fixture>",
        case.get("input_width"),
        case.get("input_height"),
        None if "decoder_boxes" not in case else tuple(tuple(b) for b in case["decoder_boxes"]),
    )
    kwargs = {"max_pixels": case["max_pixels"]} if "max_pixels" in case else {}
    records, report = adapt_answers(
        case["family"], [answer], [target(case["h"], case["w"])], coords=case.get("coords"), **kwargs
    )
    return records[0], report


def test_every_family_has_fixtures():
    covered = {c["family"] for c in CASES}
    assert covered >= set(FAMILIES) - {"seg"}  # seg needs PNG files: tests/baselines/test_text_adapt.py
    for fam in covered - {"generic", "ref-vlm"}:
        kinds = {("boxes" in c and len(c["boxes"]) > 1, "failure" in c) for c in CASES if c["family"] == fam}
        assert (False, True) in kinds, f"{fam}: no malformed answer"
        if fam not in ("lmms-eval", "vlmevalkit"):  # the harness rules read one box only
            assert (True, False) in kinds, f"{fam}: no multi-box answer"


@pytest.mark.parametrize("case", CASES, ids=[f"{c['family']}:{c['text'][:40]}" for c in CASES])
def test_fixture(case):
    record, report = adapt_one(case)
    if case.get("failure"):
        assert list(report.parse_failures) == ["c/val/1"]
        assert record["instances"] == []
        assert record["no_target"] is False
        return
    assert not report.parse_failures, report.parse_failures
    if case.get("no_target"):
        assert record["instances"] == []
        assert record["no_target"] is True
        return
    got = [[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in (i["bbox"] for i in record["instances"])]
    assert len(got) == len(case["boxes"])
    for g, e in zip(got, case["boxes"]):
        assert g == pytest.approx(e, abs=1e-6)
    scores = [i["score"] for i in record["instances"]]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)
    assert min(scores) >= 0.7
    if case.get("masks"):
        assert "mask" in record
        assert all("segmentation" in i for i in record["instances"])
        assert rle.area(record["mask"]) > 0


def test_smart_resize_matches_hand_values():
    assert smart_resize(480, 640) == (476, 644)
    assert smart_resize(1500, 2000) == (1512, 1988)
    assert smart_resize(1500, 2000, max_pixels=1003520) == (840, 1148)
    assert smart_resize(10, 10) == (56, 56)  # below min_pixels: scaled up to 4 x 28 x 28


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("There is no such object.", True),
        ("No matching object in the image", True),
        ("The target does not exist in this picture.", True),
        ("none", True),
        ("The dog is on the left.", False),
        ("a nonexistent word: nonetheless", False),
    ],
)
def test_no_target_phrases(text, expected):
    assert says_no_target(text) is expected
