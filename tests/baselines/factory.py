"""A tiny built dataset (docs/formats.md#the-unified-row and #the-built-dataset) written with pyarrow, for the baselines tests.

Each image holds a few rectangles (one annotation each); expressions refer to none, one or several of
them. Masks are filled rectangles, so expected boxes and masks are easy to state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evaluators import rle
from tests.evaluators.factory import box_mask

RLE_TYPE = pa.struct([("size", pa.list_(pa.int32())), ("counts", pa.string())])
TARGET_TYPE = pa.struct(
    [
        ("ann_id", pa.int64()),
        ("category_id", pa.int32()),
        ("iscrowd", pa.bool_()),
        ("bbox", pa.list_(pa.float64())),
        ("area", pa.float64()),
        ("mask", RLE_TYPE),
    ]
)
SCHEMA = pa.schema(
    [
        ("expr_id", pa.string()),
        ("dataset", pa.string()),
        ("config", pa.string()),
        ("split", pa.string()),
        ("image_id", pa.int64()),
        ("file_name", pa.string()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("ref_id", pa.int64()),
        ("sent_id", pa.int64()),
        ("sentence", pa.string()),
        ("raw", pa.string()),
        ("no_target", pa.bool_()),
        ("target_type", pa.string()),
        ("targets", pa.list_(TARGET_TYPE)),
        ("mask", RLE_TYPE),
    ]
)

# image_id -> (height, width, {ann_id: (x, y, w, h, iscrowd)})
IMAGES: dict[int, tuple[int, int, dict[int, tuple[int, int, int, int, bool]]]] = {
    1: (24, 32, {11: (2, 2, 6, 5, False), 12: (14, 8, 12, 10, False), 13: (0, 18, 8, 6, True)}),
    2: (30, 20, {21: (4, 4, 10, 12, False), 22: (12, 20, 6, 8, False)}),
}


def make_row(
    config: str, split: str, sent_id: int, image_id: int, ann_ids: list[int], ref_id: int
) -> dict[str, Any]:
    h, w, anns = IMAGES[image_id]
    targets, merged = [], np.zeros((h, w), np.uint8)
    for a in ann_ids:
        x, y, bw, bh, crowd = anns[a]
        m = box_mask(h, w, (x, y, bw, bh))
        if not crowd:
            merged |= m
        targets.append(
            {
                "ann_id": a,
                "category_id": 1,
                "iscrowd": crowd,
                "bbox": [float(x), float(y), float(bw), float(bh)],
                "area": float(bw * bh),
                "mask": rle.encode(m),
            }
        )
    plain = sum(not anns[a][4] for a in ann_ids)
    return {
        "expr_id": f"{config}/{split}/{sent_id}",
        "dataset": config.rsplit("_", 1)[0],
        "config": config,
        "split": split,
        "image_id": image_id,
        "file_name": f"train2014/COCO_train2014_{image_id:012d}.jpg",
        "height": h,
        "width": w,
        "ref_id": ref_id,
        "sent_id": sent_id,
        "sentence": f"expression {sent_id}",
        "raw": f"Expression {sent_id}",
        "no_target": not ann_ids,
        "target_type": "none" if plain == 0 else "single" if plain == 1 else "multi",
        "targets": targets,
        "mask": rle.encode(merged),
    }


# (config, split) -> [(sent_id, image_id, ann_ids, ref_id)]
LAYOUT = {
    ("grefcoco_unc", "val"): [
        (1, 1, [11], 1),
        (2, 1, [11, 12], 2),
        (3, 1, [], 3),
        (4, 2, [21, 22], 4),
        (5, 1, [12, 13], 5),
        (6, 2, [], 6),
    ],
    ("refcoco_unc", "val"): [(7, 1, [12], 7), (8, 2, [21], 8), (9, 2, [22], 9)],
    ("rrefcoco_unc", "val"): [(10, 1, [11], 10), (11, 1, [], 10), (12, 2, [21], 11), (13, 2, [], 11)],
    ("refzom_final", "test"): [(14, 1, [11, 12], 12), (15, 2, [], 13)],
}


def write_dataset(root: Path, layout=None) -> Path:
    """Write ``root/data/{config}/{split}-00000-of-00001.parquet`` for ``layout``; returns ``root``."""
    for (config, split), specs in (layout or LAYOUT).items():
        rows = [make_row(config, split, *spec) for spec in specs]
        folder = root / "data" / config
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), folder / f"{split}-00000-of-00001.parquet")
    return root


def rows_of(config: str, split: str) -> list[dict[str, Any]]:
    return [make_row(config, split, *spec) for spec in LAYOUT[(config, split)]]
