"""COCO run-length encoded (RLE) masks: validation, conversion and set arithmetic.

All work is done by pycocotools on the RLE itself (no dense decode) except where stated.
Convention: an RLE is ``{"size": [height, width], "counts": str}`` -- COCO *compressed* RLE with the
counts decoded to text, column-major (Fortran order) as pycocotools writes it. Uncompressed RLE
(``counts`` a list of run lengths) is accepted on input and converted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pycocotools import mask as _mask

RLE = dict[str, Any]

__all__ = [
    "RLE",
    "area",
    "decode",
    "empty",
    "encode",
    "from_polygons",
    "intersection_union",
    "normalize",
    "resize_nearest",
    "run_lengths",
    "to_pycoco",
    "union",
]


def _check_size(size: Any) -> tuple[int, int]:
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in size)
    ):
        raise ValueError(f"RLE 'size' must be [height, width] non-negative integers, got {size!r}")
    return int(size[0]), int(size[1])


def normalize(obj: Any) -> RLE:
    """Validate an RLE from a file and return it compressed with text counts.

    Accepts compressed counts (``str`` or ``bytes``) and uncompressed counts (a list of non-negative
    ints summing to height*width). Raises ``ValueError`` with the reason on anything malformed.
    """
    if not isinstance(obj, dict) or "size" not in obj or "counts" not in obj:
        raise ValueError("RLE must be an object with 'size' and 'counts'")
    h, w = _check_size(obj["size"])
    counts = obj["counts"]
    if isinstance(counts, list):
        if not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise ValueError("uncompressed RLE 'counts' must be non-negative integers")
        if sum(counts) != h * w:
            raise ValueError(f"uncompressed RLE 'counts' sum to {sum(counts)}, expected {h}*{w}={h * w}")
        rle = _mask.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        return {"size": [h, w], "counts": rle["counts"].decode("ascii")}
    if isinstance(counts, bytes):
        counts = counts.decode("ascii", errors="replace")
    if not isinstance(counts, str):
        raise ValueError(f"RLE 'counts' must be a string or a list of ints, got {type(counts).__name__}")
    if not counts.isascii():
        raise ValueError("compressed RLE 'counts' has characters outside the COCO alphabet")
    total = int(run_lengths(counts).sum())
    if total != h * w:
        raise ValueError(f"compressed RLE 'counts' cover {total} pixels, expected {h}*{w}={h * w}")
    return {"size": [h, w], "counts": counts}


def run_lengths(counts: str) -> np.ndarray:
    """Run lengths (int64) of a compressed counts string, vectorised; raises ValueError if malformed.

    COCO text RLE: each run is a little-endian group of 5-bit digits (byte - 48); bit 0x20 marks a
    continuation and bit 0x10 of a group's last byte sign-extends. From the fourth run on, the stored
    value is a difference to the run two before (pycocotools ``rleFrString``).
    """
    data = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if data.size == 0:
        return np.zeros(0, dtype=np.int64)
    if data.min() < 0 or data.max() > 63:
        raise ValueError("compressed RLE 'counts' has characters outside the COCO alphabet")
    ends = np.flatnonzero((data & 0x20) == 0)
    if ends.size == 0 or ends[-1] != data.size - 1:
        raise ValueError("compressed RLE 'counts' ends inside a run length")
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 7:  # 35 bits: far beyond any image, and pycocotools keeps 32-bit counts
        raise ValueError("compressed RLE 'counts' has a run length too large for an image")
    group = np.repeat(np.arange(ends.size), lengths)
    shift = 5 * (np.arange(data.size) - starts[group])
    values = np.bincount(group, weights=((data & 0x1F) << shift).astype(np.float64)).astype(np.int64)
    negative = (data[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * lengths[negative])
    runs = values.copy()
    if runs.size > 3:
        runs[3::2] = values[1] + np.cumsum(values[3::2])
    if runs.size > 4:
        runs[4::2] = values[2] + np.cumsum(values[4::2])
    if runs.min() < 0:
        raise ValueError("compressed RLE 'counts' has a negative run length")
    return runs


def to_pycoco(rle: RLE) -> dict[str, Any]:
    """The form pycocotools' C functions take: counts as bytes."""
    counts = rle["counts"]
    return {
        "size": list(rle["size"]),
        "counts": counts.encode("ascii") if isinstance(counts, str) else counts,
    }


def _from_pycoco(rle: dict[str, Any]) -> RLE:
    counts = rle["counts"]
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": counts.decode("ascii")}


def empty(height: int, width: int) -> RLE:
    """An all-zero mask of the given size."""
    return encode(np.zeros((height, width), dtype=np.uint8))


def encode(dense: np.ndarray) -> RLE:
    """Encode a dense ``(H, W)`` mask (any dtype; nonzero is foreground)."""
    arr = np.asfortranarray(np.asarray(dense) != 0, dtype=np.uint8)
    return _from_pycoco(_mask.encode(arr))


def decode(rle: RLE) -> np.ndarray:
    """Decode to a dense ``(H, W)`` uint8 array of 0/1."""
    return _mask.decode(to_pycoco(rle))


def area(rle: RLE) -> int:
    """Number of foreground pixels."""
    return int(_mask.area(to_pycoco(rle)))


def union(rles: Sequence[RLE], height: int, width: int) -> RLE:
    """Pixel-wise OR of masks of size ``(height, width)``; an empty mask when ``rles`` is empty."""
    if not rles:
        return empty(height, width)
    if len(rles) == 1:
        return {"size": [height, width], "counts": rles[0]["counts"]}
    return _from_pycoco(_mask.merge([to_pycoco(r) for r in rles], intersect=False))


def intersection_union(a: RLE, b: RLE) -> tuple[int, int]:
    """``(|a AND b|, |a OR b|)`` in pixels, computed on the RLEs."""
    pa, pb = to_pycoco(a), to_pycoco(b)
    area_a, area_b = (int(v) for v in _mask.area([pa, pb]))
    if area_a == 0 or area_b == 0:
        return 0, area_a + area_b
    inter = int(_mask.area(_mask.merge([pa, pb], intersect=True)))
    return inter, area_a + area_b - inter


def from_polygons(polygons: Iterable[Sequence[float]], height: int, width: int) -> RLE:
    """Rasterise a COCO polygon list (several parts allowed; parts are OR-ed, never summed)."""
    parts = [list(map(float, p)) for p in polygons if len(p) >= 6]
    if not parts:
        return empty(height, width)
    rles = _mask.frPyObjects(parts, height, width)
    return _from_pycoco(_mask.merge(rles, intersect=False))


def resize_nearest(rle: RLE, size: int | tuple[int, int]) -> RLE:
    """Nearest-neighbour resize to ``size`` (N or (H, W)); decodes densely (used only by ``--resize``).

    Source pixel of output (i, j) is ``floor(i * H / H_out)``, ``floor(j * W / W_out)`` -- the rule of
    ``torch.nn.functional.interpolate(mode="nearest")`` and of PIL/cv2 nearest for downscaling.
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
    dense = decode(rle)
    h, w = dense.shape
    rows = np.minimum((np.arange(out_h) * h) // out_h, h - 1)
    cols = np.minimum((np.arange(out_w) * w) // out_w, w - 1)
    return encode(dense[np.ix_(rows, cols)])
