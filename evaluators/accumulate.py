"""Exact, order-independent accumulation of per-expression contributions.

Every metric is a function of sums (counts, pixel sums, sums of per-expression IoU). Floats are summed
exactly (as integers scaled by 2**1100, which holds every finite float64 exactly), so scoring parts of
a split and merging the states gives bit-for-bit the one-shot result, in any order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = ["ExactSum", "Sums", "divide"]

_SCALE_BITS = 1100


class ExactSum:
    """A sum of ints and floats with no rounding; NaN inputs are counted and make the value NaN."""

    __slots__ = ("_nan", "_num")

    def __init__(self, value: float | int = 0):
        self._num = 0
        self._nan = 0
        if value:
            self.add(value)

    def add(self, value: float | int) -> None:
        if isinstance(value, int):
            self._num += value << _SCALE_BITS
            return
        value = float(value)
        if math.isnan(value):
            self._nan += 1
            return
        if math.isinf(value):
            raise ValueError("cannot accumulate an infinite contribution")
        num, den = value.as_integer_ratio()
        self._num += num << (_SCALE_BITS - (den.bit_length() - 1))

    def merge(self, other: ExactSum) -> None:
        self._num += other._num
        self._nan += other._nan

    @property
    def is_nan(self) -> bool:
        return self._nan > 0

    def ratio(self, denominator: int | ExactSum) -> float:
        """``self / denominator`` correctly rounded; NaN if either is NaN or the denominator is 0."""
        if isinstance(denominator, ExactSum):
            if self._nan or denominator._nan or denominator._num == 0:
                return math.nan
            return self._num / denominator._num
        if self._nan or denominator == 0:
            return math.nan
        return self._num / (denominator << _SCALE_BITS)

    def __float__(self) -> float:
        return math.nan if self._nan else self._num / (1 << _SCALE_BITS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactSum) and (self._num, self._nan) == (other._num, other._nan)

    def __repr__(self) -> str:
        return f"ExactSum({float(self)!r})"


class Sums:
    """Named exact sums: the state of a metric. ``add`` a contribution mapping, ``merge`` another state.

    Integer fields (counts, pixel sums) are kept as Python ints, float fields as `ExactSum`.
    """

    __slots__ = ("floats", "ints")

    def __init__(self) -> None:
        self.ints: dict[str, int] = {}
        self.floats: dict[str, ExactSum] = {}

    def add(self, contribution: Mapping[str, float | int]) -> None:
        ints, floats = self.ints, self.floats
        for key, value in contribution.items():
            if type(value) is int or type(value) is bool:
                ints[key] = ints.get(key, 0) + value
            else:
                acc = floats.get(key)
                if acc is None:
                    acc = floats[key] = ExactSum()
                acc.add(value)

    def merge(self, other: Sums) -> None:
        for key, value in other.ints.items():
            self.ints[key] = self.ints.get(key, 0) + value
        for key, acc in other.floats.items():
            mine = self.floats.get(key)
            if mine is None:
                mine = self.floats[key] = ExactSum()
            mine.merge(acc)

    def __getitem__(self, key: str) -> ExactSum:
        out = ExactSum(self.ints.get(key, 0))
        if key in self.floats:
            out.merge(self.floats[key])
        return out

    def count(self, key: str) -> int:
        """An integer-valued field as int (counts)."""
        if key in self.floats:
            return round(float(self[key]))
        return self.ints.get(key, 0)

    @classmethod
    def total(cls, parts: Iterable[Sums]) -> Sums:
        out = cls()
        for part in parts:
            out.merge(part)
        return out


def divide(numerator: ExactSum, denominator: ExactSum | int, scale: float = 100.0) -> float | None:
    """``scale * numerator / denominator`` or ``None`` when the denominator is empty (zero).

    NaN (from NaN contributions, as officially propagated) is returned as NaN; the results writer turns
    it into ``null`` with a note.
    """
    den_zero = (float(denominator) == 0) if isinstance(denominator, ExactSum) else denominator == 0
    if den_zero:
        return None
    return scale * numerator.ratio(denominator)
