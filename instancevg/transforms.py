"""Input transforms: the official pipeline is ``Resize((S, S), keep_ratio=False)`` + ImageNet normalisation.

Because the aspect ratio is not kept, a point ``(x, y)`` of an ``h x w`` image maps to ``(x * S / w, y * S / h)``
and coordinates normalised by the image size are the same before and after resizing.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

__all__ = [
    "MEAN",
    "STD",
    "boxes_xywh_to_cxcywh_norm",
    "mirror_sentence",
    "preprocess_image",
    "resize_mask",
]

MEAN = (123.675, 116.28, 103.53)  # RGB, on 0-255 values
STD = (58.395, 57.12, 57.375)


def preprocess_image(img: Image.Image, size: int) -> torch.Tensor:
    """Bilinear resize to ``size x size`` (aspect ratio not kept), RGB, normalise: FloatTensor[3, S, S]."""
    rgb = img.convert("RGB").resize((size, size), Image.BILINEAR)
    arr = torch.from_numpy(np.asarray(rgb, dtype=np.float32).copy()).permute(2, 0, 1)
    mean = torch.tensor(MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(STD, dtype=torch.float32)[:, None, None]
    return (arr - mean) / std


def resize_mask(mask: np.ndarray, size: int) -> torch.Tensor:
    """Nearest-neighbour resize of a boolean ``[h, w]`` mask to FloatTensor[S, S] with values in {0, 1}."""
    t = torch.as_tensor(np.asarray(mask, dtype=np.float32))
    if t.ndim != 2:
        raise ValueError(f"resize_mask: expected a 2-D mask, got shape {tuple(t.shape)}")
    return F.interpolate(t[None, None], size=(size, size), mode="nearest")[0, 0]


def boxes_xywh_to_cxcywh_norm(boxes: np.ndarray | torch.Tensor | list, h: int, w: int) -> torch.Tensor:
    """COCO ``[x, y, w, h]`` absolute pixel boxes ``[N, 4]`` of an ``h x w`` image -> FloatTensor[N, 4]
    normalised ``(cx, cy, w, h)`` in [0, 1] (the criterion's box targets). The one box converter.

    Clamp, then normalise: the corners ``(x, y)`` and ``(x + w, y + h)`` are first clamped to the image
    (``[0, w] x [0, h]``), and the visible box they span is then normalised by the image size. A box
    that sticks out of the image thus becomes its visible part; clamping ``(cx, cy, w, h)`` after
    normalising would keep a width and a centre that together describe no box inside the image.
    Computed in float64, returned as float32. An empty input gives shape ``[0, 4]``.
    """
    b = torch.as_tensor(np.asarray(boxes, dtype=np.float64)).reshape(-1, 4)
    x1 = b[:, 0].clamp(0, w)
    y1 = b[:, 1].clamp(0, h)
    x2 = (b[:, 0] + b[:, 2]).clamp(0, w)
    y2 = (b[:, 1] + b[:, 3]).clamp(0, h)
    out = torch.stack([(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h], dim=-1)
    return out.float()


_MIRROR_WORDS = {"left": "right", "right": "left", "leftmost": "rightmost", "rightmost": "leftmost"}
_MIRROR_RE = re.compile(r"\b(" + "|".join(_MIRROR_WORDS) + r")\b", re.IGNORECASE)


def mirror_sentence(sentence: str) -> str:
    """The sentence that describes the horizontally flipped image: whole words ``left`` / ``right`` (and
    ``leftmost`` / ``rightmost``) swapped, the first letter's case kept ("Left of" -> "Right of")."""

    def swap(match: re.Match) -> str:
        word = match.group(0)
        new = _MIRROR_WORDS[word.lower()]
        return new.capitalize() if word[0].isupper() else new

    return _MIRROR_RE.sub(swap, sentence)
