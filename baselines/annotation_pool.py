"""The per-image annotation pool of the text-blind ``largest-object`` baseline.

For each image the pool keeps the single annotation a text-blind model would pick: the largest
non-crowd annotation by COCO ``area`` (a crowd one only when the image has nothing else), ties going
to the smaller ``ann_id``. Two sources, in order of preference:

- ``from_source(SOURCE, config)``: every annotation of the image in the source folder's
  ``instances.json`` of that config's dataset (docs/formats.md#source-files). This is what a detector run on the
  image could know; it uses no expression at all.
- ``from_dataset(OUT)``: without the source, the union of the ``targets`` of every row of every config
  and split of the built dataset that shows the same image (same ``file_name`` and ``image_id``). Only
  annotations that some expression refers to are candidates, so on an image whose objects are all
  referred to this equals the source pool; it never looks at which expression is being answered.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

from baselines.rows import iter_rows, list_configs
from evaluators import rle
from evaluators.errors import InputError

__all__ = ["SOURCE_FOLDERS", "AnnotationPool"]

log = logging.getLogger(__name__)

# dataset name (the config's prefix) -> its folder in a source directory (docs/formats.md#source-files)
SOURCE_FOLDERS = {
    "refcoco": "refcoco",
    "refcocoplus": "refcoco+",
    "refcocog": "refcocog",
    "grefcoco": "grefcoco",
    "refzom": "ref-zom",
    "rrefcoco": "rrefcoco",
    "rrefcocoplus": "rrefcoco+",
    "rrefcocog": "rrefcocog",
}


def _rank(ann: dict[str, Any]) -> tuple:
    """Sort key: non-crowd first, then larger area, then smaller ann_id."""
    return (not ann["iscrowd"], float(ann["area"]), -int(ann["ann_id"]))


class AnnotationPool:
    """Image key -> the chosen annotation ``{ann_id, bbox [x,y,w,h], area, iscrowd, mask RLE}``.

    Keys are ``image_id`` (source pool) or ``(file_name, image_id)`` (dataset pool); `pick(row)` looks
    a row up either way and checks the mask size against the row's ``[height, width]``.
    """

    def __init__(self, best: dict[Any, dict[str, Any]], keyed_by: str, origin: str):
        self.best = best
        self.keyed_by = keyed_by
        self.origin = origin

    def __len__(self) -> int:
        return len(self.best)

    def _key(self, row: dict[str, Any]) -> Any:
        if self.keyed_by == "image_id":
            return int(row["image_id"])
        return (row["file_name"], int(row["image_id"]))

    def pick(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """The annotation for ``row``'s image, or None when the pool knows none."""
        ann = self.best.get(self._key(row))
        if ann is None:
            return None
        if callable(ann["mask"]):  # source pool: rasterise lazily, once per image
            ann["mask"] = ann["mask"]()
        size = [int(row["height"]), int(row["width"])]
        if list(ann["mask"]["size"]) != size:
            raise InputError(
                f"{self.origin}: image_id={row['image_id']} ann_id={ann['ann_id']} field='segmentation': "
                f"mask size {ann['mask']['size']} != row {row['expr_id']!r} [height, width] {size}"
            )
        return ann

    @classmethod
    def from_dataset(cls, data_dir: str | Path) -> AnnotationPool:
        """Union of the targets of every row of every config and split of a built dataset; read once per
        build (cached on the folder and its build manifest's modification time)."""
        path = Path(data_dir).resolve()
        manifest = path / "vgbench_build.json"
        stamp = manifest.stat().st_mtime_ns if manifest.is_file() else None
        return _dataset_pool(str(path), stamp, str(data_dir))

    @classmethod
    def _read_dataset(cls, data_dir: str | Path) -> AnnotationPool:
        best: dict[Any, dict[str, Any]] = {}
        columns = ["file_name", "image_id", "targets"]
        for config, splits in list_configs(data_dir).items():
            for split in splits:
                for row in iter_rows(data_dir, config, split, columns=columns):
                    key = (row["file_name"], int(row["image_id"]))
                    for t in row["targets"] or ():
                        cand = {
                            "ann_id": int(t["ann_id"]),
                            "bbox": [float(v) for v in t["bbox"]],
                            "area": float(t["area"]),
                            "iscrowd": bool(t["iscrowd"]),
                            "mask": t["mask"],
                        }
                        if key not in best or _rank(cand) > _rank(best[key]):
                            best[key] = cand
        log.info("largest-object: %d images in the pool from the targets of %s", len(best), data_dir)
        return cls(best, "file_name+image_id", str(data_dir))

    @classmethod
    def from_source(cls, source_dir: str | Path, config: str) -> AnnotationPool:
        """Every annotation of ``SOURCE/<dataset folder>/instances.json`` for ``config``."""
        dataset = config.rsplit("_", 1)[0]
        if dataset not in SOURCE_FOLDERS:
            raise InputError(
                f"config {config!r}: unknown dataset {dataset!r} (known: {', '.join(SOURCE_FOLDERS)})"
            )
        path = Path(source_dir) / SOURCE_FOLDERS[dataset] / "instances.json"
        try:
            with open(path, encoding="utf-8") as f:
                coco = json.load(f)
        except FileNotFoundError:
            raise InputError(
                f"{path}: not found (--source must be the source folder of docs/formats.md#source-files)"
            ) from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read JSON: {exc}") from None
        try:
            sizes = {int(im["id"]): (int(im["height"]), int(im["width"])) for im in coco["images"]}
            anns = coco["annotations"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: field='images'/'annotations': not COCO instances ({exc})") from None
        best: dict[Any, dict[str, Any]] = {}
        for index, a in enumerate(anns):
            try:
                image_id = int(a["image_id"])
                cand = {
                    "ann_id": int(a["id"]),
                    "bbox": [float(v) for v in a["bbox"]],
                    "area": float(a["area"]),
                    "iscrowd": bool(a.get("iscrowd", 0)),
                    "segmentation": a["segmentation"],
                }
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path}:annotations[{index}]: missing or bad field {exc}") from None
            if image_id not in sizes:
                raise InputError(
                    f"{path}:annotations[{index}] field='image_id': {image_id} is not in 'images'"
                )
            if image_id not in best or _rank(cand) > _rank(best[image_id]):
                best[image_id] = cand
        for image_id, ann in best.items():
            ann["mask"] = _rasteriser(
                ann.pop("segmentation"), *sizes[image_id], f"{path}:ann_id={ann['ann_id']}"
            )
        log.info("largest-object: %d images in the pool from %s", len(best), path)
        return cls(best, "image_id", str(path))


def _rasteriser(segmentation: Any, height: int, width: int, where: str):
    """A closure turning a COCO segmentation (polygons or RLE) into compressed RLE when called."""

    def run() -> rle.RLE:
        if isinstance(segmentation, list):
            return rle.from_polygons(segmentation, height, width)
        try:
            return rle.normalize(segmentation)
        except ValueError as exc:
            raise InputError(f"{where} field='segmentation': {exc}") from None

    return run


@functools.lru_cache(maxsize=4)
def _dataset_pool(resolved: str, stamp: int | None, shown: str) -> AnnotationPool:
    """`AnnotationPool.from_dataset`'s cache: a demo runs largest-object on four splits of one build."""
    del resolved, stamp  # the cache key only
    return AnnotationPool._read_dataset(shown)
