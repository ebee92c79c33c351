"""The five reference predictors. Each turns one unified row into one predictions record.

Coordinates: boxes are COCO ``[x, y, w, h]`` in absolute pixels of the original image; masks are COCO
RLE at the row's ``[height, width]``. Every record carries ``instances``, ``mask``, ``no_target`` and
``no_target_score``, so it scores on every task (REC, RES, GREC, GRES, Ref-ZOM, R-RefCOCO).

| name | reads the sentence? | reads the answer? | prediction | ``no_target`` |
|---|---|---|---|---|
| ``empty`` | no | no | no instance, empty mask | always true |
| ``full-image`` | no | no | box ``[0, 0, w, h]``, full mask, score 1 | always false |
| ``center-box`` | no | no | centred box of half the image sides, its mask, score 1 | always false |
| ``largest-object`` | no | no | the image's largest annotation (`AnnotationPool`), score 1 | true only when the pool knows no annotation of the image |
| ``oracle-jitter`` | no | yes | every target box jittered and its mask shifted, score 1 | the ground truth |

``center-box``: the pixel rectangle of columns ``[w//4, w//4 + max(w//2, 1))`` and rows
``[h//4, h//4 + max(h//2, 1))``; the box is exactly that rectangle.

``oracle-jitter`` (a sanity upper bound, not a model): for each target, with ``j = jitter`` (default
0.1) and a generator seeded by ``(seed, crc32(expr_id))`` (independent of row order): the centre moves
by ``(round(u1*j*w), round(u2*j*h))`` pixels and the sides are scaled by ``1 + u3*j`` and ``1 + u4*j``,
``u* ~ Uniform[-1, 1]``, then the box is clipped to the image; the target's mask is shifted by the same
whole-pixel offset (not scaled). Crowd targets are predicted too (GREC counts them); the expression
mask is the union of the shifted non-crowd masks.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any

import numpy as np

from baselines.annotation_pool import AnnotationPool
from baselines.masks import rect_mask, shift_mask
from evaluators import rle
from evaluators.errors import InputError

__all__ = [
    "BASELINES",
    "TEXT_BLIND",
    "Baseline",
    "CenterBox",
    "Empty",
    "FullImage",
    "LargestObject",
    "OracleJitter",
    "get_baseline",
]

Record = dict[str, Any]


@lru_cache(maxsize=256)
def _rect(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> tuple[int, int, str]:
    m = rect_mask(height, width, x0, y0, x1, y1)
    return height, width, m["counts"]


def _rect_rle(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> rle.RLE:
    h, w, counts = _rect(height, width, x0, y0, x1, y1)
    return {"size": [h, w], "counts": counts}


def _size(row: dict[str, Any]) -> tuple[int, int]:
    return int(row["height"]), int(row["width"])


def _record(expr_id: str, instances: list[Record], mask: rle.RLE, no_target: bool) -> Record:
    return {
        "expr_id": expr_id,
        "instances": instances,
        "mask": mask,
        "no_target": no_target,
        "no_target_score": 1.0 if no_target else 0.0,
    }


class Baseline(ABC):
    """A reference predictor: ``predict(row) -> record``; ``columns`` are the row fields it reads."""

    name = "baseline"
    text_blind = True
    columns: tuple[str, ...] = ("expr_id", "height", "width")

    @abstractmethod
    def predict(self, row: dict[str, Any]) -> Record:
        """One unified row -> one predictions record (docs/formats.md#predictions-file)."""


class Empty(Baseline):
    name = "empty"

    def predict(self, row: dict[str, Any]) -> Record:
        h, w = _size(row)
        return _record(row["expr_id"], [], _rect_rle(h, w, 0, 0, 0, 0), True)


class FullImage(Baseline):
    name = "full-image"

    def predict(self, row: dict[str, Any]) -> Record:
        h, w = _size(row)
        mask = _rect_rle(h, w, 0, 0, w, h)
        inst = {"bbox": [0.0, 0.0, float(w), float(h)], "score": 1.0, "segmentation": mask}
        return _record(row["expr_id"], [inst], mask, False)


class CenterBox(Baseline):
    name = "center-box"

    def predict(self, row: dict[str, Any]) -> Record:
        h, w = _size(row)
        x0, y0 = w // 4, h // 4
        x1, y1 = x0 + max(w // 2, 1), y0 + max(h // 2, 1)
        mask = _rect_rle(h, w, x0, y0, x1, y1)
        box = [float(x0), float(y0), float(min(x1, w) - x0), float(min(y1, h) - y0)]
        return _record(row["expr_id"], [{"bbox": box, "score": 1.0, "segmentation": mask}], mask, False)


class LargestObject(Baseline):
    """Text-blind: the largest annotation of the image (see `AnnotationPool`)."""

    name = "largest-object"
    columns = ("expr_id", "height", "width", "image_id", "file_name")

    def __init__(self, pool: AnnotationPool):
        self.pool = pool

    def predict(self, row: dict[str, Any]) -> Record:
        h, w = _size(row)
        ann = self.pool.pick(row)
        if ann is None:
            return _record(row["expr_id"], [], _rect_rle(h, w, 0, 0, 0, 0), True)
        inst = {"bbox": list(ann["bbox"]), "score": 1.0, "segmentation": ann["mask"]}
        return _record(row["expr_id"], [inst], ann["mask"], False)


class OracleJitter(Baseline):
    """Ground truth perturbed (reads the answer): a sanity upper bound for the metrics."""

    name = "oracle-jitter"
    text_blind = False
    columns = ("expr_id", "height", "width", "no_target", "targets")

    def __init__(self, jitter: float = 0.1, seed: int = 0):
        if not 0.0 <= jitter < 1.0:
            raise InputError(f"oracle-jitter: --jitter must be in [0, 1), got {jitter}")
        self.jitter = float(jitter)
        self.seed = int(seed)

    def predict(self, row: dict[str, Any]) -> Record:
        h, w = _size(row)
        expr_id = row["expr_id"]
        if row["no_target"] or not row["targets"]:
            return _record(expr_id, [], _rect_rle(h, w, 0, 0, 0, 0), True)
        rng = np.random.default_rng([self.seed, zlib.crc32(expr_id.encode("utf-8"))])
        merged = np.zeros((h, w), np.uint8)
        instances = []
        for t in row["targets"]:
            x, y, bw, bh = (float(v) for v in t["bbox"])
            u = rng.uniform(-1.0, 1.0, size=4)
            # u is a numpy array: round() of its items can stay a numpy float, int() makes a Python int.
            dx, dy = int(round(u[0] * self.jitter * bw)), int(round(u[1] * self.jitter * bh))  # noqa: RUF046
            nw, nh = bw * (1 + u[2] * self.jitter), bh * (1 + u[3] * self.jitter)
            cx, cy = x + bw / 2 + dx, y + bh / 2 + dy
            x0, y0 = min(max(cx - nw / 2, 0.0), w), min(max(cy - nh / 2, 0.0), h)
            x1, y1 = min(max(cx + nw / 2, 0.0), w), min(max(cy + nh / 2, 0.0), h)
            shifted = shift_mask(rle.decode(t["mask"]), dx, dy)
            if not t["iscrowd"]:
                merged |= shifted
            box = [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)]
            instances.append({"bbox": box, "score": 1.0, "segmentation": rle.encode(shifted)})
        return _record(expr_id, instances, rle.encode(merged), False)


BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (Empty, FullImage, CenterBox, LargestObject, OracleJitter)
}
TEXT_BLIND = tuple(name for name, cls in BASELINES.items() if cls.text_blind)


def get_baseline(name: str) -> type[Baseline]:
    """The baseline class called ``name``; `InputError` with a "did you mean" hint otherwise."""
    if name not in BASELINES:
        import difflib

        close = difflib.get_close_matches(name, BASELINES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown baseline {name!r}{hint} (known: {', '.join(BASELINES)})")
    return BASELINES[name]
