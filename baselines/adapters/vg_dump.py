"""Adapter: SimVG / InstanceVG-style per-sample dumps -> a predictions file.

The official test loops (``apis/test.py`` of Dmmm1997/SimVG and InstanceVG) hold, per expression, the
post-processed outputs of the model: boxes ``xyxy`` rescaled to the original image, their scores
(InstanceVG: softmax object score x sigmoid existence), instance masks (sigmoid >= 0.5), the global
U-Net mask, and InstanceVG's prior points. A "VG dump" is that, saved one entry per expression:

| key | required | shape / type | meaning |
|---|---|---|---|
| ``expr_id`` or ``sent_id`` | yes | str / int | the row's ``expr_id``, or its ``sent_id`` (then ``expr_id = "{config}/{split}/{sent_id}"``) |
| ``pred_bboxes`` | yes | ``[N, 4]`` float | ``x1, y1, x2, y2`` absolute pixels of the original image (N may be 0) |
| ``pred_scores`` | yes | ``[N]`` float in [0, 1] | the query scores |
| ``pred_masks`` | no | ``[N, H, W]`` binary, or N RLEs | instance masks at the original size |
| ``pred_global_mask`` | no | ``[H, W]`` binary, or an RLE | the global (U-Net) mask at the original size |
| ``pred_points`` | no | ``[K, 2]`` float | prior points ``(x, y)`` in original pixels |

Containers: ``.jsonl`` (one entry per line), ``.json`` (a list), or ``.pt`` / ``.pth`` (a list of dicts
of tensors saved with ``torch.save``, loaded with ``torch.load(weights_only=True)``, which refuses
arbitrary pickled objects).

Conversion (InstanceVG post-processing, docs/instancevg.md, ``score_threshold`` default 0.7):
every box becomes an instance (COCO ``[x, y, w, h]``, its score, its mask as ``segmentation``); the
evaluator applies each protocol's own threshold. ``no_target`` is true iff no score is strictly above
the threshold; ``no_target_score = 1 - max(score)`` (1 with no box). ``mask`` follows
``outmask_type``: ``merge`` (default) = global mask OR the masks of the instances above the threshold,
``global`` = the global mask, ``instance`` = the instance masks above the threshold; with neither
global nor instance masks in the dump, ``mask`` is left out (box tasks only). Expressions without an
entry are an error unless ``allow_missing`` (written empty, counted in the log); an entry for an
unknown or repeated expression is an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from baselines.adapters.common import as_array, expressions, to_rle
from evaluators import rle
from evaluators.errors import InputError
from evaluators.jsonl import iter_json_items
from evaluators.predictions_writer import write_predictions
from evaluators.progress import progress

__all__ = ["OUTMASK_TYPES", "convert_vg_dump", "dump_record", "iter_dump"]

log = logging.getLogger(__name__)

OUTMASK_TYPES = ("merge", "global", "instance")


def iter_dump(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, entry)`` for each entry of a dump file (``where`` names file and line/index)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: dump not found")
    if path.suffix in (".pt", ".pth"):
        try:
            import torch
        except ImportError:
            raise InputError(
                f"{path}: reading .pt/.pth dumps needs torch (pip install 'vgbench[model]')"
            ) from None
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for bad or unsafe files
            raise InputError(f"{path}: cannot load with torch.load(weights_only=True): {exc}") from None
        if not isinstance(data, (list, tuple)):
            raise InputError(f"{path}: a .pt dump must hold a list of per-expression dicts")
        for i, entry in enumerate(data):
            yield f"{path}:[{i}]", entry
    elif path.suffix in (".json", ".jsonl"):
        yield from iter_json_items(path, expected="a list of per-expression objects (.json dump)")
    else:
        raise InputError(f"{path}: unknown dump type (expected .jsonl, .json, .pt or .pth)")


def _expr_id(entry: dict[str, Any], config: str, split: str, where: str) -> str:
    if isinstance(entry.get("expr_id"), str) and entry["expr_id"]:
        return entry["expr_id"]
    sent_id = entry.get("sent_id")
    if hasattr(sent_id, "item"):
        sent_id = sent_id.item()
    if isinstance(sent_id, int) and not isinstance(sent_id, bool):
        return f"{config}/{split}/{sent_id}"
    raise InputError(f"{where} field='expr_id': missing (give 'expr_id' or an integer 'sent_id')")


def _float_array(value: Any, shape_tail: tuple[int, ...], where: str, field: str) -> np.ndarray:
    try:
        arr = as_array(value).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where} field={field!r}: not numbers: {exc}") from None
    if arr.size == 0:
        return arr.reshape((0, *shape_tail))
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        expected = "[" + ", ".join(["N", *map(str, shape_tail)]) + "]"
        raise InputError(f"{where} field={field!r}: shape {list(arr.shape)}, expected {expected}")
    if not np.isfinite(arr).all():
        raise InputError(f"{where} field={field!r}: NaN or infinite value")
    return arr


def dump_record(
    entry: dict[str, Any],
    expr_id: str,
    size: tuple[int, int],
    where: str,
    *,
    score_threshold: float = 0.7,
    outmask_type: str = "merge",
) -> dict[str, Any]:
    """Convert one dump entry (see the module docstring) into a predictions record."""
    if not isinstance(entry, dict):
        raise InputError(f"{where}: an entry must be an object/dict")
    for field in ("pred_bboxes", "pred_scores"):
        if field not in entry:
            raise InputError(f"{where} expr_id={expr_id!r} field={field!r}: missing")
    boxes = _float_array(entry["pred_bboxes"], (4,), where, "pred_bboxes")
    scores = _float_array(entry["pred_scores"], (), where, "pred_scores")
    if len(scores) != len(boxes):
        raise InputError(f"{where} field='pred_scores': {len(scores)} scores for {len(boxes)} boxes")
    if ((scores < 0) | (scores > 1)).any():
        raise InputError(f"{where} field='pred_scores': scores must be in [0, 1]")
    if (boxes[:, 2:] < boxes[:, :2]).any():
        raise InputError(f"{where} field='pred_bboxes': boxes must be x1, y1, x2, y2 with x2 >= x1, y2 >= y1")
    masks = entry.get("pred_masks")
    segs: list[rle.RLE] | None = None
    if masks is not None:
        items = list(masks) if isinstance(masks, list) else list(as_array(masks))
        if len(items) != len(boxes):
            raise InputError(f"{where} field='pred_masks': {len(items)} masks for {len(boxes)} boxes")
        segs = [to_rle(m, size, f"{where} field='pred_masks'[{i}]") for i, m in enumerate(items)]
    instances = []
    for i, (box, score) in enumerate(zip(boxes, scores)):
        x1, y1, x2, y2 = (float(v) for v in box)
        inst: dict[str, Any] = {"bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)}
        if segs is not None:
            inst["segmentation"] = segs[i]
        instances.append(inst)
    kept = scores > score_threshold
    record: dict[str, Any] = {
        "expr_id": expr_id,
        "instances": instances,
        "no_target": not bool(kept.any()),
        "no_target_score": 1.0 - float(scores.max()) if len(scores) else 1.0,
    }
    glob = entry.get("pred_global_mask")
    glob = None if glob is None else to_rle(glob, size, f"{where} field='pred_global_mask'")
    parts = []
    if outmask_type in ("merge", "global") and glob is not None:
        parts.append(glob)
    if outmask_type in ("merge", "instance") and segs is not None:
        parts += [s for s, k in zip(segs, kept) if k]
    if glob is not None or segs is not None:
        record["mask"] = rle.union(parts, *size)
    points = entry.get("pred_points")
    if points is not None:
        record["points"] = _float_array(points, (2,), where, "pred_points").tolist()
    return record


def convert_vg_dump(
    dump: str | Path,
    data_dir: str | Path,
    config: str,
    split: str,
    out: str | Path,
    *,
    score_threshold: float = 0.7,
    outmask_type: str = "merge",
    allow_missing: bool = False,
    quiet: bool = False,
) -> int:
    """Write the predictions file of a VG dump for ``config``/``split``; returns the count."""
    if outmask_type not in OUTMASK_TYPES:
        raise InputError(f"--outmask-type must be one of {', '.join(OUTMASK_TYPES)}, got {outmask_type!r}")
    if not 0.0 <= score_threshold <= 1.0:
        raise InputError(f"--score-threshold must be in [0, 1], got {score_threshold}")
    exprs = expressions(data_dir, config, split)
    sizes = {e.expr_id: e.size for e in exprs}
    converted: dict[str, dict[str, Any]] = {}
    for where, entry in progress(
        iter_dump(dump), None, f"vg-dump {config}/{split}", quiet=quiet, unit="expr"
    ):
        if not isinstance(entry, dict):
            raise InputError(f"{where}: an entry must be an object/dict")
        expr_id = _expr_id(entry, config, split, where)
        if expr_id not in sizes:
            raise InputError(
                f"{where} expr_id={expr_id!r} field='expr_id': not in {data_dir}:{config}/{split}"
            )
        if expr_id in converted:
            raise InputError(f"{where} expr_id={expr_id!r} field='expr_id': duplicate entry")
        converted[expr_id] = dump_record(
            entry, expr_id, sizes[expr_id], where, score_threshold=score_threshold, outmask_type=outmask_type
        )
    missing = [e for e in exprs if e.expr_id not in converted]
    if missing and not allow_missing:
        raise InputError(
            f"{dump}: {len(missing)} of {len(exprs)} expressions have no entry (e.g. {missing[0].expr_id!r}); "
            "pass --allow-missing to write them as empty predictions"
        )

    def records():
        for e in exprs:
            yield converted.get(e.expr_id) or {
                "expr_id": e.expr_id,
                "instances": [],
                "mask": rle.empty(*e.size),
                "no_target": True,
                "no_target_score": 1.0,
            }

    n = write_predictions(out, records())
    if missing:
        log.warning(
            "vg-dump: %d expressions had no entry and were written as empty predictions", len(missing)
        )
    return n
