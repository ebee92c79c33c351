"""Small mask and box helpers of the baselines.

Conventions: masks are dense ``(H, W)`` uint8 arrays or COCO RLE dicts (``evaluators.rle``); boxes are
COCO ``[x, y, w, h]`` in absolute pixels, a pixel ``(row i, col j)`` covering ``[j, j+1) x [i, i+1)``.
"""

from __future__ import annotations

import numpy as np

from evaluators import rle

__all__ = ["bbox_of_mask", "rect_mask", "shift_mask"]


def rect_mask(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> rle.RLE:
    """RLE of the pixel rectangle ``rows [y0, y1) x cols [x0, x1)`` (clipped to the image)."""
    dense = np.zeros((height, width), np.uint8)
    dense[max(y0, 0) : max(min(y1, height), 0), max(x0, 0) : max(min(x1, width), 0)] = 1
    return rle.encode(dense)


def shift_mask(dense: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``dense`` moved by ``dx`` columns right and ``dy`` rows down; pixels leaving the image are lost,
    uncovered pixels are 0."""
    h, w = dense.shape
    out = np.zeros_like(dense)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src = dense[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    out[max(dy, 0) : max(dy, 0) + src.shape[0], max(dx, 0) : max(dx, 0) + src.shape[1]] = src
    return out


def bbox_of_mask(dense: np.ndarray) -> list[float] | None:
    """Tight COCO box ``[x, y, w, h]`` of the foreground pixels (a pixel is 1 x 1), None if empty."""
    rows = np.flatnonzero(dense.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(dense.any(axis=0))
    x0, y0 = int(cols[0]), int(rows[0])
    return [float(x0), float(y0), float(cols[-1] + 1 - x0), float(rows[-1] + 1 - y0)]
