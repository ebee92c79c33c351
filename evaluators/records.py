"""Typed records the evaluator works on, and their validation from decoded JSON / Parquet rows.

Coordinates: boxes are COCO ``[x, y, w, h]`` in absolute pixels of the original image. Masks are
COCO compressed RLE (see `evaluators.rle`) of size ``[height, width]`` of the original image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluators import rle
from evaluators.errors import InputError, locate
from evaluators.limits import MAX_COORD, MAX_IMAGE_SIDE

__all__ = [
    "Instance",
    "Prediction",
    "Target",
    "check_bbox",
    "check_masks",
    "check_prediction_size",
    "parse_prediction",
    "parse_target",
]

TARGET_TYPES = ("none", "single", "multi")


@dataclass(frozen=True)
class Instance:
    """One predicted instance: box ``(x, y, w, h)`` absolute pixels, score in [0, 1], optional mask."""

    bbox: tuple[float, float, float, float]
    score: float
    segmentation: rle.RLE | None = None


_NO_BOXES = np.zeros((0, 4), dtype=np.float64)
_NO_SCORES = np.zeros(0, dtype=np.float64)
_NO_CROWD = np.zeros(0, dtype=bool)
_ONE_CROWD = {(crowd,): np.array([crowd], dtype=bool) for crowd in (False, True)}  # a single target's
for _shared in (_NO_BOXES, _NO_SCORES, _NO_CROWD, *_ONE_CROWD.values()):  # shared by every record alike
    _shared.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Prediction:
    """One predictions record (docs/formats.md#predictions-file), instances held as arrays.

    ``boxes`` is ``(N, 4)`` float64 COCO xywh, ``scores`` ``(N,)`` float64, ``segmentations`` a tuple of N
    RLEs or ``None``s. ``has_instances`` is false when the record had no ``instances`` field at all.
    """

    expr_id: str
    boxes: np.ndarray = field(default_factory=lambda: _NO_BOXES)
    scores: np.ndarray = field(default_factory=lambda: _NO_SCORES)
    segmentations: tuple[rle.RLE | None, ...] = ()
    has_instances: bool = False
    mask: rle.RLE | None = None
    no_target: bool | None = None
    no_target_score: float | None = None
    points: tuple[tuple[float, float], ...] | None = None
    where: str = ""  # "file:line" for error messages

    @property
    def instances(self) -> tuple[Instance, ...]:
        """The instances as objects (convenience; scoring works on the arrays)."""
        return tuple(
            Instance(tuple(float(v) for v in b), float(sc), seg)
            for b, sc, seg in zip(self.boxes, self.scores, self.segmentations)
        )

    @classmethod
    def empty(cls, expr_id: str) -> Prediction:
        """What ``--allow-missing`` scores a missing record as: no instance, no mask."""
        return cls(expr_id=expr_id, has_instances=True, where="<missing>")


@dataclass(frozen=True)
class Target:
    """Ground truth of one expression (the fields of a unified row the evaluator needs)."""

    expr_id: str
    height: int
    width: int
    no_target: bool
    boxes: np.ndarray  # (N, 4) float64 COCO xywh, crowd targets included
    iscrowd: np.ndarray  # (N,) bool
    mask: rle.RLE  # union of the non-crowd target masks
    ref_id: int | None = None
    target_type: str = "none"
    where: str = ""  # "file:line" for error messages


def _built(cls: type, fields: dict[str, Any]) -> Any:
    """An instance of the frozen dataclass ``cls`` from all its ``fields``, without the generated
    ``__init__``'s one ``object.__setattr__`` per field (what ``copy`` and ``pickle`` do too): records are
    built once per expression, and the setattr calls were most of the cost of building one."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _fail(where: str, expr_id: str | None, fld: str, reason: str) -> InputError:
    return InputError(f"{locate(where, None, expr_id, fld)}: {reason}")


def _finite_number(value: Any) -> bool:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond float range
        return False


def _coord(value: Any) -> bool:
    """A finite number within +-`MAX_COORD` (exact and overflow-free in float32)."""
    return _finite_number(value) and abs(float(value)) <= MAX_COORD


_JSON_NUMBERS = frozenset((float, int))  # the types of JSON numbers (bool excluded)


def _parse_bbox(value: Any, where: str, expr_id: str | None, fld: str) -> tuple[float, float, float, float]:
    if type(value) is list and len(value) == 4 and _JSON_NUMBERS.issuperset(map(type, value)):
        try:  # the common case: JSON numbers (an int beyond float range falls through)
            x, y, w, h = box = tuple(map(float, value))
            if (  # NaN fails too
                -MAX_COORD <= x <= MAX_COORD
                and -MAX_COORD <= y <= MAX_COORD
                and 0 <= w <= MAX_COORD
                and 0 <= h <= MAX_COORD
            ):
                return box
        except OverflowError:
            pass
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != 4:
        raise _fail(where, expr_id, fld, f"must be [x, y, w, h], got {rle._short(value)}")
    if not all(_finite_number(v) for v in value):
        raise _fail(where, expr_id, fld, f"must hold 4 finite numbers, got {rle._short(list(value))}")
    if not all(_coord(v) for v in value):
        raise _fail(
            where, expr_id, fld, f"coordinates must be within +-2**24 pixels, got {rle._short(list(value))}"
        )
    x, y, w, h = (float(v) for v in value)
    if w < 0 or h < 0:
        raise _fail(where, expr_id, fld, f"width and height must be >= 0, got {rle._short(list(value))}")
    return x, y, w, h


def check_bbox(value: Any, where: str, fld: str = "bbox") -> tuple[float, float, float, float]:
    """A COCO ``[x, y, w, h]`` box as the evaluator accepts it (4 finite numbers within +-2**24,
    ``w, h >= 0``, no booleans) -> floats; `InputError` naming ``where`` and ``fld`` otherwise."""
    return _parse_bbox(value, where, None, fld)


def _parse_rle(
    value: Any,
    where: str,
    expr_id: str | None,
    fld: str,
    size: tuple[int, int] | None,
    check_counts: bool = True,
) -> rle.RLE:
    if not check_counts and type(value) is dict:  # the common case, without `rle.normalize`'s calls
        hw, counts = value.get("size"), value.get("counts")
        if type(counts) is str and type(hw) is list and len(hw) == 2:
            h, w = hw
            if (
                type(h) is int
                and type(w) is int
                and (
                    (h, w) == size
                    if size is not None
                    else 0 <= h <= MAX_IMAGE_SIDE and 0 <= w <= MAX_IMAGE_SIDE
                )
            ):
                return {"size": [h, w], "counts": counts}
    try:
        mask = rle.normalize(value, check_counts)
    except ValueError as exc:
        raise _fail(where, expr_id, fld, f"malformed RLE: {exc}") from None
    if size is not None and tuple(mask["size"]) != size:
        raise _fail(where, expr_id, fld, f"RLE size {mask['size']} != target [height, width] {list(size)}")
    return mask


def _parse_instances(raw: Any, where: str, expr_id: str, size: tuple[int, int] | None):
    """Validate the ``instances`` list; vectorised, with a per-instance pass only to name a defect."""
    if not isinstance(raw, list):
        raise _fail(where, expr_id, "instances", "must be a list")
    if raw and set(map(type, raw)) != {dict}:
        i = next(i for i, inst in enumerate(raw) if not isinstance(inst, dict))
        raise _fail(where, expr_id, f"instances[{i}]", "must be an object")
    if not raw:
        return _NO_BOXES, _NO_SCORES, ()
    score_list = [inst.get("score") for inst in raw]
    try:
        boxes = np.array([inst.get("bbox") for inst in raw])  # no dtype: strings or None must not convert
        fine = boxes.dtype.kind in "iuf" and boxes.shape == (len(raw), 4)
        fine = fine and set(map(type, score_list)) <= {float, int}
        fine = fine and not any(type(v) is bool for inst in raw for v in inst["bbox"])  # true is not 1
        if fine:
            boxes = boxes.astype(np.float64)
            scores = np.array(score_list, dtype=np.float64)
            fine = bool(
                np.isfinite(boxes).all()
                and (np.abs(boxes) <= MAX_COORD).all()
                and (boxes[:, 2:] >= 0).all()
                and np.isfinite(scores).all()
                and ((scores >= 0) & (scores <= 1)).all()
            )
    except (TypeError, ValueError, OverflowError):  # ragged lists, ints beyond int64
        fine = False
    if not fine:  # find and name the first defect
        for i, inst in enumerate(raw):
            if "bbox" not in inst:
                raise _fail(where, expr_id, f"instances[{i}].bbox", "missing")
            _parse_bbox(inst["bbox"], where, expr_id, f"instances[{i}].bbox")
            score = inst.get("score")
            if score is None:
                raise _fail(where, expr_id, f"instances[{i}].score", "missing")
            if not _finite_number(score) or not 0.0 <= float(score) <= 1.0:
                raise _fail(
                    where,
                    expr_id,
                    f"instances[{i}].score",
                    f"must be a number in [0, 1], got {rle._short(score)}",
                )
        raise _fail(where, expr_id, "instances", "malformed instances")  # pragma: no cover - defensive
    raw_segs = [inst.get("segmentation") for inst in raw]
    if raw_segs.count(None) == len(raw_segs):
        return boxes, scores, tuple(raw_segs)
    segs = tuple(
        None if seg is None else _parse_rle(seg, where, expr_id, f"instances[{i}].segmentation", size)
        for i, seg in enumerate(raw_segs)
    )
    return boxes, scores, segs


def parse_prediction(
    record: Any, where: str, size: tuple[int, int] | None = None, check_counts: bool = True
) -> Prediction:
    """Validate one decoded predictions record; ``size`` is the target's ``(height, width)`` if known.

    Raises `InputError` naming ``where`` (file:line), the expr_id and the field on any defect.
    ``check_counts=False`` leaves the compressed counts of ``mask`` unparsed: the caller must then pass
    the record through `check_masks` before using its mask (``score_files`` does, in one C pass).
    """
    if not isinstance(record, dict):
        raise _fail(where, None, "<record>", f"a record must be a JSON object, got {type(record).__name__}")
    expr_id = record.get("expr_id")
    if not isinstance(expr_id, str) or not expr_id:
        raise _fail(where, None, "expr_id", "missing or not a non-empty string")
    raw = record.get("instances")
    has_instances = raw is not None
    boxes, scores, segs = (
        _parse_instances(raw, where, expr_id, size) if has_instances else (_NO_BOXES, _NO_SCORES, ())
    )
    mask = record.get("mask")
    mask = None if mask is None else _parse_rle(mask, where, expr_id, "mask", size, check_counts)
    no_target = record.get("no_target")
    if no_target is not None and not isinstance(no_target, bool):
        raise _fail(
            where, expr_id, "no_target", f"must be true, false or absent, got {rle._short(no_target)}"
        )
    nt_score = record.get("no_target_score")
    if nt_score is not None and not _finite_number(nt_score):
        raise _fail(where, expr_id, "no_target_score", f"must be a finite number, got {rle._short(nt_score)}")
    points = record.get("points")
    if points is not None:
        if not isinstance(points, list) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(_finite_number(v) for v in p) for p in points
        ):
            raise _fail(where, expr_id, "points", "must be a list of [x, y] finite numbers")
        points = tuple((float(p[0]), float(p[1])) for p in points)
    return _built(
        Prediction,
        {
            "expr_id": expr_id,
            "boxes": boxes,
            "scores": scores,
            "segmentations": segs,
            "has_instances": has_instances,
            "mask": mask,
            "no_target": no_target,
            "no_target_score": None if nt_score is None else float(nt_score),
            "points": points,
            "where": where,
        },
    )


def check_prediction_size(pred: Prediction, size: tuple[int, int]) -> None:
    """Raise `InputError` if a mask of ``pred`` is not of the target's ``(height, width)``."""
    if pred.mask is not None and tuple(pred.mask["size"]) != size:
        raise _fail(pred.where, pred.expr_id, "mask", f"RLE size {pred.mask['size']} != target {list(size)}")
    for i, seg in enumerate(pred.segmentations):
        if seg is not None and tuple(seg["size"]) != size:
            raise _fail(
                pred.where,
                pred.expr_id,
                f"instances[{i}].segmentation",
                f"RLE size {seg['size']} != target {list(size)}",
            )


def check_masks(pred: Prediction | None, target: Target) -> None:
    """Check the sizes of ``pred``'s masks and the counts of ``pred.mask`` and ``target.mask`` (records
    parsed with ``check_counts=False``); `InputError` naming the record and field of a defect.

    With a record mask both strings are validated by `rle.overlap`, whose answer the scorer then reuses:
    one pass over each string for validation and intersection together.
    """
    if pred is not None:
        check_prediction_size(pred, (target.height, target.width))
    if pred is None or pred.mask is None:
        _parse_rle(target.mask, target.where, target.expr_id, "mask", None)
        return
    try:
        rle.overlap(pred.mask, target.mask)
    except rle.CountsError as exc:
        bad = pred if exc.index == 0 else target
        raise _fail(bad.where, bad.expr_id, "mask", f"malformed RLE: {exc}") from None


def _side(row: dict, key: str, where: str, expr_id: str) -> int:
    """``height`` or ``width``: an integer in [1, `MAX_IMAGE_SIDE`] (integral floats accepted)."""
    value = row.get(key)
    if type(value) is int and 1 <= value <= MAX_IMAGE_SIDE:
        return value
    if not _finite_number(value) or float(value) != int(value) or not 1 <= int(value) <= MAX_IMAGE_SIDE:
        raise _fail(
            where, expr_id, key, f"must be an integer in [1, {MAX_IMAGE_SIDE}], got {rle._short(value)}"
        )
    return int(value)


def _plain_target(row: dict, where: str) -> Target | None:
    """`parse_target` with ``check_counts=False`` of the common row (JSON types, at most one target, no
    ``ref_id``), in fewer steps; ``None`` for any other row, which `parse_target` then checks field by
    field (and names its first defect)."""
    get = row.get
    expr_id, height, width, no_target = get("expr_id"), get("height"), get("width"), get("no_target")
    raw_targets, mask = get("targets"), get("mask")
    if not (
        type(expr_id) is str
        and expr_id
        and type(height) is int
        and 1 <= height <= MAX_IMAGE_SIDE
        and type(width) is int
        and 1 <= width <= MAX_IMAGE_SIDE
        and type(no_target) is bool
        and type(mask) is dict
        and get("ref_id") is None
    ):
        return None
    if not raw_targets:  # None or []
        if raw_targets is not None and type(raw_targets) is not list:
            return None
        boxes, iscrowd, n_plain = _NO_BOXES, _NO_CROWD, 0
    elif type(raw_targets) is list and len(raw_targets) == 1 and not no_target:
        tgt = raw_targets[0]
        if type(tgt) is not dict:
            return None
        bbox, crowd = tgt.get("bbox"), tgt.get("iscrowd", False)
        if bbox is None or type(crowd) is not bool:
            return None
        boxes = np.array([_parse_bbox(bbox, where, expr_id, "targets[0].bbox")], dtype=np.float64)
        iscrowd, n_plain = _ONE_CROWD[(crowd,)], int(not crowd)
    else:
        return None
    mask = _parse_rle(mask, where, expr_id, "mask", (height, width), check_counts=False)
    target_type = get("target_type") or ("none" if n_plain == 0 else "single")
    if target_type not in TARGET_TYPES:
        return None
    return _built(
        Target,
        {
            "expr_id": expr_id,
            "height": height,
            "width": width,
            "no_target": no_target,
            "boxes": boxes,
            "iscrowd": iscrowd,
            "mask": mask,
            "ref_id": None,
            "target_type": target_type,
            "where": where,
        },
    )


def parse_target(row: Any, where: str, check_counts: bool = True) -> Target:
    """Validate one unified row (docs/formats.md#the-unified-row) as ground truth.

    ``check_counts=False`` leaves the compressed counts of ``mask`` unparsed (see `check_masks`)."""
    if not check_counts and type(row) is dict:
        target = _plain_target(row, where)
        if target is not None:
            return target
    return _checked_target(row, where, check_counts)


def _checked_target(row: Any, where: str, check_counts: bool) -> Target:
    """`parse_target`, field by field."""
    if not isinstance(row, dict):
        raise _fail(where, None, "<row>", "a row must be an object")
    expr_id = row.get("expr_id")
    if not isinstance(expr_id, str) or not expr_id:
        raise _fail(where, None, "expr_id", "missing or not a non-empty string")
    height, width = _side(row, "height", where, expr_id), _side(row, "width", where, expr_id)
    no_target = row.get("no_target")
    if not isinstance(no_target, (bool, np.bool_)):
        raise _fail(where, expr_id, "no_target", f"must be a boolean, got {rle._short(no_target)}")
    raw_targets = row.get("targets")
    if raw_targets is None:
        raw_targets = []
    if not isinstance(raw_targets, (list, tuple, np.ndarray)):
        raise _fail(where, expr_id, "targets", "must be a list")
    if len(raw_targets) == 0:
        boxes, iscrowd, n_plain = _NO_BOXES, _NO_CROWD, 0
    else:
        box_list, crowd_list = [], []
        for i, tgt in enumerate(raw_targets):
            if not isinstance(tgt, dict) or "bbox" not in tgt:
                raise _fail(where, expr_id, f"targets[{i}].bbox", "missing")
            box_list.append(_parse_bbox(tgt["bbox"], where, expr_id, f"targets[{i}].bbox"))
            crowd_list.append(bool(tgt.get("iscrowd", False)))
        boxes = np.array(box_list, dtype=np.float64)
        iscrowd = _ONE_CROWD.get(tuple(crowd_list))
        if iscrowd is None:
            iscrowd = np.array(crowd_list, dtype=bool)
        n_plain = crowd_list.count(False)
        if no_target:
            raise _fail(where, expr_id, "targets", "a no-target row must have no targets")
    if "mask" not in row or row["mask"] is None:
        raise _fail(where, expr_id, "mask", "missing")
    mask = _parse_rle(row["mask"], where, expr_id, "mask", (height, width), check_counts)
    target_type = row.get("target_type") or (
        "none" if n_plain == 0 else "single" if n_plain == 1 else "multi"
    )
    if target_type not in TARGET_TYPES:
        raise _fail(
            where, expr_id, "target_type", f"must be one of {TARGET_TYPES}, got {rle._short(target_type)}"
        )
    ref_id = row.get("ref_id")
    if ref_id is not None and (not _finite_number(ref_id) or float(ref_id) != int(ref_id)):
        raise _fail(where, expr_id, "ref_id", f"must be an integer, got {rle._short(ref_id)}")
    return _built(
        Target,
        {
            "expr_id": expr_id,
            "height": height,
            "width": width,
            "no_target": bool(no_target),
            "boxes": boxes,
            "iscrowd": iscrowd,
            "mask": mask,
            "ref_id": None if ref_id is None else int(ref_id),
            "target_type": target_type,
            "where": where,
        },
    )
