"""REC in float32, as the official code computes it (issue 17, item 5).

The expected values are computed here with torch float32 tensors, following the official arithmetic:

- ranking: ``sorted(zip(scores.tolist(), boxes.tolist()), reverse=True)`` on float32 tensors, then
  ``torch.argmax`` (SimVG / InstanceVG ``accuracy``; MDETR sorts the same way);
- ``rec/iou``: mmdet ``bbox_overlaps(gt, pred, is_aligned=True)`` (float32, union floored at 1e-6);
- ``rec/giou``: MDETR ``generalized_box_iou`` (float32);
- hits: ``iou >= thr`` on a float32 tensor (the threshold becomes float32);
- target corners ``x + w`` in Python floats, then float32 (the official loaders convert in Python).

Predictions are written as a careful converter writes float32 model boxes: ``w = x2 - x1`` in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluators import evaluate
from tests.evaluators.factory import target_row

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def _official_top(scores32: torch.Tensor, boxes32: torch.Tensor) -> torch.Tensor:
    pairs = sorted(zip(scores32.tolist(), boxes32.tolist()), reverse=True)
    sorted_scores = torch.cat([torch.as_tensor(s).view(1, 1) for s, _ in pairs])
    sorted_boxes = torch.cat([torch.as_tensor(b).view(1, 4) for _, b in pairs])
    return sorted_boxes[torch.argmax(sorted_scores)].view(1, 4)


def _gt32(gt_xywh) -> torch.Tensor:
    x, y, w, h = gt_xywh
    return torch.tensor([[x, y, x + w, y + h]], dtype=torch.float32)


def _official_iou(gt: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    area1 = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area2 = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    lt = torch.max(gt[:, :2], pred[:, :2])
    rb = torch.min(gt[:, 2:], pred[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    union = torch.max(area1 + area2 - overlap, torch.tensor([1e-6]))
    return overlap / union


def _official_giou(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    area1 = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area2 = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    lt = torch.max(pred[:, None, :2], gt[:, :2])
    rb = torch.min(pred[:, None, 2:], gt[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    iou = inter / union
    lt = torch.min(pred[:, None, :2], gt[:, :2])
    rb = torch.max(pred[:, None, 2:], gt[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[:, :, 0] * wh[:, :, 1]
    return (iou - (area - union) / area).view(1)


def _cases(n: int, seed: int):
    """Near-threshold cases: a float32 prediction whose IoU with the target is a threshold +- 1e-6."""
    rng = np.random.default_rng(seed)
    rows, preds, official = [], [], []
    for i in range(n):
        gx, gy = np.round(rng.uniform(0, 300, 2), 2)
        gw, gh = np.round(rng.uniform(20, 300, 2), 2)
        gt = (float(gx), float(gy), float(gw), float(gh))
        t = THRESHOLDS[i % len(THRESHOLDS)]
        frac = t + rng.uniform(-1e-6, 1e-6)  # the prediction covers this share of the target's width
        x2 = np.float32(gx + frac * gw)
        box32 = np.array([gx, gy, x2, gy + gh], dtype=np.float32)
        decoy32 = np.array([gx - 1, gy + 1, gx + 2, gy + 2], dtype=np.float32)  # ranks below box32
        score = 0.8125
        boxes32 = np.stack([decoy32, box32]) if i % 2 else np.stack([box32, decoy32])
        # float64 scores that differ, equal in float32: the float32 box order decides (box32 wins)
        scores = [score + 1e-9, score] if i % 2 else [score, score + 1e-9]
        instances = [
            {
                "bbox": [float(b[0]), float(b[1]), float(b[2]) - float(b[0]), float(b[3]) - float(b[1])],
                "score": s,
            }
            for b, s in zip(boxes32, scores)
        ]
        rows.append(target_row(f"r/val/{i}", [(0, 0, 1, 1)], h=8, w=8))
        rows[-1]["targets"][0]["bbox"] = list(gt)
        preds.append({"expr_id": f"r/val/{i}", "instances": instances})
        top = _official_top(torch.tensor(np.float32(scores)), torch.from_numpy(boxes32))
        official.append((_gt32(gt), top))
    return rows, preds, official


@pytest.mark.parametrize("protocol", ["rec/iou", "rec/giou"])
def test_rec_matches_the_official_float32_arithmetic(protocol):
    rows, preds, official = _cases(60, seed=5)
    values = [
        _official_iou(gt, top) if protocol == "rec/iou" else _official_giou(top, gt) for gt, top in official
    ]
    expected = {
        f"prec@{t}": 100.0 * float(np.mean([bool((v >= t).item()) for v in values])) for t in THRESHOLDS
    }
    expected["miou"] = 100.0 * float(np.mean([float(v.item()) for v in values]))
    got = evaluate("rec", preds, rows, protocol=protocol)["metrics"]
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    # the float64 arithmetic disagrees on some of these cases: the test can tell the two apart
    f64_hits = []
    for row, pred in zip(rows, preds):
        x, y, w, h = row["targets"][0]["bbox"]
        b = max(pred["instances"], key=lambda inst: (inst["score"], inst["bbox"][0]))["bbox"]
        inter = max(0.0, min(x + w, b[0] + b[2]) - max(x, b[0])) * max(
            0.0, min(y + h, b[1] + b[3]) - max(y, b[1])
        )
        f64_hits.append(inter / (w * h + b[2] * b[3] - inter) >= 0.5)
    assert 100.0 * np.mean(f64_hits) != got["prec@0.5"]


def test_float32_tie_ranks_by_the_float32_box():
    """0.9 and 0.9 + 1e-9 are one float32 value: the larger float32 box tuple ranks first."""
    row = target_row("r/val/0", [(10, 10, 10, 10)], h=40, w=40)
    pred = {
        "expr_id": "r/val/0",
        "instances": [
            {"bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.9 + 1e-9},
            {"bbox": [10.0, 10.0, 10.0, 10.0], "score": 0.9},
        ],
    }
    for protocol in ("rec/iou", "rec/giou"):
        assert evaluate("rec", [pred], [row], protocol=protocol)["metrics"]["prec@0.9"] == 100.0
    # rec/refer is the refer toolkit in Python floats: the float64 top score wins
    assert evaluate("rec", [pred], [row], protocol="rec/refer")["metrics"]["prec@0.5"] == 0.0


def test_corner_rounding_to_float32_decides_the_threshold():
    """w = 5 - 1e-8: IoU 0.499999999 in float64, exactly 0.5 once the corner is float32 (x2 = 5.0)."""
    row = target_row("r/val/0", [(0, 0, 10, 10)], h=20, w=20)
    pred = {"expr_id": "r/val/0", "instances": [{"bbox": [0.0, 0.0, 5.0 - 1e-8, 10.0], "score": 0.5}]}
    official = _official_iou(_gt32((0.0, 0.0, 10.0, 10.0)), torch.tensor([[0.0, 0.0, 5.0 - 1e-8, 10.0]]))
    assert official.item() == 0.5
    assert evaluate("rec", [pred], [row], protocol="rec/iou")["metrics"]["prec@0.5"] == 100.0
    assert evaluate("rec", [pred], [row], protocol="rec/refer")["metrics"]["prec@0.5"] == 0.0
