"""COCO ``instances.json``: an index of images, annotations and categories, and annotation masks.

Boxes are COCO ``[x, y, w, h]`` in absolute pixels. Masks are COCO compressed RLE
``{"size": [height, width], "counts": str}`` (column-major, as pycocotools writes them):

- a polygon list (one or several parts) is rasterised with ``frPyObjects`` and the parts are OR-ed
  with ``merge`` (pycocotools ``annToRLE``);
- an uncompressed RLE (``counts`` a list of run lengths, used for crowd regions) is compressed;
- a compressed RLE (``counts`` a string) is kept as is after checking its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators import rle
from evaluators.errors import InputError
from evaluators.jsonio import read_json_file
from evaluators.limits import MAX_IMAGE_SIDE

__all__ = [
    "CocoIndex",
    "ImageInfo",
    "annotation_mask",
    "image_folder",
    "index_instances",
    "load_instances",
    "relative_file_name",
]


@dataclass(frozen=True)
class ImageInfo:
    """One ``images`` entry: ``file_name`` is relative to ``images/`` (``train2014/COCO_...jpg``)."""

    image_id: int
    file_name: str
    height: int
    width: int


@dataclass
class CocoIndex:
    """``instances.json`` indexed by id. ``anns`` values are the raw annotation dicts."""

    path: Path
    images: dict[int, ImageInfo] = field(default_factory=dict)
    anns: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)

    def image(self, image_id: int, where: str) -> ImageInfo:
        try:
            return self.images[int(image_id)]
        except KeyError:
            raise InputError(f"{where}: image_id: {image_id} is not in {self.path}") from None

    def ann(self, ann_id: int, where: str) -> dict[str, Any]:
        try:
            return self.anns[int(ann_id)]
        except KeyError:
            raise InputError(f"{where}: ann_id: {ann_id} is not in {self.path}") from None


def image_folder(file_name: str) -> str:
    """``train2014`` or ``val2014`` from a COCO file name's ``COCO_<folder>_`` prefix (else '')."""
    name = Path(file_name).name
    if name.startswith("COCO_"):
        parts = name.split("_")
        if len(parts) >= 3:
            return parts[1]
    return ""


def relative_file_name(file_name: str) -> str:
    """``{folder}/{basename}`` (``train2014/COCO_train2014_...jpg``) from any COCO file name or path, the folder
    from its prefix; a name that could leave the images folder (``..``, ``/``, a NUL,
    a backslash) raises ValueError."""
    folder = image_folder(file_name)
    name = Path(file_name).name
    for part in (folder, name):
        if part in (".", "..") or "\\" in part or "\x00" in part:
            raise ValueError(f"file_name {file_name!r} is not a plain image file name")
    if not name:
        raise ValueError(f"file_name {file_name!r} is not a plain image file name")
    return f"{folder}/{name}" if folder else name


def _strict_int(value: Any, key: str) -> int:
    """An integer field: an int or an integral finite float, never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key}: expected an integer, got {type(value).__name__}")
    if isinstance(value, float) and not (math.isfinite(value) and value == int(value)):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    return int(value)


def _side(value: Any, key: str) -> int:
    side = _strict_int(value, key)
    if not 1 <= side <= MAX_IMAGE_SIDE:
        raise ValueError(f"{key}: must be in [1, {MAX_IMAGE_SIDE}], got {side}")
    return side


def check_polygons(segm: list, where: str) -> None:
    """A COCO polygon list: a list of parts, each a flat list of finite numbers (x, y pairs)."""
    for j, part in enumerate(segm):
        if not isinstance(part, list) or len(part) % 2:
            raise InputError(f"{where}: segmentation[{j}]: expected a flat list of x, y numbers")
        for v in part:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(f"{where}: segmentation[{j}]: coordinates must be finite numbers")


def load_instances(path: str | Path) -> CocoIndex:
    """Read and index a COCO ``instances.json``; `InputError` naming the file on anything malformed."""
    path = Path(path)
    return index_instances(read_json_file(path), path)


def index_instances(data: Any, path: str | Path) -> CocoIndex:
    """Index an already-parsed COCO instances object; ``path`` names it in errors."""
    path = Path(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise InputError(f"{path}: images: expected a COCO instances object with an 'images' list")
    index = CocoIndex(path=path)
    for i, img in enumerate(data["images"]):
        try:
            if not isinstance(img, dict) or not isinstance(img.get("file_name"), str):
                raise ValueError("file_name: expected a string")
            info = ImageInfo(
                _strict_int(img.get("id"), "id"),
                relative_file_name(img["file_name"]),
                _side(img.get("height"), "height"),
                _side(img.get("width"), "width"),
            )
        except ValueError as exc:
            raise InputError(f"{path}:images[{i}]: {exc} (expected id, file_name, height, width)") from None
        index.images[info.image_id] = info
    anns, cats = data.get("annotations") or [], data.get("categories") or []
    if not isinstance(anns, list) or not isinstance(cats, list):
        raise InputError(f"{path}: annotations/categories: expected lists")
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise InputError(f"{path}:annotations[{i}]: expected an object")
        for key in ("id", "image_id", "category_id", "bbox", "segmentation"):
            if key not in ann:
                raise InputError(f"{path}:annotations[{i}]: {key}: missing")
        try:
            for key in ("id", "image_id", "category_id"):
                ann[key] = _strict_int(ann[key], key)
        except ValueError as exc:
            raise InputError(f"{path}:annotations[{i}]: {exc}") from None
        index.anns[ann["id"]] = ann
    for i, cat in enumerate(cats):
        try:
            cat_id = _strict_int(cat.get("id") if isinstance(cat, dict) else None, "id")
        except ValueError as exc:
            raise InputError(f"{path}:categories[{i}]: {exc}") from None
        index.categories[cat_id] = str(cat.get("name", cat_id))
    return index


def annotation_mask(ann: dict[str, Any], height: int, width: int, where: str = "annotation") -> rle.RLE:
    """The annotation's mask as compressed RLE of size ``(height, width)`` (the image size).

    Polygons with several parts are OR-ed (never summed); uncompressed RLE is compressed; a
    compressed RLE must already have the image size. Raises `InputError` naming ``where``.
    """
    segm = ann.get("segmentation")
    if isinstance(segm, list):
        check_polygons(segm, where)
        try:
            return rle.from_polygons(segm, height, width)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: segmentation: bad polygon: {exc}") from None
    if isinstance(segm, dict):
        try:
            out = rle.normalize(segm)
        except ValueError as exc:
            raise InputError(f"{where}: segmentation: {exc}") from None
        if out["size"] != [height, width]:
            raise InputError(
                f"{where}: segmentation: RLE size {out['size']} differs from the image size {[height, width]}"
            )
        return out
    raise InputError(f"{where}: segmentation: expected a polygon list or an RLE object")
