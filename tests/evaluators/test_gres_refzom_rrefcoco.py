"""Golden cases for GRES (ReLA union rule, derived vs explicit no-target), Ref-ZOM and R-RefCOCO."""

import pytest

from evaluators import evaluate, rle
from tests.evaluators.factory import box_mask, target_row

H, W = 10, 10


def _mask(box):
    return rle.encode(box_mask(H, W, box))


def _pred(expr_id, box=None, **kw):
    record = {"expr_id": expr_id, "mask": _mask(box) if box else rle.empty(H, W)}
    record.update(kw)
    return record


def test_gres_rela_four_cases_by_hand():
    rows = [
        target_row("g/val/1", [(0, 0, 5, 2)], H, W),  # gt 10 px
        target_row("g/val/2", [(0, 0, 5, 2)], H, W),
        target_row("g/val/3", [], H, W),
        target_row("g/val/4", [], H, W),
    ]
    preds = [
        _pred("g/val/1", (0, 0, 5, 4), no_target=False),  # I 10, U 20 -> 0.5
        _pred("g/val/2", (0, 1, 3, 2), no_target=True),  # targeted, pred_nt: IoU 0, U += |P OR G| = 13
        _pred("g/val/3", (0, 0, 1, 3), no_target=False),  # no-target missed: U += |P| = 3
        _pred("g/val/4", (0, 0, 9, 9), no_target=True),  # no-target right: IoU 1, adds nothing
    ]
    m = evaluate("gres", preds, rows)["metrics"]
    assert m["giou"] == pytest.approx(100 * (0.5 + 0 + 0 + 1) / 4)
    assert m["ciou"] == pytest.approx(100 * 10 / (20 + 13 + 3))
    assert m["n_acc"] == 50.0
    assert m["t_acc"] == 50.0
    assert m["prec@0.7"] == 0.0


def test_gres_prec_over_targeted_only():
    rows = [target_row("g/val/1", [(0, 0, 5, 2)], H, W), target_row("g/val/2", [], H, W)]
    preds = [_pred("g/val/1", (0, 0, 5, 2)), _pred("g/val/2")]
    m = evaluate("gres", preds, rows)["metrics"]
    assert m["prec@0.9"] == 100.0
    assert m["giou"] == 100.0
    assert m["ciou"] == 100.0


def test_gres_derived_vs_explicit_no_target():
    rows = [target_row("g/val/1", [], H, W)]
    derived = evaluate("gres", [_pred("g/val/1")], rows)
    assert derived["metrics"]["n_acc"] == 100.0
    assert derived["notes"]["no_target_source"] == "derived"
    explicit = evaluate("gres", [_pred("g/val/1", no_target=False)], rows)
    assert explicit["metrics"]["n_acc"] == 0.0
    assert explicit["metrics"]["giou"] == 0.0
    assert explicit["notes"]["no_target_source"] == "record"
    assert explicit["metrics"]["ciou"] is None  # sum U = 0: empty denominator -> null


def test_gres_mask_from_kept_instances_and_instancevg_rule():
    rows = [target_row("g/val/1", [(0, 0, 5, 2)], H, W)]
    seg = _mask((0, 0, 5, 2))
    at_07 = {"expr_id": "g/val/1", "instances": [{"bbox": [0, 0, 5, 2], "score": 0.7, "segmentation": seg}]}
    # ReLA: float32(0.7) is not kept -> empty mask -> derived no-target -> IoU 0
    assert evaluate("gres", [at_07], rows)["metrics"]["giou"] == 0.0
    # InstanceVG: no score strictly > 0.7 -> pred_nt
    assert evaluate("gres", [at_07], rows, protocol="gres/instancevg")["metrics"]["t_acc"] == 0.0
    above = {"expr_id": "g/val/1", "instances": [{"bbox": [0, 0, 5, 2], "score": 0.71, "segmentation": seg}]}
    assert evaluate("gres", [above], rows)["metrics"]["giou"] == 100.0
    assert evaluate("gres", [above], rows, protocol="gres/instancevg")["metrics"]["giou"] == 100.0


def test_gres_crowd_left_out_of_gt_mask():
    row = target_row("g/val/1", [(0, 0, 5, 2), (5, 5, 5, 5)], H, W, crowd=(False, True))
    m = evaluate("gres", [_pred("g/val/1", (0, 0, 5, 2))], [row])["metrics"]
    assert m["giou"] == 100.0


def test_refzom_empty_mask_rule():
    rows = [
        target_row("z/test/1", [], H, W),
        target_row("z/test/2", [], H, W),
        target_row("z/test/3", [(0, 0, 5, 2)], H, W),
    ]
    preds = [
        _pred("z/test/1", (0, 0, 2, 2)),  # pixels on a one-to-zero expression: miss
        _pred("z/test/2", (0, 0, 2, 2), no_target=True),  # no_target empties the mask: hit
        _pred("z/test/3", (0, 0, 5, 4)),  # targeted IoU 0.5
    ]
    m = evaluate("refzom", preds, rows)["metrics"]
    assert m["acc"] == 50.0
    assert m["miou"] == 50.0
    assert m["oiou"] == 50.0
    assert m["prec@0.5"] == 100.0
    assert m["prec@0.6"] == 0.0


def test_refzom_instancevg_zero_hit():
    rows = [target_row("z/test/1", [], H, W)]
    seg = _mask((0, 0, 2, 2))
    rec = {"expr_id": "z/test/1", "instances": [{"bbox": [0, 0, 2, 2], "score": 0.7, "segmentation": seg}]}
    assert evaluate("refzom", [rec], rows, protocol="refzom/instancevg")["metrics"]["acc"] == 100.0
    rec["instances"][0]["score"] = 0.71
    assert evaluate("refzom", [rec], rows, protocol="refzom/instancevg")["metrics"]["acc"] == 0.0
    assert evaluate("refzom", [rec], rows)["metrics"]["acc"] == 0.0  # dmmi: the kept mask has pixels


def _rref_case():
    rows = [
        target_row("r/val/1", [(0, 0, 5, 2)], H, W, ref_id=7),  # 10 px
        target_row("r/val/2", [(0, 0, 4, 2)], H, W, ref_id=7),  # 8 px
        target_row("r/val/3", [], H, W, ref_id=7),
        target_row("r/val/4", [], H, W, ref_id=7),
        target_row("r/val/5", [(0, 0, 2, 2)], H, W, ref_id=8),  # an object with no negative
    ]
    preds = [
        _pred("r/val/1", (0, 0, 5, 1)),  # I 5, U 10 -> 0.5
        _pred("r/val/2", (0, 0, 4, 2)),  # I 8, U 8 -> 1
        _pred("r/val/3", (0, 0, 3, 1)),  # FP negative with 3 pixels
        _pred("r/val/4"),  # TN
        _pred("r/val/5", (0, 0, 2, 2)),  # I 4, U 4
    ]
    return rows, preds


def test_rrefcoco_per_object_by_hand():
    rows, preds = _rref_case()
    result = evaluate("rrefcoco", preds[:4], rows[:4])
    m = result["metrics"]
    assert m["miou"] == pytest.approx(75.0)
    assert m["mrr"] == pytest.approx(50.0)
    assert m["riou"] == pytest.approx(100 * 13 / (18 + 3))
    assert m["oiou"] == pytest.approx(100 * 13 / 18)


def test_rrefcoco_nan_propagates_and_is_noted():
    rows, preds = _rref_case()
    result = evaluate("rrefcoco", preds, rows)
    assert result["metrics"]["mrr"] is None  # object 8 has no negative: r_o NaN, the mean is NaN
    assert result["metrics"]["miou"] == pytest.approx(100 * (0.75 + 1.0) / 2)
    assert result["notes"]["objects_without_negative"] == 1
    assert "mrr" in result["notes"]["nan_metrics"]
    zero_union = [
        target_row("r/val/9", [(0, 0, 0, 0)], H, W, ref_id=9),
        target_row("r/val/10", [], H, W, ref_id=9),
    ]
    res = evaluate("rrefcoco", [_pred("r/val/9"), _pred("r/val/10")], zero_union)
    assert res["metrics"]["miou"] is None  # U = 0 positive -> NaN IoU
    assert res["metrics"]["mrr"] == 100.0
