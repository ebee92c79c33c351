"""Build a `CocoIndex` from sources that carry masks and boxes inline (InstanceVG, Hub copies).

Those sources have no ``instances.json``: each record holds its objects' boxes and masks. The
readers normalise them to `Ref` + a `CocoIndex` assembled here, so that `rows.ref_rows` makes the same
unified rows as for the official files. An annotation without an id gets a *derived* negative id
(-1, -2, ... in reading order), never a real COCO id; the card says so.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from datasets_builders.coco import CocoIndex, ImageInfo, relative_file_name
from datasets_builders.coco_categories import COCO_CATEGORIES
from evaluators.errors import InputError

__all__ = ["IndexBuilder", "clean_string", "float_value", "image_id_from_name", "shortest_float"]

_COCO_NAME = re.compile(r"COCO_(?:train|val)2014_0*(\d+)")


def clean_string(expression: str) -> str:
    """InstanceVG's text cleaning: lower case, drop ``.,'!?"()*#:;``, ``-`` and ``/`` become spaces."""
    return re.sub(r"([.,'!?\"()*#:;])", "", expression.lower()).replace("-", " ").replace("/", " ")


def shortest_float(value: float) -> float:
    """A float32 value read back as the shortest decimal that round-trips in float32.

    Parquet copies that store boxes and polygons as float32 lose the float64 value; the shortest
    decimal is what the original (``468.3``) was, whenever it had at most 7 significant digits.
    """
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def float_value(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: {name}: expected a finite number, got {value!r}")
    return float(value)


def image_id_from_name(file_name: str, where: str) -> int:
    """The COCO image id inside ``COCO_train2014_000000581857[_NN].jpg``."""
    m = _COCO_NAME.search(file_name)
    if m is None:
        raise InputError(f"{where}: file_name: no COCO image id in {file_name!r}")
    return int(m.group(1))


class IndexBuilder:
    """Accumulates images and annotations; `index` is the resulting `CocoIndex`."""

    def __init__(self, name: str) -> None:
        self.index = CocoIndex(path=Path(name))
        # these sources carry category ids only: names from COCO's table (0 = unknown category)
        self.index.categories = {**COCO_CATEGORIES, 0: "N/A"}
        self._next_derived = -1

    def image(self, image_id: int, file_name: str, height: Any, width: Any, where: str) -> None:
        """Record an image (``file_name`` any COCO name or path); a conflicting size is an error."""
        for key, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"{where}: {key}: expected a positive integer image size, got {value!r}")
        info = ImageInfo(int(image_id), relative_file_name(file_name), int(height), int(width))
        known = self.index.images.get(info.image_id)
        if known is None:
            self.index.images[info.image_id] = info
        elif (known.height, known.width) != (info.height, info.width):
            raise InputError(
                f"{where}: height/width: image {image_id} is {info.height}x{info.width} here but "
                f"{known.height}x{known.width} in an earlier record"
            )

    def ann(self, ann: dict[str, Any], where: str) -> int:
        """Add one annotation ``{image_id, bbox, segmentation, [id, category_id, iscrowd, area]}``;
        returns its id (the source's, or a derived negative one)."""
        bbox = ann.get("bbox")
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise InputError(f"{where}: bbox: expected [x, y, w, h], got {bbox!r}")
        if ann.get("segmentation") is None:
            raise InputError(f"{where}: segmentation: missing")
        ann_id = ann.get("id")
        if ann_id is None:
            ann_id = self._next_derived
            self._next_derived -= 1
        elif isinstance(ann_id, bool) or not isinstance(ann_id, int):
            raise InputError(f"{where}: id: expected an integer annotation id, got {ann_id!r}")
        category = ann.get("category_id") or 0
        if isinstance(category, bool) or not isinstance(category, (int, float)) or int(category) != category:
            raise InputError(f"{where}: category_id: expected an integer, got {category!r}")
        out = {
            "id": int(ann_id),
            "image_id": int(ann["image_id"]),
            "category_id": int(category),
            "iscrowd": int(bool(ann.get("iscrowd", 0))),
            "bbox": [float_value(v, where, "bbox") for v in bbox],
            "segmentation": ann["segmentation"],
        }
        if ann.get("area") is not None:
            out["area"] = float_value(ann["area"], where, "area")
        self.index.anns.setdefault(out["id"], out)
        return out["id"]
