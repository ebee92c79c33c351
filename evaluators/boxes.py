"""Box similarity matrices. Inputs are COCO ``[x, y, w, h]`` absolute pixels, shape ``(N, 4)``.

Converted to corners ``(x1, y1, x2, y2) = (x, y, x + w, y + h)`` with no +1, except `refer_iou`,
which follows the refer toolkit's pixel-inclusive convention.
"""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "generalized_box_iou", "refer_iou", "xywh_to_xyxy"]


def xywh_to_xyxy(boxes: np.ndarray, dtype=np.float64) -> np.ndarray:
    """``(N, 4)`` xywh -> ``(N, 4)`` xyxy in ``dtype`` (the sum is done in ``dtype``)."""
    b = np.asarray(boxes, dtype=dtype).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def _inter_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return inter, union


def box_iou(a_xyxy: np.ndarray, b_xyxy: np.ndarray, eps: float | None = 1e-6) -> np.ndarray:
    """``(N, M)`` IoU of corner boxes, in their dtype. ``union`` is floored at ``eps``;
    with ``eps=None`` a zero union gives NaN (0 / 0), as torch would."""
    inter, union = _inter_union(a_xyxy, b_xyxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        if eps is None:
            return inter / union
        return inter / np.maximum(union, a_xyxy.dtype.type(eps))


def generalized_box_iou(a_xyxy: np.ndarray, b_xyxy: np.ndarray) -> np.ndarray:
    """``(N, M)`` generalized IoU (DETR / MDETR formula) in the inputs' dtype.

    ``giou = iou - (enclosing - union) / enclosing``; two zero-area boxes give NaN (0 / 0), as in the
    official torch code.
    """
    inter, union = _inter_union(a_xyxy, b_xyxy)
    lt = np.minimum(a_xyxy[:, None, :2], b_xyxy[None, :, :2])
    rb = np.maximum(a_xyxy[:, None, 2:], b_xyxy[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    enclosing = wh[..., 0] * wh[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / union
        return iou - (enclosing - union) / enclosing


def refer_iou(box1_xywh: np.ndarray, box2_xywh: np.ndarray) -> float:
    """IoU of two boxes as the refer toolkit's ``computeIoU`` defines it (float64).

    Inclusive pixel corners ``x2 = x + w - 1``; the intersection ``(x2 - x1 + 1) * (y2 - y1 + 1)`` counts
    only when ``x1 < x2`` and ``y1 < y2`` (strict); ``union = w1*h1 + w2*h2 - inter``. A zero union gives 0.
    """
    x1, y1, w1, h1 = (float(v) for v in box1_xywh)
    x2, y2, w2, h2 = (float(v) for v in box2_xywh)
    ix1, iy1 = max(x1, x2), max(y1, y2)
    ix2, iy2 = min(x1 + w1 - 1, x2 + w2 - 1), min(y1 + h1 - 1, y2 + h2 - 1)
    inter = (ix2 - ix1 + 1) * (iy2 - iy1 + 1) if ix1 < ix2 and iy1 < iy2 else 0.0
    union = w1 * h1 + w2 * h2 - inter
    return inter / union if union > 0 else 0.0
