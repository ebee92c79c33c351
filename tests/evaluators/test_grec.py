"""Golden cases for GREC: GIoU not IoU, the float32 0.7, greedy matching, NaN, crowd boxes, points."""

import numpy as np
import pytest

from evaluators import evaluate
from evaluators.matching import greedy_match_count
from tests.evaluators.factory import target_row


def _grec(instances, gt_boxes, protocol=None, crowd=None, points=None):
    row = target_row("g/val/1", gt_boxes, h=40, w=40, crowd=crowd)
    pred = {"expr_id": "g/val/1", "instances": [{"bbox": b, "score": s} for b, s in instances]}
    if points is not None:
        pred["points"] = points
    return evaluate("grec", [pred], [row], protocol=protocol)["metrics"]


def test_giou_not_iou():
    # IoU 0.5065 (a match under grec/iou) but GIoU 0.4599 (no match under the official grec/grefcoco)
    inst = [([1.8, 1.8, 10, 10], 0.9)]
    assert _grec(inst, [(0, 0, 10, 10)], "grec/iou")["f1_score"] == 100.0
    assert _grec(inst, [(0, 0, 10, 10)])["f1_score"] == 0.0


def test_float32_score_threshold():
    gt = [(0, 0, 10, 10)]
    assert _grec([([0, 0, 10, 10], 0.7)], gt)["t_acc"] == 0.0  # float32(0.7) = 0.69999999 < 0.7
    assert _grec([([0, 0, 10, 10], 0.7000001)], gt)["f1_score"] == 100.0
    assert _grec([([0, 0, 10, 10], 0.6999999999)], gt)["t_acc"] == 0.0


def test_greedy_not_optimal_matching():
    # X = [0,0,10,10], Y = [1,0,10,10]; A = X (GIoU 1 with X, 0.818 with Y); B = [-3,0,10,10]
    # (0.538 with X, 0.4286 with Y). Greedy takes A-X first, then B-Y < 0.5: TP 1, FP 1, FN 1.
    # The optimal assignment (A-Y, B-X) would match both.
    metrics = _grec([([0, 0, 10, 10], 0.9), ([-3, 0, 10, 10], 0.8)], [(0, 0, 10, 10), (1, 0, 10, 10)])
    assert metrics["f1_score"] == 0.0
    assert metrics["t_acc"] == 100.0


def test_greedy_matrix_rules():
    sim = np.array([[0.9, 0.6], [0.6, 0.3]], np.float32)
    assert greedy_match_count(sim) == 1  # optimal would be 2
    assert greedy_match_count(np.array([[0.5]], np.float32)) == 1  # inclusive threshold
    assert greedy_match_count(np.array([[0.49]], np.float32)) == 0
    assert greedy_match_count(np.array([[np.nan, 0.1]], np.float32)) == 1  # NaN counts as a match
    assert greedy_match_count(np.zeros((0, 3), np.float32)) == 0
    big = np.full((10, 10), 0.9, np.float32)
    assert greedy_match_count(big) == 10


def test_nan_giou_of_zero_area_boxes_counts_as_match():
    inst = [([5, 5, 0, 0], 0.9)]
    assert _grec(inst, [(5, 5, 0, 0)])["f1_score"] == 100.0  # 0/0 GIoU is NaN -> a match, as officially
    assert _grec(inst, [(5, 5, 0, 0)], "grec/iou")["f1_score"] == 0.0  # plain IoU floors the union


def test_no_target_rules_and_empty_instances():
    assert _grec([], [])["f1_score"] == 100.0
    assert _grec([], [])["n_acc"] == 100.0
    assert _grec([], [])["t_acc"] is None
    m = _grec([([0, 0, 5, 5], 0.9)], [])
    assert m["f1_score"] == 0.0
    assert m["n_acc"] == 0.0
    m = _grec([([0, 0, 5, 5], 0.5)], [])  # below threshold: not kept
    assert m["f1_score"] == 100.0
    m = _grec([], [(0, 0, 10, 10)])
    assert m["f1_score"] == 0.0
    assert m["t_acc"] == 0.0
    assert m["n_acc"] is None


def test_crowd_boxes_count_as_targets():
    gt = [(0, 0, 10, 10), (20, 20, 10, 10)]
    one = [([0, 0, 10, 10], 0.9)]
    both = [*one, ([20, 20, 10, 10], 0.9)]
    assert _grec(one, gt, crowd=(False, True))["f1_score"] == 0.0  # FN = the crowd box
    assert _grec(both, gt, crowd=(False, True))["f1_score"] == 100.0


def test_cover_acc_points_borders_included():
    gt = [(0, 0, 10, 10), (20, 20, 10, 10)]
    m = _grec([], gt, points=[[10.0, 10.0], [35.0, 35.0]])  # on the first box's corner; outside the second
    assert m["cover_acc"] == 50.0
    assert "cover_acc" not in _grec([], gt)


def test_rows_ordered_by_score_then_box():
    # Two kept boxes tie on GIoU with one target; whichever row topk picks, TP = 1, FP = 1.
    m = _grec([([0, 0, 10, 10], 0.8), ([0, 0, 10, 10], 0.9)], [(0, 0, 10, 10)])
    assert m["f1_score"] == 0.0


@pytest.mark.parametrize("protocol", ["grec/grefcoco", "grec/iou"])
def test_perfect_boxes(protocol):
    gt = [(0, 0, 10, 10), (12, 3, 7, 9), (30, 30, 5, 5)]
    assert _grec([(list(b), 1.0) for b in gt], gt, protocol)["f1_score"] == 100.0
