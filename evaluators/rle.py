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

from evaluators.limits import MAX_IMAGE_SIDE

try:  # optional C accelerator (built by `pip install`; see pyproject.toml)
    from evaluators import _rlecount
except ImportError:  # pragma: no cover - depends on the build
    _rlecount = None

_OVERLAP = getattr(_rlecount, "overlap", None)  # an older build of the accelerator lacks it

RLE = dict[str, Any]

__all__ = [
    "RLE",
    "CountsError",
    "area",
    "counts_totals",
    "counts_totals_numpy",
    "decode",
    "empty",
    "encode",
    "from_polygons",
    "intersection_union",
    "normalize",
    "overlap",
    "overlap_pycocotools",
    "resize_nearest",
    "run_lengths",
    "to_pycoco",
    "union",
]


def _check_size(size: Any) -> tuple[int, int]:
    if type(size) is list and len(size) == 2:  # the common case, checked without generators
        h, w = size
        if type(h) is int and type(w) is int and 0 <= h <= MAX_IMAGE_SIDE and 0 <= w <= MAX_IMAGE_SIDE:
            return h, w
    if (
        not isinstance(size, (list, tuple, np.ndarray))
        or len(size) != 2
        or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= MAX_IMAGE_SIDE
            for v in size
        )
    ):
        raise ValueError(
            f"RLE 'size' must be [height, width] integers in [0, {MAX_IMAGE_SIDE}], got {_short(size)}"
        )
    return int(size[0]), int(size[1])


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters (error messages stay one short line)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond the 4300-digit str limit
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize(obj: Any, check_counts: bool = True) -> RLE:
    """Validate an RLE from a file and return it compressed with text counts.

    Accepts compressed counts (``str`` or ``bytes``) and uncompressed counts (a list of non-negative
    ints summing to height*width). Raises ``ValueError`` with the reason on anything malformed.
    ``check_counts=False`` skips parsing compressed counts, for callers that check many at once with
    `counts_totals`.
    """
    if not isinstance(obj, dict) or "size" not in obj or "counts" not in obj:
        raise ValueError("RLE must be an object with 'size' and 'counts'")
    h, w = _check_size(obj["size"])
    counts = obj["counts"]
    if not check_counts and type(counts) is str:
        return {"size": [h, w], "counts": counts}
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
    if not check_counts:
        return {"size": [h, w], "counts": counts}
    total = int(counts_totals([counts])[0])
    if total != h * w:
        raise ValueError(f"compressed RLE 'counts' cover {total} pixels, expected {h}*{w}={h * w}")
    return {"size": [h, w], "counts": counts}


def run_lengths(counts: str) -> np.ndarray:
    """Run lengths (int64) of one compressed counts string; raises ValueError if malformed."""
    runs, _ = _parse_counts([counts])
    return runs


def counts_totals(counts: Sequence[str]) -> np.ndarray:
    """Pixels covered by each compressed counts string (int64 array).

    Raises `CountsError` (a ValueError with ``.index``, the first malformed string) on a character
    outside the COCO alphabet, a truncated run, a negative or absurdly large run length. Uses the C
    accelerator ``evaluators._rlecount`` when it was built, else one vectorised numpy pass.
    """
    if _rlecount is not None:
        totals, bad, reason = _rlecount.counts_totals(counts)
        if bad >= 0:
            raise CountsError(bad, reason)
        return np.asarray(totals, dtype=np.int64)
    return counts_totals_numpy(counts)


def counts_totals_numpy(counts: Sequence[str]) -> np.ndarray:
    """The numpy implementation of `counts_totals` (no compiled code needed)."""
    try:
        runs, owner = _parse_counts(counts)
    except CountsError:
        for index, one in enumerate(counts):  # report the first malformed string, as the C parser does
            try:
                _parse_counts([one])
            except CountsError as exc:
                raise CountsError(index, str(exc)) from None
        raise
    return np.bincount(owner, weights=runs.astype(np.float64), minlength=len(counts)).astype(np.int64)


class CountsError(ValueError):
    """A malformed compressed counts string; ``index`` is its position in the batch."""

    def __init__(self, index: int, reason: str):
        super().__init__(reason)
        self.index = index


def _parse_counts(counts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode many COCO text RLE strings at once -> (run lengths, index of the owning string).

    Each run is a little-endian group of 5-bit digits (byte - 48); bit 0x20 marks a continuation and
    bit 0x10 of a group's last byte sign-extends. From the fourth run of a string on, the stored value
    is a difference to the run two before (pycocotools ``rleFrString``).
    """
    n = len(counts)
    for i, c in enumerate(counts):
        if not c.isascii():
            raise CountsError(i, "compressed RLE 'counts' has characters outside the COCO alphabet")
    raw = np.frombuffer("".join(counts).encode("ascii"), dtype=np.uint8)
    lengths = np.fromiter(map(len, counts), dtype=np.int64, count=n)
    string_ends = np.cumsum(lengths)
    bad_char = (raw < 48) | (raw > 111)
    if bad_char.any():
        bad = int(np.searchsorted(string_ends, np.argmax(bad_char), side="right"))
        raise CountsError(bad, "compressed RLE 'counts' has characters outside the COCO alphabet")
    digits = raw - np.uint8(48)
    is_end = digits < 32  # no continuation bit
    nonempty = lengths > 0
    last_continues = ~is_end[string_ends[nonempty] - 1]
    if last_continues.any():
        bad = int(np.flatnonzero(nonempty)[np.argmax(last_continues)])
        raise CountsError(bad, "compressed RLE 'counts' ends inside a run length")
    ends = np.flatnonzero(is_end)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    group_len = ends - starts + 1
    first_group = np.searchsorted(ends, string_ends - lengths)
    groups_per_string = np.diff(np.append(first_group, ends.size))
    owner = np.repeat(np.arange(n), groups_per_string)
    if group_len.size and group_len.max() > 7:  # > 35 bits: beyond any image; pycocotools keeps 32 bits
        raise CountsError(int(owner[np.argmax(group_len > 7)]), "compressed RLE 'counts' has a run too large")
    low = digits & np.uint8(31)
    values = low[starts].astype(np.int64)
    for j in range(1, int(group_len.max()) if group_len.size else 0):
        sel = np.flatnonzero(group_len > j)
        values[sel] += low[starts[sel] + j].astype(np.int64) << (5 * j)
    values -= ((digits[ends] & np.uint8(16)) != 0).astype(np.int64) << (5 * group_len)
    # Runs 3, 5, 7, ... of a string add to its run 1; runs 4, 6, ... to its run 2. Positions of one
    # chain share the parity of the global index, so each parity class is one segmented cumsum.
    pos = np.arange(ends.size, dtype=np.int64) - np.repeat(first_group, groups_per_string)
    runs = values.copy()
    for parity in (0, 1):
        v, p = values[parity::2], pos[parity::2]
        in_chain = p >= 1
        csum = np.cumsum(np.where(in_chain, v, 0))
        head = np.maximum.accumulate(np.where((p == 1) | (p == 2), np.arange(v.size), 0))
        runs[parity::2] = np.where(in_chain, csum - (csum[head] - v[head]), v)
    if runs.size and runs.min() < 0:
        raise CountsError(
            int(owner[np.argmax(runs < 0)]), "compressed RLE 'counts' has a negative run length"
        )
    return runs, owner


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
    """An all-zero mask of the given size (sides checked against `MAX_IMAGE_SIDE`)."""
    height, width = _check_size([height, width])
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


_LAST_OVERLAP: tuple[Any, Any, int, tuple[int, int, int] | None] = (None, None, -1, None)


def overlap(a: RLE, b: RLE) -> tuple[int, int, int]:
    """``(|a AND b|, |a|, |b|)`` in pixels of two masks of one size, computed on the RLEs.

    Both compressed counts strings are validated on the way (`CountsError` with ``index`` 0 for ``a``,
    1 for ``b``, with the reason `normalize` gives); a size mismatch is a plain ``ValueError``. With the C
    accelerator this is one streaming pass over each string; else the numpy parser validates and
    pycocotools counts. The last answer is remembered by the identity of the two counts objects, so
    validating a pair and then scoring it costs one pass (`evaluators.records.check_masks`).
    """
    global _LAST_OVERLAP
    h, w = a["size"]
    if list(b["size"]) != [h, w]:
        raise ValueError(f"RLE sizes differ: {a['size']} and {b['size']}")
    ca, cb = a["counts"], b["counts"]
    last = _LAST_OVERLAP
    if last[0] is ca and last[1] is cb and last[2] == h * w:
        return last[3]
    if _OVERLAP is None:
        totals = []
        for index, counts in enumerate((ca, cb)):
            try:
                totals.append(int(counts_totals([counts])[0]))
            except CountsError as exc:
                raise CountsError(index, str(exc)) from None
        result = None
    else:
        try:
            inter, area_a, area_b, *totals = _OVERLAP(ca, cb)
        except ValueError as exc:
            if len(exc.args) == 2:  # (which string, reason)
                raise CountsError(*exc.args) from None
            raise
        result = int(inter), int(area_a), int(area_b)
    for index, total in enumerate(totals):
        if total != h * w:
            raise CountsError(
                index, f"compressed RLE 'counts' cover {total} pixels, expected {h}*{w}={h * w}"
            )
    if result is None:
        result = overlap_pycocotools(a, b)
    _LAST_OVERLAP = (ca, cb, h * w, result)
    return result


def overlap_pycocotools(a: RLE, b: RLE) -> tuple[int, int, int]:
    """`overlap` with pycocotools ``area`` and ``merge`` (the reference of the C pass; tested equal)."""
    pa, pb = to_pycoco(a), to_pycoco(b)
    area_a, area_b = (int(v) for v in _mask.area([pa, pb]))
    if area_a == 0 or area_b == 0:
        return 0, area_a, area_b
    return int(_mask.area(_mask.merge([pa, pb], intersect=True))), area_a, area_b


def intersection_union(a: RLE, b: RLE) -> tuple[int, int]:
    """``(|a AND b|, |a OR b|)`` in pixels, computed on the RLEs."""
    inter, area_a, area_b = overlap(a, b)
    return inter, area_a + area_b - inter


def from_polygons(polygons: Iterable[Sequence[float]], height: int, width: int) -> RLE:
    """Rasterise a COCO polygon list (several parts allowed; parts are OR-ed, never summed)."""
    height, width = _check_size([height, width])
    parts = [list(map(float, p)) for p in polygons if len(p) >= 6]
    if not all(np.isfinite(p).all() for p in parts):
        raise ValueError("polygon coordinates must be finite numbers")
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
