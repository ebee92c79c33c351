"""The unified row (DATA.md section 3) as `datasets.Features` and the matching Arrow schema.

Fixed columns, in order: expr_id, dataset, config, split, image_id, file_name, height, width, ref_id,
sent_id, sentence, raw, no_target, target_type, targets, mask. Extra columns: ``tokens`` (the
source's tokens), ``category_names`` (one per target, in target order) and, with ``--embed-images``,
``image`` (the `datasets.Image` struct ``{bytes, path}``).

RLE: ``{size: [h, w] int32, counts: str}``; ``bbox``: COCO ``[x, y, w, h]`` float64 absolute pixels.
"""

from __future__ import annotations

import datasets
import pyarrow as pa

__all__ = ["FIXED_COLUMNS", "arrow_schema", "features"]

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


def features(embed_images: bool = False) -> datasets.Features:
    """The `datasets.Features` of a built config (``datasets.List`` for lists, never ``Sequence``)."""
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
                "bbox": datasets.List(v("float64")),
                "area": v("float64"),
                "mask": _rle(),
            }
        ),
        "mask": _rle(),
        "tokens": datasets.List(v("string")),
        "category_names": datasets.List(v("string")),
    }
    if embed_images:
        cols["image"] = datasets.Image()
    return datasets.Features(cols)


def arrow_schema(embed_images: bool = False) -> pa.Schema:
    """The Parquet schema, derived from `features` (it carries the ``huggingface`` metadata)."""
    return features(embed_images).arrow_schema
