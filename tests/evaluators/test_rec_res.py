"""Golden cases for REC (rec/iou, rec/giou, rec/refer) and RES (res/lavt), computed by hand."""

import math

import numpy as np
import pytest

from evaluators import InputError, evaluate, rle
from tests.evaluators.factory import box_mask, target_row


def _rec(pred_boxes, gt_box, protocol=None, scores=None):
    row = target_row("r/val/1", [gt_box], h=40, w=40)
    scores = scores or [0.9] * len(pred_boxes)
    pred = {"expr_id": "r/val/1", "instances": [{"bbox": b, "score": s} for b, s in zip(pred_boxes, scores)]}
    return evaluate("rec", [pred], [row], protocol=protocol)["metrics"]


def test_rec_iou_hand_values():
    # inter 50, union 150 -> 1/3
    assert _rec([[5, 0, 10, 10]], (0, 0, 10, 10))["miou"] == pytest.approx(100 / 3)
    m = _rec([[0, 0, 10, 10]], (0, 0, 10, 10))
    assert m["miou"] == 100.0
    assert all(m[f"prec@{t}"] == 100.0 for t in (0.5, 0.6, 0.7, 0.8, 0.9))


def test_rec_threshold_is_inclusive():
    # inter 50, union 100 -> IoU exactly 0.5 counts at prec@0.5
    m = _rec([[0, 0, 10, 5]], (0, 0, 10, 10))
    assert m["prec@0.5"] == 100.0
    assert m["prec@0.6"] == 0.0


def test_rec_empty_instances_is_a_miss():
    m = _rec([], (0, 0, 10, 10))
    assert m["miou"] == 0.0
    assert m["prec@0.5"] == 0.0


def test_rec_top_score_and_tie_to_larger_box_tuple():
    # equal scores: the larger (x1, y1, x2, y2) tuple wins -> [5,0,10,10] (IoU 1/3) over [0,0,10,10] (IoU 1)
    assert _rec([[0, 0, 10, 10], [5, 0, 10, 10]], (0, 0, 10, 10), scores=[0.8, 0.8])["miou"] == pytest.approx(
        100 / 3
    )
    assert _rec([[0, 0, 10, 10], [5, 0, 10, 10]], (0, 0, 10, 10), scores=[0.8, 0.7])["miou"] == 100.0


def test_rec_giou_float32():
    # diagonal shift 1.8: IoU 0.50648, GIoU = IoU - 6.48/139.24 = 0.45994
    iou = _rec([[1.8, 1.8, 10, 10]], (0, 0, 10, 10))["miou"]
    giou = _rec([[1.8, 1.8, 10, 10]], (0, 0, 10, 10), "rec/giou")["miou"]
    inter, union, enclosing = 8.2**2, 200 - 8.2**2, 11.8**2
    assert iou == pytest.approx(100 * inter / union)
    assert giou == pytest.approx(100 * (inter / union - (enclosing - union) / enclosing), abs=1e-4)
    assert isinstance(giou, float)
    assert giou != iou


def test_rec_refer_inclusive_pixels():
    # refer toolkit: x2 = x + w - 1; [9,0,10,10] vs [0,0,10,10] -> ix1 = ix2 = 9 -> no intersection
    assert _rec([[9, 0, 10, 10]], (0, 0, 10, 10), "rec/refer")["miou"] == 0.0
    assert _rec([[9, 0, 10, 10]], (0, 0, 10, 10))["miou"] == pytest.approx(100 * 10 / 190)
    # [5,0,10,10]: inter (9-5+1)*(9-0+1) = 50, union 200 - 50
    assert _rec([[5, 0, 10, 10]], (0, 0, 10, 10), "rec/refer")["miou"] == pytest.approx(100 / 3)


def test_rec_needs_one_target():
    row = target_row("r/val/1", [(0, 0, 5, 5), (6, 6, 3, 3)])
    with pytest.raises(InputError, match="exactly one target"):
        evaluate("rec", [{"expr_id": "r/val/1", "instances": []}], [row])


def _res(pred_dense, gt_box, h=10, w=10):
    row = target_row("s/val/1", [gt_box], h=h, w=w)
    return {"expr_id": "s/val/1", "mask": rle.encode(pred_dense)}, row


def test_res_miou_oiou_hand_values():
    p1, r1 = _res(box_mask(10, 10, (0, 0, 5, 2)), (0, 0, 5, 4))  # I 10, U 20 -> 0.5
    p2, r2 = _res(box_mask(10, 10, (0, 0, 2, 2)), (0, 0, 10, 10))  # I 4, U 100 -> 0.04
    p2["expr_id"] = r2["expr_id"] = "s/val/2"
    m = evaluate("res", [p1, p2], [r1, r2])["metrics"]
    assert m["miou"] == pytest.approx(100 * (0.5 + 0.04) / 2)
    assert m["oiou"] == pytest.approx(100 * 14 / 120)
    assert m["prec@0.5"] == 50.0
    assert m["prec@0.6"] == 0.0


def test_res_zero_union_scores_zero_and_oiou_null():
    row = target_row("s/val/1", [(0, 0, 0, 0)], h=6, w=6)  # empty gt mask
    pred = {"expr_id": "s/val/1", "mask": rle.empty(6, 6)}
    m = evaluate("res", [pred], [row])["metrics"]
    assert m["miou"] == 0.0
    assert m["oiou"] is None


def test_res_mask_from_top_instance():
    gt = (0, 0, 4, 4)
    row = target_row("s/val/1", [gt], h=8, w=8)
    good = {"bbox": [0, 0, 4, 4], "score": 0.9, "segmentation": rle.encode(box_mask(8, 8, gt))}
    bad = {"bbox": [4, 4, 4, 4], "score": 0.5, "segmentation": rle.encode(box_mask(8, 8, (4, 4, 4, 4)))}
    m = evaluate("res", [{"expr_id": "s/val/1", "instances": [bad, good]}], [row])["metrics"]
    assert m["miou"] == 100.0
    assert not math.isnan(m["oiou"])


def test_resize_nearest_changes_resolution_only():
    gt = (0, 0, 20, 20)
    row = target_row("s/val/1", [gt], h=40, w=40)
    pred = {"expr_id": "s/val/1", "mask": rle.encode(box_mask(40, 40, (0, 0, 20, 10)))}
    full = evaluate("res", [pred], [row])["metrics"]["miou"]
    small = evaluate("res", [pred], [row], resize=20)["metrics"]["miou"]
    assert full == small == 50.0
    dense = np.zeros((3, 5), np.uint8)
    dense[1, 2] = 1
    out = rle.decode(rle.resize_nearest(rle.encode(dense), (6, 10)))
    assert out.sum() == 4
    assert out[2:4, 4:6].all()
