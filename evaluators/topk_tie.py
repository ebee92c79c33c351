"""Which index CPU ``torch.topk(values, 1)`` returns, reproduced without torch (exact ties and NaN).

The official gRefCOCO evaluation matches boxes greedily with ``torch.topk(giou.flatten(), 1)``; on
exact ties (common: zeroed rows and columns, repeated boxes) the chosen entry decides which row and
column are zeroed next, so the rule matters. PyTorch's CPU kernel (``aten/src/ATen/native/TopKImpl.h``)
fills a queue of ``(value, index)`` pairs in index order and, for ``largest=True``, orders them with
``comp(x, y) = (isnan(x) and not isnan(y)) or x > y``:

- ``k * 64 <= n``: ``std::partial_sort(first, first + 1, last, comp)``, i.e. a heap select that replaces
  the kept element only by a strictly greater one -> the **first maximum** (NaN ranks highest, the first
  NaN wins);
- otherwise ``std::nth_element(first, first, last, comp)``: libstdc++'s introselect (median-of-three
  pivot moved to the front, unguarded partition, heap select when the depth limit ``2 * floor(log2 n)``
  runs out, final insertion sort on at most 3 elements) and ``queue[0]`` is returned.

This module re-implements those libstdc++ algorithms on a list of (value, index) pairs.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["first_maximum", "topk1_index"]

PARTIAL_SORT_FACTOR = 64


def _greater(x: float, y: float) -> bool:
    """PyTorch's ``largest=True`` comparator: NaN above everything, then ``>``."""
    return (math.isnan(x) and not math.isnan(y)) or x > y


def first_maximum(values: np.ndarray) -> int:
    nan = np.flatnonzero(np.isnan(values))
    return int(nan[0]) if nan.size else int(np.argmax(values))


def _heap_select_first(q: list, first: int, last: int) -> None:
    """``std::__heap_select(first, first + 1, last)``: keep in ``q[first]`` the first strict maximum."""
    for i in range(first + 1, last):
        if _greater(q[i][0], q[first][0]):
            q[i], q[first] = q[first], q[i]


def _move_median_to_first(q: list, result: int, a: int, b: int, c: int) -> None:
    va, vb, vc = q[a][0], q[b][0], q[c][0]
    if _greater(va, vb):
        if _greater(vb, vc):
            pick = b
        elif _greater(va, vc):
            pick = c
        else:
            pick = a
    elif _greater(va, vc):
        pick = a
    elif _greater(vb, vc):
        pick = c
    else:
        pick = b
    q[result], q[pick] = q[pick], q[result]


def _unguarded_partition(q: list, first: int, last: int, pivot: int) -> int:
    pv = q[pivot][0]
    while True:
        while _greater(q[first][0], pv):
            first += 1
        last -= 1
        while _greater(pv, q[last][0]):
            last -= 1
        if not first < last:
            return first
        q[first], q[last] = q[last], q[first]
        first += 1


def _insertion_sort(q: list, first: int, last: int) -> None:
    for i in range(first + 1, last):
        item = q[i]
        if _greater(item[0], q[first][0]):
            q[first + 1 : i + 1] = q[first:i]
            q[first] = item
        else:
            j = i
            while _greater(item[0], q[j - 1][0]):
                q[j] = q[j - 1]
                j -= 1
            q[j] = item


def _nth_element_first(q: list) -> None:
    """libstdc++ ``std::nth_element(begin, begin, end, comp)`` (``std::__introselect``)."""
    first, last, nth = 0, len(q), 0
    depth = 2 * (len(q).bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select_first(q, first, last)  # heap select of nth + 1 = first + 1 elements
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(q, first, first + 1, mid, last - 1)
        cut = _unguarded_partition(q, first + 1, last, first)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last)


def topk1_index(values: np.ndarray) -> int:
    """Index that CPU ``torch.topk(torch.as_tensor(values), 1).indices[0]`` returns for a 1-D array.

    Exact for float32 inputs (PyTorch compares them in double, which preserves their order).
    """
    flat = np.asarray(values).reshape(-1)
    n = flat.size
    if n == 0:
        raise ValueError("topk1_index of an empty array")
    if n >= PARTIAL_SORT_FACTOR:
        return first_maximum(flat)
    nan = np.isnan(flat)
    n_nan = int(nan.sum())
    if n_nan == 1:  # a unique top element: every selection algorithm returns it
        return int(np.flatnonzero(nan)[0])
    if n_nan == 0:
        top = int(np.argmax(flat))
        if int((flat == flat[top]).sum()) == 1:
            return top
    queue = [(float(v), i) for i, v in enumerate(flat.tolist())]
    _nth_element_first(queue)
    return queue[0][1]
