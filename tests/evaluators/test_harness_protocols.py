"""``rec/lmms-eval`` and ``rec/vlmevalkit``: hand values, the harnesses' quirks, registry entries."""

from __future__ import annotations

import random

import pytest

from evaluators import Evaluator
from evaluators.errors import InputError
from evaluators.protocols import PROTOCOLS, get_protocol
from tests.evaluators.factory import target_row


def pred(expr_id, *boxes):
    return {
        "expr_id": expr_id,
        "instances": [{"bbox": list(b), "score": 1.0 - i / 8} for i, b in enumerate(boxes)],
    }


def score(protocol, pairs):
    ev = Evaluator("rec", protocol)
    for p, t in pairs:
        ev.update(p, t)
    return ev.compute()


def test_registered_with_sources():
    for name in ("rec/lmms-eval", "rec/vlmevalkit"):
        assert name in PROTOCOLS
        assert PROTOCOLS[name].sources
        assert get_protocol("rec", name).name == name
    with pytest.raises(InputError):
        get_protocol("grec", "rec/lmms-eval")


def test_lmms_eval_hand_values():
    # 100 x 50 image; target x 0-50, y 0-50; prediction x 25-75, y 0-50: I = 25*50, U = 75*50 -> 1/3
    t = target_row("a", [(0, 0, 50, 50)], h=50, w=100)
    res = score("rec/lmms-eval", [(pred("a", (25, 0, 50, 50)), t)])
    m = res["metrics"]
    assert m["miou"] == pytest.approx(100 / 3)
    assert (m["acc@0.1"], m["acc@0.3"], m["acc@0.5"], m["acc@0.7"], m["acc@0.9"]) == (100, 100, 0, 0, 0)
    assert m["center_acc"] == 100.0  # centre (50, 25) on the target's right border: inclusive
    assert res["protocol_params"]["no_box"] == [0, 0, 0, 0]


def test_lmms_eval_no_box_is_0000_and_its_centre_can_hit():
    # lmms-eval's parse failure box [0,0,0,0] has its centre at (0, 0): inside a target at the corner
    corner = target_row("a", [(0, 0, 10, 10)], h=40, w=40)
    away = target_row("b", [(5, 5, 10, 10)], h=40, w=40)
    res = score(
        "rec/lmms-eval",
        [({"expr_id": "a", "instances": []}, corner), ({"expr_id": "b", "instances": []}, away)],
    )
    assert res["metrics"]["center_acc"] == 50.0
    assert res["metrics"]["miou"] == 0.0
    assert res["notes"]["scored_as_0000"] == 2
    # rec/iou has no such rule: a miss is a miss
    assert score("rec/iou", [({"expr_id": "a", "instances": []}, corner)])["metrics"]["miou"] == 0.0


def test_lmms_eval_equals_a_literal_reading_of_its_formula():
    rng = random.Random(3)
    pairs, expect_iou, expect_c = [], [], []
    for k in range(200):
        w, h = rng.randint(20, 700), rng.randint(20, 700)
        gx, gy = rng.uniform(0, w - 10), rng.uniform(0, h - 10)
        gw, gh = rng.uniform(1, w - gx), rng.uniform(1, h - gy)
        px, py = rng.uniform(0, w - 5), rng.uniform(0, h - 5)
        pw, ph = rng.uniform(0, w - px), rng.uniform(0, h - py)
        t = target_row(f"e{k}", [(0, 0, 1, 1)], h=h, w=w)
        t["targets"][0]["bbox"] = [gx, gy, gw, gh]
        pairs.append((pred(f"e{k}", (px, py, pw, ph)), t))
        g = [gx / w, gy / h, (gx + gw) / w, (gy + gh) / h]
        p = [px / w, py / h, (px + pw) / w, (py + ph) / h]
        inter = max(0, min(g[2], p[2]) - max(g[0], p[0])) * max(0, min(g[3], p[3]) - max(g[1], p[1]))
        expect_iou.append(inter / ((g[2] - g[0]) * (g[3] - g[1]) + (p[2] - p[0]) * (p[3] - p[1]) - inter))
        cx, cy = (p[0] + p[2]) / 2, (p[1] + p[3]) / 2
        expect_c.append(g[0] <= cx <= g[2] and g[1] <= cy <= g[3])
    m = score("rec/lmms-eval", pairs)["metrics"]
    assert m["miou"] == pytest.approx(100 * sum(expect_iou) / 200, rel=1e-12)
    assert m["center_acc"] == pytest.approx(100 * sum(expect_c) / 200)
    for t in (0.1, 0.3, 0.5, 0.7, 0.9):
        assert m[f"acc@{t}"] == pytest.approx(100 * sum(i >= t for i in expect_iou) / 200)


def test_vlmevalkit_clips_to_the_image_and_thresholds_at_half():
    t = target_row("a", [(0, 0, 50, 50)], h=100, w=100)
    # prediction reaches outside the image: clipped to 0-50 -> exactly the target
    res = score("rec/vlmevalkit", [(pred("a", (-30, -30, 80, 80)), t)])
    assert res["metrics"] == {"prec@1": 100.0, "miou": 100.0}
    # rec/iou does not clip: IoU 2500 / 6400
    assert score("rec/iou", [(pred("a", (-30, -30, 80, 80)), t)])["metrics"]["miou"] == pytest.approx(
        100 * 2500 / 6400
    )
    half = target_row("b", [(0, 0, 40, 50)], h=100, w=100)
    res = score("rec/vlmevalkit", [(pred("b", (0, 0, 20, 50)), half), ({"expr_id": "a", "instances": []}, t)])
    assert res["metrics"]["prec@1"] == 50.0  # IoU exactly 0.5 counts; no box scores 0
    assert res["metrics"]["miou"] == pytest.approx(25.0)
    assert res["notes"]["no_box_scored_0"] == 1


def test_top_box_is_the_first_answer_box():
    t = target_row("a", [(0, 0, 10, 10)], h=40, w=40)
    p = pred("a", (0, 0, 10, 10), (20, 20, 10, 10))
    for name in ("rec/lmms-eval", "rec/vlmevalkit", "rec/iou"):
        assert score(name, [(p, t)])["metrics"]["miou"] == 100.0
