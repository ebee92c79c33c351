"""Adapter: a COCO results list plus a sidecar mapping -> a predictions file.

Results: the pycocotools results JSON, a list of ``{image_id, category_id, bbox [x,y,w,h] absolute
pixels, score in [0, 1], segmentation?}``; ``segmentation`` may be RLE (compressed or not) or a
polygon list, at the original image size; ``category_id`` is ignored (grounding is class-free).

Sidecar mapping (JSON), saying which expression each result answers; one of:

- ``{"key": "image_id", "map": {"17": "grefcoco_unc/val/1234", ...}}``: every result whose
  ``image_id`` is 17 belongs to that expression (tools that run each expression as its own "image");
- ``{"key": "index", "map": {"0": "grefcoco_unc/val/1234", ...}}``: result number 0 of the list
  (0-based) belongs to that expression;
- a plain object ``{"17": "grefcoco_unc/val/1234"}`` means ``key = image_id``; a plain list
  ``["grefcoco_unc/val/1234", ...]`` means ``key = index``.

Records: ``instances`` = the expression's results (all of them; the evaluator applies each protocol's
score threshold), with their segmentations when given. No ``mask`` and no ``no_target`` are written, so
the evaluator derives them from the instances (docs/formats.md#scoring-protocols "Masks from instances"). An expression with
no result at all is written as an empty, no-target prediction (empty instances and mask), and counted
in the log. A result whose key is not in the mapping, or a mapped ``expr_id`` of this config/split that
is not in the dataset, is an error; mapped ids of other configs/splits are skipped (one sidecar may
serve several splits), and counted in the log.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from baselines.adapters.common import expressions, to_rle
from evaluators import rle
from evaluators.errors import InputError
from evaluators.predictions_writer import write_predictions
from evaluators.progress import progress

__all__ = ["convert_coco_results", "load_mapping"]

log = logging.getLogger(__name__)


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: not found") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def load_mapping(path: str | Path) -> tuple[str, dict[str, str]]:
    """``(key, {key value as text: expr_id})`` of a sidecar file; key is ``image_id`` or ``index``."""
    path = Path(path)
    data = _load_json(path)
    if isinstance(data, list):
        key, table = "index", {str(i): v for i, v in enumerate(data)}
    elif isinstance(data, dict) and "map" in data:
        key, table = data.get("key", "image_id"), data["map"]
        if key not in ("image_id", "index"):
            raise InputError(f"{path}: field='key': must be 'image_id' or 'index', got {key!r}")
        if not isinstance(table, dict):
            raise InputError(f"{path}: field='map': must be an object")
    elif isinstance(data, dict):
        key, table = "image_id", data
    else:
        raise InputError(f"{path}: a mapping must be an object or a list")
    for k, v in table.items():
        if not isinstance(v, str) or not v:
            raise InputError(f"{path}: field='map'[{k!r}]: expr_id must be a non-empty string, got {v!r}")
    return key, {str(k): v for k, v in table.items()}


def _instance(result: Any, size: tuple[int, int], where: str) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise InputError(f"{where}: a result must be an object")
    bbox, score = result.get("bbox"), result.get("score")
    if not (
        isinstance(bbox, list)
        and len(bbox) == 4
        and all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)
        and bbox[2] >= 0
        and bbox[3] >= 0
    ):
        raise InputError(
            f"{where} field='bbox': must be [x, y, w, h] finite numbers, w, h >= 0, got {bbox!r}"
        )
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0.0 <= score <= 1.0:  # NaN fails
        raise InputError(f"{where} field='score': must be a number in [0, 1], got {score!r}")
    inst = {"bbox": [float(v) for v in bbox], "score": float(score)}
    seg = result.get("segmentation")
    if isinstance(seg, list):  # polygons
        inst["segmentation"] = rle.from_polygons(seg, *size)
    elif seg is not None:
        inst["segmentation"] = to_rle(seg, size, f"{where} field='segmentation'")
    return inst


def convert_coco_results(
    results: str | Path,
    mapping: str | Path,
    data_dir: str | Path,
    config: str,
    split: str,
    out: str | Path,
    *,
    quiet: bool = False,
) -> int:
    """Write the predictions file of a COCO results list for ``config``/``split``; returns the count."""
    results, mapping = Path(results), Path(mapping)
    data = _load_json(results)
    if not isinstance(data, list):
        raise InputError(f"{results}: a COCO results file is a JSON list of results")
    key, table = load_mapping(mapping)
    exprs = expressions(data_dir, config, split)
    sizes = {e.expr_id: e.size for e in exprs}
    prefix = f"{config}/{split}/"
    unknown = sorted({v for v in table.values() if v.startswith(prefix) and v not in sizes})
    if unknown:
        raise InputError(
            f"{mapping}: field='map': expr_id {unknown[0]!r} is not in {data_dir}:{config}/{split} "
            f"({len(unknown)} unknown in all)"
        )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    elsewhere = 0
    for index, result in enumerate(data):
        where = f"{results}:[{index}]"
        k = (
            str(index)
            if key == "index"
            else str(result.get("image_id") if isinstance(result, dict) else None)
        )
        if k not in table:
            raise InputError(f"{where} field={key!r}: {k} is not in the mapping {mapping}")
        expr_id = table[k]
        if expr_id not in sizes:
            elsewhere += 1
            continue
        grouped[expr_id].append(_instance(result, sizes[expr_id], where))
    if elsewhere:
        log.info("coco-results: %d results map to other configs/splits and were skipped", elsewhere)

    def records():
        for e in progress(exprs, len(exprs), f"coco-results {config}/{split}", quiet=quiet, unit="expr"):
            if e.expr_id in grouped:
                yield {"expr_id": e.expr_id, "instances": grouped[e.expr_id]}
            else:
                yield {"expr_id": e.expr_id, "instances": [], "mask": rle.empty(*e.size), "no_target": True}

    n = write_predictions(out, records())
    empty = n - len(grouped)
    if empty:
        log.info("coco-results: %d expressions had no result and were written as empty predictions", empty)
    return n
