"""One answer -> one predictions record (docs/formats.md#predictions-file), or a parse failure with its reason.

- boxes: one instance per box, in answer order, COCO ``[x, y, w, h]`` pixels of the original image,
  ``score = 1 - k * 2**-20`` for the k-th box (the first box tops REC; the 0.7 rule of GREC keeps all);
  ``no_target: false``; Florence-2 polygons give ``segmentation`` and ``mask``; PNG masks (``seg``,
  ``ref-vlm`` with ``--masks``) give ``mask`` and, for ``seg``, the mask's box.
- an explicit no-target answer: ``instances: []``, ``no_target: true`` (mask families: an empty mask).
- a parse failure: ``instances: []``, ``no_target: false`` (mask families: an empty mask) and the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from baselines.adapters.text.answers import Answer
from baselines.adapters.text.conventions import Convention, ImageSize
from baselines.adapters.text.families import Family
from evaluators import rle
from evaluators.records import Prediction

__all__ = ["SCORE_STEP", "adapt_answer", "as_prediction"]

SCORE_STEP = 2.0**-20


def _xywh(b: tuple[float, ...]) -> list[float]:
    return [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]


def _polygon_mask(
    rings: list[list[float]], family: Family, conv: Convention, size: ImageSize
) -> tuple[rle.RLE, list[float]]:
    """Rings in family units -> (RLE at the image size, tight pixel box x1, y1, x2, y2)."""
    from pycocotools import mask as mask_utils

    ax, bx, ay, by = conv.scale(size)
    pixel_rings = []
    for ring in rings:
        r = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
        r = np.stack([ax * r[:, 0] + bx, ay * r[:, 1] + by], axis=1)
        pixel_rings.append(r.reshape(-1).tolist())
    encoded = mask_utils.merge(mask_utils.frPyObjects(pixel_rings, size.height, size.width))
    counts = encoded["counts"]
    mask = {
        "size": [size.height, size.width],
        "counts": counts.decode() if isinstance(counts, bytes) else counts,
    }
    allp = np.concatenate([np.asarray(r).reshape(-1, 2) for r in pixel_rings])
    box = [float(allp[:, 0].min()), float(allp[:, 1].min()), float(allp[:, 0].max()), float(allp[:, 1].max())]
    return mask, box


@dataclass
class _Outcome:
    record: dict[str, Any]
    failure: str | None = None
    units: list[tuple[float, ...]] = field(default_factory=list)
    no_target: bool = False


# C901: one linear pass over the answer's stages (parse, decoder boxes, pixel boxes, polygons, mask file),
# each an early-return failure with its own reason; splitting it would scatter the order of those checks.
def adapt_answer(  # noqa: C901
    family: Family,
    conv: Convention,
    answer: Answer,
    size: ImageSize,
    masks_dir: Path | None = None,
) -> _Outcome:
    """One answer -> its predictions record (or a parse failure with its reason)."""
    mask_family = family.masks != "none"
    record: dict[str, Any] = {"expr_id": answer.expr_id}

    def miss(reason: str) -> _Outcome:
        rec = {"expr_id": answer.expr_id, "instances": [], "no_target": False}
        if mask_family:
            rec["mask"] = rle.empty(size.height, size.width)
        return _Outcome(rec, failure=reason)

    parsed = family.parse(answer.text)
    if parsed.error:
        return miss(parsed.error)
    if parsed.no_target:
        record.update(instances=[], no_target=True)
        if mask_family:
            record["mask"] = rle.empty(size.height, size.width)
        return _Outcome(record, no_target=True)
    units = list(parsed.boxes)
    if family.name == "ref-vlm":
        if answer.boxes is None and masks_dir is None:
            return miss("ref-vlm answer without decoder boxes ('boxes') or a mask file (--masks)")
        if answer.boxes is not None:
            if len(answer.boxes) != parsed.refs:
                return miss(f"{parsed.refs} <REF> in the text but {len(answer.boxes)} decoder boxes")
            units = list(answer.boxes)
    instances: list[dict[str, Any]] = []
    ax, bx, ay, by = conv.scale(size)
    harness = family.name == "vlmevalkit"
    for k, unit in enumerate(units):
        box = (
            family.to_pixels(unit, size, conv)
            if harness
            else (ax * unit[0] + bx, ay * unit[1] + by, ax * unit[2] + bx, ay * unit[3] + by)
        )
        if not all(math.isfinite(v) for v in box):
            return miss(f"a coordinate is not a finite number: {list(unit)}")
        if box[2] < box[0] or box[3] < box[1]:
            return miss(f"inverted box {list(unit)} (x2 < x1 or y2 < y1)")
        instances.append({"bbox": _xywh(box), "score": 1.0 - k * SCORE_STEP})
    masks_union = None
    if parsed.polygons:
        polygon_masks = []
        for rings in parsed.polygons:
            mask, box = _polygon_mask(rings, family, conv, size)
            polygon_masks.append(mask)
            k = len(instances)
            instances.append({"bbox": _xywh(box), "score": 1.0 - k * SCORE_STEP, "segmentation": mask})
        masks_union = rle.union(polygon_masks, size.height, size.width)
    if family.masks == "png" and masks_dir is not None:
        from baselines.adapters.png_masks import png_name, read_png_mask
        from baselines.masks import bbox_of_mask

        path = masks_dir / png_name(answer.expr_id)
        if not path.is_file():
            return miss(f"no mask file {path.name}")
        dense = read_png_mask(path, (size.height, size.width))
        masks_union = rle.encode(dense)
        if family.name == "seg":
            xywh = bbox_of_mask(dense)
            instances = [] if xywh is None else [{"bbox": xywh, "score": 1.0, "segmentation": masks_union}]
    elif family.name == "seg":
        return miss("[SEG] answer needs its mask file (--masks)")
    if family.name == "seg" and not instances:
        record.update(instances=[], no_target=True, mask=masks_union)
        return _Outcome(record, no_target=True)
    record["instances"] = instances
    if masks_union is not None:
        record["mask"] = masks_union
    record["no_target"] = False
    return _Outcome(record, units=units if family.name != "seg" else [])


def as_prediction(record: dict[str, Any]) -> Prediction:
    """The evaluator's `Prediction` of a record this module built (valid by construction: finite boxes
    with w, h >= 0, scores in [0, 1], RLEs from `evaluators.rle`), without re-validating it."""
    instances = record.get("instances", [])
    return Prediction(
        expr_id=record["expr_id"],
        boxes=np.asarray([i["bbox"] for i in instances], dtype=np.float64).reshape(-1, 4),
        scores=np.asarray([i["score"] for i in instances], dtype=np.float64),
        segmentations=tuple(i.get("segmentation") for i in instances),
        has_instances="instances" in record,
        mask=record.get("mask"),
        no_target=record.get("no_target"),
        where=f"<adapted {record['expr_id']}>",
    )
