"""Coordinate conventions of multimodal-LLM answers, and their inverse (pixels of the original image).

Every parser yields boxes as ``(x1, y1, x2, y2)`` in the *family's units*; a `Convention` maps them to
absolute pixels of the original image (``x`` along the width ``W``, ``y`` along the height ``H``):

=============  ================================================  ============================
name           family units -> original pixels                   used by
=============  ================================================  ============================
``pixel``      ``x``                                              ref-vlm, generic
``norm1``      ``x * W``                                          lmms-eval, generic
``norm100``    ``x / 100 * W``                                    minigpt-v2
``norm1000``   ``x / 1000 * W``                                   qwen-vl, qwen2-vl, internvl,
                                                                  cogvlm, ferret
``norm1024``   ``x / 1024 * W``                                   paligemma
``bins1000``   ``(x + 0.5) / 1000 * W`` (bin centre)              florence-2
``square1``    ``x * S - (S - W) // 2``, ``S = max(W, H)``        shikra (padded to a square)
``resized``    ``x / W_in * W`` (``W_in`` the model input width)  qwen2.5-vl
=============  ================================================  ============================

``y`` uses ``H`` (and ``H_in``) the same way. ``resized`` needs the model's input size: given per
answer (``input_width``/``input_height``) or computed with Qwen2-VL's ``smart_resize`` rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CONVENTIONS", "Convention", "ImageSize", "get_convention", "smart_resize"]

QWEN_FACTOR = 28
QWEN_MIN_PIXELS = 4 * 28 * 28  # qwen_vl_utils MIN_PIXELS
QWEN_MAX_PIXELS = 16384 * 28 * 28  # qwen_vl_utils MAX_PIXELS


def smart_resize(
    height: int,
    width: int,
    factor: int = QWEN_FACTOR,
    min_pixels: int = QWEN_MIN_PIXELS,
    max_pixels: int = QWEN_MAX_PIXELS,
) -> tuple[int, int]:
    """Qwen2-VL / Qwen2.5-VL input size ``(height, width)`` of an image (``qwen_vl_utils.smart_resize``).

    Both sides become multiples of ``factor`` (nearest, at least ``factor``); when the area leaves
    ``[min_pixels, max_pixels]`` both sides are scaled by one factor ``beta`` and floored (too large) or
    ceiled (too small) to multiples of ``factor``. Python's ``round`` (half to even) as in the original.
    """
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class ImageSize:
    """The original image ``width`` x ``height`` and, for ``resized``, the model input size."""

    width: int
    height: int
    input_width: int | None = None
    input_height: int | None = None


@dataclass(frozen=True)
class Convention:
    """One coordinate convention: its name, the largest legal value (``None``: the image size)."""

    name: str
    summary: str
    limit: float | None  # largest legal coordinate in family units; None = image size (pixels)

    def scale(self, size: ImageSize) -> tuple[float, float, float, float]:
        """``(ax, bx, ay, by)``: pixels = ``a * value + b`` per axis."""
        w, h = size.width, size.height
        if self.name == "pixel":
            return 1.0, 0.0, 1.0, 0.0
        if self.name == "norm1":
            return float(w), 0.0, float(h), 0.0
        if self.name in ("norm100", "norm1000", "norm1024"):
            d = float(self.name[4:])
            return w / d, 0.0, h / d, 0.0
        if self.name == "bins1000":
            return w / 1000, 0.5 * w / 1000, h / 1000, 0.5 * h / 1000
        if self.name == "square1":
            s = max(w, h)
            return float(s), -float((s - w) // 2), float(s), -float((s - h) // 2)
        if self.name == "resized":
            iw, ih = size.input_width, size.input_height
            if not iw or not ih:
                ih, iw = smart_resize(h, w)
            return w / iw, 0.0, h / ih, 0.0
        raise ValueError(f"unknown convention {self.name!r}")  # pragma: no cover - registry is closed

    def to_pixels(self, box: tuple[float, ...], size: ImageSize) -> tuple[float, float, float, float]:
        """A family-unit ``(x1, y1, x2, y2)`` -> original-image pixels ``(x1, y1, x2, y2)``."""
        ax, bx, ay, by = self.scale(size)
        return (ax * box[0] + bx, ay * box[1] + by, ax * box[2] + bx, ay * box[3] + by)

    def from_pixels(self, box: tuple[float, ...], size: ImageSize) -> tuple[float, float, float, float]:
        """Inverse of `to_pixels` (no rounding: renderers quantise)."""
        ax, bx, ay, by = self.scale(size)
        return ((box[0] - bx) / ax, (box[1] - by) / ay, (box[2] - bx) / ax, (box[3] - by) / ay)

    def bound(self, size: ImageSize) -> tuple[float, float]:
        """The largest legal ``(x, y)`` in family units (the image's far corner)."""
        if self.limit is not None:
            return self.limit, self.limit
        if self.name == "resized":
            ax, _, ay, _ = self.scale(size)
            return size.width / ax, size.height / ay
        return float(size.width), float(size.height)


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("pixel", "absolute pixels of the original image", None),
        Convention("norm1", "fractions of the image side, 0-1", 1.0),
        Convention("norm100", "0-100 grid: value / 100 x side", 100.0),
        Convention("norm1000", "0-1000 grid: value / 1000 x side", 1000.0),
        Convention("norm1024", "1024 bins: value / 1024 x side", 1024.0),
        Convention("bins1000", "1000 bins, bin centre: (value + 0.5) / 1000 x side", 1000.0),
        Convention("square1", "0-1 of the image zero-padded to a centred square", 1.0),
        Convention("resized", "pixels of the model input (smart_resize), scaled back", None),
    )
}


def get_convention(name: str) -> Convention:
    from evaluators.errors import InputError

    if name not in CONVENTIONS:
        raise InputError(f"unknown coordinate convention {name!r} (known: {', '.join(CONVENTIONS)})")
    return CONVENTIONS[name]
