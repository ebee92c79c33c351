"""Small builders of targets and predictions for the evaluator tests (dense masks -> RLE)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import rle


def box_mask(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """Dense mask of an integer xywh box."""
    m = np.zeros((h, w), np.uint8)
    x, y, bw, bh = box
    m[y : y + bh, x : x + bw] = 1
    return m


def target_row(
    expr_id: str,
    boxes: list[tuple[int, int, int, int]] = (),
    h: int = 20,
    w: int = 30,
    crowd: tuple[bool, ...] | None = None,
    ref_id: int | None = None,
    no_target: bool | None = None,
) -> dict[str, Any]:
    """A unified row whose targets are boxes filled as masks; crowd targets stay out of ``mask``."""
    crowd = crowd or tuple(False for _ in boxes)
    dense = np.zeros((h, w), np.uint8)
    targets = []
    for box, is_crowd in zip(boxes, crowd):
        m = box_mask(h, w, box)
        if not is_crowd:
            dense |= m
        targets.append({"bbox": [float(v) for v in box], "iscrowd": is_crowd, "mask": rle.encode(m)})
    n_plain = sum(not c for c in crowd)
    return {
        "expr_id": expr_id,
        "height": h,
        "width": w,
        "no_target": (not boxes) if no_target is None else no_target,
        "target_type": "none" if n_plain == 0 else "single" if n_plain == 1 else "multi",
        "targets": targets,
        "mask": rle.encode(dense),
        "ref_id": ref_id,
    }


def perfect_prediction(row: dict[str, Any]) -> dict[str, Any]:
    """A prediction equal to the ground truth (score 1 instances with their masks)."""
    return {
        "expr_id": row["expr_id"],
        "instances": [{"bbox": t["bbox"], "score": 1.0, "segmentation": t["mask"]} for t in row["targets"]],
        "mask": row["mask"],
        "no_target": row["no_target"],
    }


def random_dataset(
    n: int, seed: int = 0, h: int = 24, w: int = 32, with_refs: bool = False, one_box: bool = False
):
    """``n`` random rows (none / single / multi, some crowd; exactly one box each with ``one_box``, as REC
    needs) and noisy predictions for them."""
    rng = np.random.default_rng(seed)
    rows, preds = [], []
    for i in range(n):
        k = int(rng.choice([0, 1, 1, 2, 3]))
        if one_box:
            k = 1
        boxes = []
        for _ in range(k):
            x, y = int(rng.integers(0, w - 4)), int(rng.integers(0, h - 4))
            boxes.append((x, y, int(rng.integers(1, w - x)), int(rng.integers(1, h - y))))
        crowd = tuple(j > 0 and bool(rng.random() < 0.2) for j in range(len(boxes)))  # never all crowd
        row = target_row(f"d/val/{i}", boxes, h, w, crowd, ref_id=(i // 3) if with_refs else i)
        rows.append(row)
        instances = []
        for _ in range(int(rng.integers(0, 4))):
            x, y = float(rng.integers(0, w - 2)), float(rng.integers(0, h - 2))
            bw, bh = float(rng.integers(0, w - x)), float(rng.integers(0, h - y))
            score = float(rng.choice([0.3, 0.7, 0.69999999, 0.8, 0.95, 1.0]))
            seg = rle.encode(box_mask(h, w, (int(x), int(y), int(bw), int(bh))))
            instances.append({"bbox": [x, y, bw, bh], "score": score, "segmentation": seg})
        if boxes and rng.random() < 0.5:  # a near-miss of a true target
            x, y, bw, bh = boxes[0]
            instances.append(
                {
                    "bbox": [x + 1.0, y, bw, bh],
                    "score": 0.9,
                    "segmentation": rle.encode(box_mask(h, w, (x + 1, y, bw, bh))),
                }
            )
        pred = {"expr_id": row["expr_id"], "instances": instances}
        if rng.random() < 0.7:
            dense = (rng.random((h, w)) < 0.2).astype(np.uint8) | (
                rle.decode(row["mask"]) * (rng.random() < 0.8)
            )
            pred["mask"] = rle.encode(dense)
        if rng.random() < 0.5:
            pred["no_target"] = bool(rng.random() < 0.3)
        if rng.random() < 0.3:
            pred["points"] = [[float(rng.integers(0, w)), float(rng.integers(0, h))] for _ in range(3)]
        if not instances and "mask" not in pred and pred.get("no_target") is not True:
            pred["mask"] = rle.empty(h, w)  # what such a record means; a mask task requires it to say so
        preds.append(pred)
    return rows, preds


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
