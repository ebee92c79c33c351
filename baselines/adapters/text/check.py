"""Convention check: does the answers' geometry contradict the declared coordinate convention?

Two kinds of evidence, each turned into one warning sentence that states the numbers:

1. Range, from the answers alone: all coordinates within [0, 1] for a 0-100 / 0-1000 / 1024-bin or
   pixel convention; coordinates above 1 for a 0-1 convention; values beyond the grid's limit; boxes
   reaching beyond the image (pixel conventions).
2. Agreement with the targets: the mean IoU of each answer's first box with its (single) target box,
   as declared and when read in another convention or with x and y swapped. A reading that scores far
   better than the declared one (IoU at least 0.3 and twice the declared + 0.1) is named.

Nothing is changed: the check only warns (CLI: log lines; results: ``notes.adapter.convention_warnings``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from baselines.adapters.text.conventions import CONVENTIONS, Convention, ImageSize

__all__ = ["Observation", "check_convention"]

MIN_BOXES = 5  # fewer boxes are no evidence
MAX_GT_SAMPLES = 2000  # the agreement check looks at the first answers only (speed)


@dataclass(frozen=True)
class Observation:
    """One parsed answer: its boxes in family units, the image size, the target boxes (pixels xyxy)."""

    boxes: Sequence[tuple[float, float, float, float]]
    size: ImageSize
    targets: Sequence[tuple[float, float, float, float]]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _range_warnings(conv: Convention, obs: Sequence[Observation]) -> list[str]:
    boxes = [b for o in obs for b in o.boxes]
    if len(boxes) < MIN_BOXES:
        return []
    values = np.asarray(boxes, dtype=np.float64)
    n, biggest = len(boxes), float(np.abs(values).max())
    out = []
    if conv.limit is not None and conv.limit > 1.5 and biggest <= 1.0:
        out.append(
            f"all {n} boxes have every coordinate within [0, 1] although {conv.name} runs to {conv.limit:g}: "
            "the answers look 0-1 normalised (try --family generic --coords norm1)"
        )
    elif conv.limit == 1.0 and biggest > 1.5:
        above = int((values > 1.0).any(axis=1).sum())
        out.append(
            f"{above} of {n} boxes have coordinates above 1 (largest {biggest:g}) although {conv.name} is 0-1: "
            "the answers look 0-1000 or pixel coordinates"
        )
    elif conv.limit is not None and biggest > conv.limit * 1.01:
        above = int((values > conv.limit * 1.01).any(axis=1).sum())
        out.append(
            f"{above} of {n} boxes have coordinates above {conv.limit:g} (largest {biggest:g}), beyond the "
            f"{conv.name} grid: the answers look like pixel coordinates"
        )
    if conv.limit is None:
        if biggest <= 1.0:
            out.append(
                f"all {n} boxes have every coordinate within [0, 1] although {conv.name} is in pixels: the "
                "answers look 0-1 normalised"
            )
        else:
            beyond = 0
            for o in obs:
                bx, by = conv.bound(o.size)
                beyond += sum(
                    1 for b in o.boxes if max(b[0], b[2]) > bx * 1.02 or max(b[1], b[3]) > by * 1.02
                )
            if beyond > 0.05 * n:
                out.append(
                    f"{beyond} of {n} boxes reach more than 2% beyond the image ({conv.name}): the answers may "
                    "use another convention (e.g. a resized input or a 0-1000 grid)"
                )
    return out


def _agreement_warnings(conv: Convention, obs: Sequence[Observation], to_pixels) -> list[str]:
    pairs = [(o.boxes[0], o.size, o.targets[0]) for o in obs if o.boxes and len(o.targets) == 1]
    pairs = pairs[:MAX_GT_SAMPLES]
    if len(pairs) < MIN_BOXES:
        return []
    gt = np.asarray([p[2] for p in pairs], dtype=np.float64)

    def mean_iou(convert) -> float:
        return float(_iou(np.asarray([convert(b, s) for b, s, _ in pairs], dtype=np.float64), gt).mean())

    declared = mean_iou(to_pixels)
    readings = {
        "x and y swapped": lambda b, s: to_pixels((b[1], b[0], b[3], b[2]), s),
    }
    for name, other in CONVENTIONS.items():
        if name != conv.name and not (name == "resized" and conv.name == "pixel"):
            readings[f"read as {name}"] = lambda b, s, c=other: c.to_pixels(b, s)
    scored = {label: mean_iou(fn) for label, fn in readings.items()}
    label, best = max(scored.items(), key=lambda kv: kv[1])
    if best >= 0.3 and best >= 2 * declared + 0.1:
        return [
            f"mean IoU of the first box with the target over {len(pairs)} answers is {declared:.3f} as "
            f"declared ({conv.name}) but {best:.3f} {label}: the declared convention is probably wrong"
        ]
    return []


def check_convention(
    conv: Convention, obs: Sequence[Observation], to_pixels=None, ranges: bool = True
) -> list[str]:
    """Warnings (possibly none) about ``obs`` read under ``conv``. ``to_pixels(box, size)`` overrides
    the conversion and ``ranges=False`` skips the range evidence (VLMEvalKit guesses the scale)."""
    to_pixels = to_pixels or conv.to_pixels
    return (_range_warnings(conv, obs) if ranges else []) + _agreement_warnings(conv, obs, to_pixels)
