"""Random shapes shared by the benchmark scripts (imported by name: a script's folder is on ``sys.path``)."""

from __future__ import annotations

import math
import random

import numpy as np


def polygon(rng: random.Random, cx: float, cy: float, r: float) -> list[float]:
    """A COCO polygon ``[x0, y0, x1, y1, ...]`` of 24-40 vertices around ``(cx, cy)`` at 0.7-1.0 x ``r``,
    clipped to a 640 x 480 image, pixel coordinates rounded to 2 decimals."""
    k = rng.randint(24, 40)
    pts = []
    for i in range(k):
        a = 2 * math.pi * i / k
        rad = r * rng.uniform(0.7, 1.0)
        pts += [
            round(min(639.0, max(0.0, cx + rad * math.cos(a))), 2),
            round(min(479.0, max(0.0, cy + rad * math.sin(a))), 2),
        ]
    return pts


def box_mask(rng: np.random.Generator, h: int, w: int) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """A random integer box ``(x, y, w, h)`` (sides 20 to a third of the image) and its ``h x w`` uint8 mask."""
    bw, bh = int(rng.integers(20, w // 3)), int(rng.integers(20, h // 3))
    x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
    m = np.zeros((h, w), np.uint8)
    m[y : y + bh, x : x + bw] = 1
    return (x, y, bw, bh), m
