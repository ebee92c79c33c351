"""InstanceVG's own Ref-ZOM and R-RefCOCO evaluation code (``refzom_evaluate``, ``rrefcoco_evaluate``): the no-target
decision comes from the instance scores (> 0.7, float32) and a targeted expression is scored on its mask as
predicted, whatever the record's ``no_target`` says -- what the released checkpoints' numbers were computed with."""

import pytest

from evaluators import evaluate, rle
from tests.evaluators.factory import box_mask, target_row

H, W = 10, 10


def _instance(box, score):
    x0, y0, x1, y1 = box
    return {
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "score": score,
        "segmentation": rle.encode(box_mask(H, W, box)),
    }


def _record(expr_id, mask_box=None, score=0.5, no_target=None):
    rec = {
        "expr_id": expr_id,
        "instances": [_instance(mask_box or (0, 0, 1, 1), score)],
        "mask": rle.encode(box_mask(H, W, mask_box)) if mask_box else rle.empty(H, W),
    }
    if no_target is not None:
        rec["no_target"] = no_target
    return rec


def test_refzom_instancevg_scores_the_predicted_mask_of_a_targeted_expression():
    rows = [target_row("z/test/1", [(0, 0, 5, 2)], H, W)]
    rec = _record("z/test/1", (0, 0, 5, 2), score=0.5, no_target=True)  # no instance above 0.7, mask = gt
    assert evaluate("refzom", [rec], rows, protocol="refzom/instancevg")["metrics"]["miou"] == 100.0
    assert evaluate("refzom", [rec], rows)["metrics"]["miou"] == 0.0  # dmmi: no_target empties the mask


def test_rrefcoco_instancevg_false_positive_from_scores():
    rows = [
        target_row("r/val/1", [(0, 0, 5, 2)], H, W, ref_id=7),  # 10 px
        target_row("r/val/2", [], H, W, ref_id=7),
        target_row("r/val/3", [], H, W, ref_id=7),
    ]
    preds = [
        _record("r/val/1", (0, 0, 5, 1), score=0.9, no_target=True),  # I 5, U 10 (mask as predicted)
        _record("r/val/2", (0, 0, 3, 1), score=0.9),  # an instance > 0.7: false positive, 3 pixels
        _record("r/val/3", (0, 0, 2, 1), score=0.7),  # 0.7 is not > 0.7: true negative despite 2 pixels
    ]
    m = evaluate("rrefcoco", preds, rows, protocol="rrefcoco/instancevg")["metrics"]
    assert m["miou"] == pytest.approx(50.0)
    assert m["mrr"] == pytest.approx(50.0)
    assert m["riou"] == pytest.approx(100 * 5 / (10 + 3))
    ref = evaluate("rrefcoco", preds, rows)["metrics"]  # refsegformer: masks decide, no_target empties
    assert ref["miou"] == 0.0
    assert ref["mrr"] == 0.0
