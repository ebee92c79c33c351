"""The unified row (docs/formats.md#the-unified-row) as `datasets.Features` and the matching Arrow schema.

Fixed columns, in order: expr_id, dataset, config, split, image_id, file_name, height, width, ref_id,
sent_id, sentence, raw, no_target, target_type, targets, mask. Extra columns: ``tokens`` (the
source's tokens), ``category_names`` (one per target, in target order), ``target_type_label`` (a
`datasets.ClassLabel` none / single / multi, the same information as ``target_type``),
``category_labels`` (one `ClassLabel` per target whose index is the COCO category id: COCO's table,
or the synthetic shapes for a synthetic build) and ``image`` (the `datasets.Image` struct
``{bytes, path}``): with ``--embed-images`` the bytes (path = ``file_name``); otherwise, when an images
root exists at build time, no bytes and path = ``{images root}/{file_name}``, so ``load_dataset`` opens
the picture directly.

RLE: ``{size: [h, w] int32, counts: str}``; ``bbox``: COCO ``[x, y, w, h]``, a fixed-length list of
4 float64, absolute pixels.
"""

from __future__ import annotations

import datasets
import pyarrow as pa

__all__ = ["FIXED_COLUMNS", "TARGET_TYPES", "arrow_schema", "category_label_names", "features"]

TARGET_TYPES = ("none", "single", "multi")

FIXED_COLUMNS = (
    "expr_id",
    "dataset",
    "config",
    "split",
    "image_id",
    "file_name",
    "height",
    "width",
    "ref_id",
    "sent_id",
    "sentence",
    "raw",
    "no_target",
    "target_type",
    "targets",
    "mask",
)


def _rle() -> dict:
    return {"size": datasets.List(datasets.Value("int32")), "counts": datasets.Value("string")}


def category_label_names(synthetic: bool = False) -> list[str]:
    """ClassLabel names indexed by category id: COCO's (``id_N`` at unused ids) or the synthetic shapes."""
    if synthetic:
        from datasets_builders.synth_scene import CATEGORIES

        table = {c["id"]: c["name"] for c in CATEGORIES}
    else:
        from datasets_builders.coco_categories import COCO_CATEGORIES as table
    return [table.get(i, f"id_{i}") for i in range(max(table) + 1)]


def features(
    embed_images: bool = False, synthetic: bool = False, image_paths: bool = False
) -> datasets.Features:
    """The `datasets.Features` of a built config (``datasets.List`` for lists, never ``Sequence``);
    ``synthetic`` picks the synthetic category table for ``category_labels``; ``image_paths`` adds the
    ``image`` column without bytes (its path points into the images root) when not embedding."""
    v = datasets.Value
    cols = {
        "expr_id": v("string"),
        "dataset": v("string"),
        "config": v("string"),
        "split": v("string"),
        "image_id": v("int64"),
        "file_name": v("string"),
        "height": v("int32"),
        "width": v("int32"),
        "ref_id": v("int64"),
        "sent_id": v("int64"),
        "sentence": v("string"),
        "raw": v("string"),
        "no_target": v("bool"),
        "target_type": v("string"),
        "targets": datasets.List(
            {
                "ann_id": v("int64"),
                "category_id": v("int32"),
                "iscrowd": v("bool"),
                "bbox": datasets.List(v("float64"), length=4),
                "area": v("float64"),
                "mask": _rle(),
            }
        ),
        "mask": _rle(),
        "tokens": datasets.List(v("string")),
        "category_names": datasets.List(v("string")),
        "target_type_label": datasets.ClassLabel(names=list(TARGET_TYPES)),
        "category_labels": datasets.List(datasets.ClassLabel(names=category_label_names(synthetic))),
    }
    if embed_images or image_paths:
        cols["image"] = datasets.Image()
    return datasets.Features(cols)


def arrow_schema(embed_images: bool = False, synthetic: bool = False, image_paths: bool = False) -> pa.Schema:
    """The Parquet schema, derived from `features` (it carries the ``huggingface`` metadata)."""
    return features(embed_images, synthetic, image_paths).arrow_schema
