"""The evaluator as a library: arrays and tensors in, the target's expr_id by default, doctests of the API."""

import doctest

import numpy as np
import pytest

import evaluators.api
from evaluators import Evaluator, rle


def _target():
    gt = np.zeros((6, 8), np.uint8)
    gt[:3, :4] = 1
    row = {
        "expr_id": "x/val/1",
        "height": 6,
        "width": 8,
        "no_target": False,
        "targets": [{"bbox": [0, 0, 4, 3], "iscrowd": False}],
        "mask": rle.encode(gt),
    }
    return gt, row


def test_the_api_doctests_pass():
    failed, tried = doctest.testmod(evaluators.api)
    assert tried >= 8
    assert failed == 0


def test_numpy_masks_boxes_and_scores():
    gt, row = _target()
    ev = Evaluator("gres")
    ev.update({"mask": gt.astype(bool), "no_target": np.bool_(False)}, row)
    assert ev.compute()["metrics"]["giou"] == 100.0
    ev = Evaluator("rec")
    ev.update({"instances": [{"bbox": np.array([0.0, 0.0, 4.0, 3.0]), "score": np.float32(0.9)}]}, row)
    assert ev.compute()["metrics"]["prec@0.5"] == 100.0


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    gt, row = _target()
    ev = Evaluator("grec")
    inst = {
        "bbox": torch.tensor([0.0, 0.0, 4.0, 3.0]),
        "score": torch.tensor(0.95),
        "segmentation": torch.tensor(gt),
    }
    ev.update({"instances": [inst], "no_target": torch.tensor(False)}, row)
    assert ev.compute()["metrics"]["f1_score"] == 100.0


def test_ci_needs_kept_rows_and_says_so():
    gt, row = _target()
    ev = Evaluator("gres")
    ev.update({"mask": gt}, row)
    with pytest.raises(ValueError, match="keep_rows=True"):
        ev.compute(ci=0.95)
    ev = Evaluator("gres", keep_rows=True)
    ev.update({"mask": gt}, row)
    assert "ci" in ev.compute(ci=0.95)
