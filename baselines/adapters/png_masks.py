"""Adapter: a folder of per-expression PNG masks -> a predictions file.

Layout: one PNG per expression, named after its ``expr_id`` with every ``/`` replaced by ``__``
(``grefcoco_unc/val/1234`` -> ``grefcoco_unc__val__1234.png``), either flat in the folder or, as a
fallback, nested as ``grefcoco_unc/val/1234.png``. The PNG must have the original image size.
Foreground: a nonzero pixel of a one-channel image (mode ``1``, ``L``, ``P`` palette index, ``I``),
or any nonzero R, G or B of a colour image (alpha is ignored).

Each record gets ``mask`` (the PNG) and ``no_target`` (true iff the mask is empty). With
``instances="bbox"`` (default) it also gets one instance, the tight box of the foreground with score
1.0 and the mask as its segmentation, so that box tasks score too (several objects become one box:
this adapter cannot separate instances). With ``instances="none"`` the record has no ``instances``
and scores only on the mask tasks.

An expression without a PNG is an error unless ``allow_missing`` (then it is written as an empty,
no-target prediction and counted in the log); a PNG for this config/split that matches no
expression is an error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from baselines.adapters.common import expressions
from baselines.masks import bbox_of_mask
from evaluators import rle
from evaluators.errors import InputError
from evaluators.predictions_writer import write_predictions
from evaluators.progress import progress

__all__ = ["convert_png_masks", "png_name", "read_png_mask"]

log = logging.getLogger(__name__)


def png_name(expr_id: str) -> str:
    """The flat file name of an expression's mask: ``/`` -> ``__``, plus ``.png``."""
    return expr_id.replace("/", "__") + ".png"


def read_png_mask(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """Dense ``(H, W)`` uint8 0/1 mask of a PNG; `InputError` if unreadable or not of ``size``."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            arr = np.asarray(im)
    except OSError as exc:
        raise InputError(f"{path}: cannot read PNG: {exc}") from None
    if arr.ndim == 3:  # LA keeps L; RGB(A) keeps R, G, B: alpha never counts
        arr = arr[..., : 1 if arr.shape[2] == 2 else 3].any(axis=2)
    if arr.shape != tuple(size):
        raise InputError(f"{path}: mask is {arr.shape[0]}x{arr.shape[1]} (HxW), expected {size[0]}x{size[1]}")
    return (arr != 0).astype(np.uint8)


def _find(folder: Path, expr_id: str) -> Path | None:
    for path in (folder / png_name(expr_id), folder / (expr_id + ".png")):
        if path.is_file():
            return path
    return None


def _record(expr_id: str, dense: np.ndarray | None, size: tuple[int, int], instances: str) -> dict[str, Any]:
    mask = rle.empty(*size) if dense is None else rle.encode(dense)
    box = None if dense is None else bbox_of_mask(dense)
    record: dict[str, Any] = {"expr_id": expr_id}
    if instances == "bbox":
        record["instances"] = [] if box is None else [{"bbox": box, "score": 1.0, "segmentation": mask}]
    record["mask"] = mask
    record["no_target"] = box is None
    return record


def convert_png_masks(
    folder: str | Path,
    data_dir: str | Path,
    config: str,
    split: str,
    out: str | Path,
    *,
    instances: str = "bbox",
    allow_missing: bool = False,
    quiet: bool = False,
) -> int:
    """Write the predictions file of a PNG mask folder for ``config``/``split``; returns the count."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: PNG mask folder not found")
    if instances not in ("bbox", "none"):
        raise InputError(f"--instances must be 'bbox' or 'none', got {instances!r}")
    exprs = expressions(data_dir, config, split)
    found = {e.expr_id: _find(folder, e.expr_id) for e in exprs}
    missing = [i for i, p in found.items() if p is None]
    if missing and not allow_missing:
        raise InputError(
            f"{folder}: {len(missing)} of {len(exprs)} expressions have no PNG (e.g. {png_name(missing[0])}); "
            "pass --allow-missing to write them as empty predictions"
        )
    used = {p.resolve() for p in found.values() if p is not None}
    flat = folder.glob(png_name(f"{config}/{split}/*"))
    nested = (folder / config / split).glob("*.png")
    unknown = sorted(p for p in [*flat, *nested] if p.resolve() not in used)
    if unknown:
        raise InputError(
            f"{unknown[0]}: field='expr_id': no expression of {config}/{split} has this file name "
            f"({len(unknown)} unmatched PNG file(s) in all)"
        )

    def records():
        for e in progress(exprs, len(exprs), f"png-masks {config}/{split}", quiet=quiet, unit="expr"):
            path = found[e.expr_id]
            dense = None if path is None else read_png_mask(path, e.size)
            yield _record(e.expr_id, dense, e.size, instances)

    n = write_predictions(out, records())
    if missing:
        log.warning(
            "png-masks: %d expressions had no PNG and were written as empty predictions", len(missing)
        )
    log.info("png-masks: wrote %d predictions to %s", n, out)
    return n
