"""Exact, order-independent accumulation of per-expression contributions.

Every metric is a function of sums (counts, pixel sums, sums of per-expression IoU). Floats are summed
exactly (as integers scaled by 2**1100, which holds every finite float64 exactly), so scoring parts of
a split and merging the states gives bit-for-bit the one-shot result, in any order.

A state only holds the fields its protocol declares (`declare_state`: name -> `COUNT` or `SUM`), as
torchmetrics' ``add_state``: a misspelt field raises `StateFieldError` instead of reading 0.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from evaluators.errors import StateFieldError

__all__ = ["COUNT", "KINDS", "SUM", "ExactSum", "StateFieldError", "Sums", "declare_state", "divide"]

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

    def add_floats(self, values: Sequence[float]) -> None:
        """``add`` of each of ``values`` (Python floats), with the same result: exact sums per power-of-two
        denominator first, then one shift per distinct denominator."""
        try:
            ratios = list(map(float.as_integer_ratio, values))
        except (ValueError, OverflowError):  # NaN or infinity among them
            for value in values:
                self.add(value)
            return
        by_den: dict[int, int] = {}
        for num, den in ratios:
            by_den[den] = by_den.get(den, 0) + num
        for den, num in by_den.items():
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


COUNT = "count"
"""Kind of an integer-valued state field (expressions, hits, pixels): read with `Sums.count`."""
SUM = "sum"
"""Kind of a real-valued state field (sums of IoU, fractions): read as an `ExactSum` with ``sums[key]``."""
KINDS = (COUNT, SUM)


def declare_state(counts: Iterable[str] = (), sums: Iterable[str] = ()) -> Mapping[str, str]:
    """A protocol's declared state: ``{field: COUNT | SUM}`` (read-only). A name may appear once."""
    out: dict[str, str] = {}
    for kind, names in ((COUNT, counts), (SUM, sums)):
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"a state field name must be a non-empty string, got {name!r}")
            if name in out:
                raise ValueError(f"state field {name!r} declared twice")
            out[name] = kind
    return MappingProxyType(out)


class Sums:
    """Named exact sums over declared fields: the state of a metric. ``add`` a contribution mapping,
    ``merge`` another state of the same fields.

    ``fields`` maps every field to its kind (`COUNT` or `SUM`, see `declare_state`); adding or reading any
    other name raises `StateFieldError`, so a misspelt field is an error, never a silent 0. A field that
    was declared but never added reads as 0. Integer values are kept as Python ints, others as `ExactSum`.
    """

    __slots__ = ("_counts", "_floats", "_ints", "_layouts", "_names", "fields", "owner")

    _FLUSH_AT = 1024  # contributions of one layout held before they are summed (memory stays flat)

    def __init__(self, fields: Mapping[str, str], owner: str = "this state") -> None:
        self.fields = fields
        self.owner = owner
        self._ints: dict[str, int] = {}
        self._floats: dict[str, ExactSum] = {}
        # (field names, value types) of a checked contribution layout -> its value tuples not summed yet
        self._layouts: dict[tuple[tuple, tuple], list[tuple]] = {}
        self._names = fields.keys()
        self._counts = frozenset(name for name, kind in fields.items() if kind == COUNT)

    @property
    def ints(self) -> dict[str, int]:
        """The integer sums so far, by field."""
        self._flush()
        return self._ints

    @property
    def floats(self) -> dict[str, ExactSum]:
        """The other sums so far, by field."""
        self._flush()
        return self._floats

    def __getstate__(self) -> tuple:
        """Picklable (scoring in worker processes): the fields as a plain dict, the sums as they are."""
        return dict(self.fields), self.owner, self.ints, self.floats

    def __setstate__(self, state: tuple) -> None:
        fields, owner, ints, floats = state
        self.__init__(MappingProxyType(fields), owner)
        self._ints, self._floats = ints, floats

    def _undeclared(self, key: object) -> StateFieldError:
        close = difflib.get_close_matches(str(key), list(self.fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        declared = ", ".join(self.fields) or "none"
        return StateFieldError(f"{self.owner} has no state field {key!r}{hint} (declared: {declared})")

    def add(self, contribution: Mapping[str, float | int]) -> None:
        """Add a contribution ``{field: value}``: an undeclared field raises `StateFieldError`, a
        non-integer value of a `COUNT` field ``TypeError``, at once.

        The fields and value types of a contribution (its layout) are checked the first time they are
        seen; later contributions of a checked layout are held as value tuples and summed a column at a
        time (`_flush`, before any read), which gives the same sums for a fraction of the work."""
        values = tuple(contribution.values())
        held = self.held(tuple(contribution), tuple(map(type, values)))
        if held is None:
            if not self._names >= contribution.keys():
                raise self._undeclared(next(key for key in contribution if key not in self.fields))
            self._add_now(contribution)  # a count given as another type: its value is checked
            return
        held.append(values)
        self.flush_if_full(held)

    def held(self, keys: tuple[str, ...], kinds: tuple[type, ...]) -> list[tuple] | None:
        """The list `add` holds the value tuples of contributions with fields ``keys`` and value types
        ``kinds`` in (for a caller that builds such tuples itself: append, then call `flush_if_full`), or
        ``None`` when `add` would not hold that layout (an undeclared field, a count of another type)."""
        layout = (keys, kinds)
        held = self._layouts.get(layout)
        if held is None:
            if not self._names >= set(keys):  # one set comparison, not a lookup per field
                return None
            counts = self._counts
            if any(key in counts and kind is not int and kind is not bool for key, kind in zip(keys, kinds)):
                return None
            held = self._layouts[layout] = []
        return held

    def flush_if_full(self, held: list[tuple]) -> None:
        """Sum the held contributions once ``held`` (from `held`) reached `_FLUSH_AT` (memory stays flat)."""
        if len(held) >= self._FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        """Sum the held contributions into ``_ints`` / ``_floats``."""
        ints, floats = self._ints, self._floats
        for (keys, kinds), held in self._layouts.items():
            if not held:
                continue
            columns = list(zip(*held))
            held.clear()
            for key, kind, column in zip(keys, kinds, columns):
                if kind is int or kind is bool:
                    ints[key] = ints.get(key, 0) + sum(column)
                    continue
                acc = floats.get(key)
                if acc is None:
                    acc = floats[key] = ExactSum()
                if kind is float:
                    acc.add_floats(column)
                else:
                    for value in column:
                        acc.add(value)

    def _add_now(self, contribution: Mapping[str, float | int]) -> None:
        ints, floats = self._ints, self._floats
        for key, value in contribution.items():
            if type(value) is int or type(value) is bool:
                ints[key] = ints.get(key, 0) + value
            else:
                if key in self._counts and not (math.isnan(value) or float(value).is_integer()):
                    raise TypeError(f"{self.owner}: count field {key!r} got the non-integer value {value!r}")
                acc = floats.get(key)
                if acc is None:
                    acc = floats[key] = ExactSum()
                acc.add(value)

    def merge(self, other: Sums) -> None:
        if other.fields is not self.fields and dict(other.fields) != dict(self.fields):
            raise StateFieldError(f"cannot merge states of different fields into {self.owner}")
        ints, floats = self.ints, self.floats  # each property read flushes: once here, not per key
        for key, value in other.ints.items():
            ints[key] = ints.get(key, 0) + value
        for key, acc in other.floats.items():
            mine = floats.get(key)
            if mine is None:
                mine = floats[key] = ExactSum()
            mine.merge(acc)

    def __getitem__(self, key: str) -> ExactSum:
        if key not in self.fields:
            raise self._undeclared(key)
        out = ExactSum(self.ints.get(key, 0))
        if key in self.floats:
            out.merge(self.floats[key])
        return out

    def count(self, key: str) -> int:
        """A `COUNT` field as int."""
        kind = self.fields.get(key)
        if kind is None:
            raise self._undeclared(key)
        if kind != COUNT:
            raise StateFieldError(
                f"{self.owner}: state field {key!r} is a {kind}, not a count; read it as sums[key]"
            )
        if key in self.floats:
            return round(float(self[key]))
        return self.ints.get(key, 0)


def divide(numerator: ExactSum, denominator: ExactSum | int, scale: float = 100.0) -> float | None:
    """``scale * numerator / denominator`` or ``None`` when the denominator is empty (zero).

    NaN (from NaN contributions, as officially propagated) is returned as NaN; the results writer turns
    it into ``null`` with a note.
    """
    den_zero = (float(denominator) == 0) if isinstance(denominator, ExactSum) else denominator == 0
    if den_zero:
        return None
    return scale * numerator.ratio(denominator)
