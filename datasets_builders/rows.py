"""Turn one normalised `Ref` plus the COCO index into unified rows (docs/formats.md#the-unified-row), one per sentence.

The targets of a ref are computed once and shared by its sentences: each target carries its instance
mask (RLE of the image size); the row ``mask`` is the union of the non-crowd target masks (crowd
targets stay in ``targets`` with ``iscrowd = true`` but are left out of ``mask`` and of
``target_type``). A no-target row (no-target ref, or an R-RefCOCO negative sentence) has no targets
and an all-zero mask of the image size.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from typing import Any

from datasets_builders.coco import CocoIndex, annotation_mask
from datasets_builders.configs import ConfigSpec
from datasets_builders.sources import Ref
from evaluators import rle
from evaluators.errors import InputError
from evaluators.records import check_bbox

__all__ = ["ref_rows", "target_type"]

_TYPE_INDEX = {"none": 0, "single": 1, "multi": 2}  # schema.TARGET_TYPES


def target_type(targets: list[dict[str, Any]]) -> str:
    """``none``, ``single`` or ``multi`` from the count of non-crowd targets."""
    n = sum(1 for t in targets if not t["iscrowd"])
    return "none" if n == 0 else "single" if n == 1 else "multi"


@functools.lru_cache(maxsize=256)
def _empty_counts(height: int, width: int) -> str:
    return rle.empty(height, width)["counts"]


def _empty(height: int, width: int) -> rle.RLE:
    """An all-zero RLE of the image size (its counts cached: images share a few sizes)."""
    return {"size": [height, width], "counts": _empty_counts(height, width)}


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _target(coco: CocoIndex, ann_id: int, image_id: int, height: int, width: int, where: str) -> dict:
    ann = coco.ann(ann_id, where)
    if int(ann["image_id"]) != image_id:
        raise InputError(f"{where}: ann_id: {ann_id} belongs to image {ann['image_id']}, not {image_id}")
    bbox = check_bbox(ann["bbox"], f"{coco.path}:annotation {ann_id}", "bbox")  # what eval accepts
    mask = annotation_mask(ann, height, width, f"{coco.path}:annotation {ann_id}")
    area = ann.get("area")
    if area is not None and not _finite(area):
        raise InputError(f"{coco.path}:annotation {ann_id}: area: expected a finite number")
    return {
        "ann_id": int(ann_id),
        "category_id": int(ann["category_id"]),
        "iscrowd": bool(ann.get("iscrowd", 0)),
        "bbox": list(bbox),
        "area": float(area) if area is not None else float(rle.area(mask)),
        "mask": mask,
    }


def ref_rows(
    ref: Ref,
    coco: CocoIndex,
    spec: ConfigSpec,
    where: str,
    config: str | None = None,
    expr_prefix: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Unified rows of one ref, in sentence order.

    ``config`` overrides the row's config name and ``expr_prefix`` the ``{config}/{split}`` prefix of
    ``expr_id`` (used by ``refmix_train``); by default both come from ``spec`` and the ref's split.
    """
    image = coco.image(ref.image_id, where)
    h, w = image.height, image.width
    targets = [_target(coco, a, ref.image_id, h, w, where) for a in ref.ann_ids]
    names = [coco.categories.get(t["category_id"], str(t["category_id"])) for t in targets]
    solid = [t["mask"] for t in targets if not t["iscrowd"]]
    merged = rle.union(solid, h, w) if solid else _empty(h, w)
    prefix = expr_prefix or f"{spec.name}/{ref.split}"
    for s in ref.sentences:
        no_target = ref.no_target or not s.exists
        row_targets = [] if no_target else targets
        yield {
            "expr_id": f"{prefix}/{s.sent_id}",
            "dataset": spec.dataset,
            "config": config or spec.name,
            "split": ref.split,
            "image_id": ref.image_id,
            "file_name": image.file_name,
            "height": h,
            "width": w,
            "ref_id": ref.ref_id,
            "sent_id": s.sent_id,
            "sentence": s.sent,
            "raw": s.raw,
            "no_target": no_target,
            "target_type": target_type(row_targets),
            "targets": row_targets,
            "mask": _empty(h, w) if no_target else merged,
            "tokens": list(s.tokens),
            "category_names": [] if no_target else names,
            "target_type_label": _TYPE_INDEX[target_type(row_targets)],
            "category_labels": [t["category_id"] if t["category_id"] >= 0 else -1 for t in row_targets],
        }
