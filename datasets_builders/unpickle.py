"""Load untrusted pickles (the official ``refs(*).p`` files) without running code.

The refs files are Python-2 pickles (protocol 2) of lists of dicts holding only builtin containers
and scalars. Those are built by pickle opcodes that never look up a global, so a `pickle.Unpickler`
whose `find_class` refuses *every* global admits exactly them; anything that would import or call
something (``os.system``, ``builtins.eval``, any class) is refused before it runs.
Python-2 ``str`` objects are read as ``latin1`` text; stray ``bytes`` are decoded to ``str``.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

__all__ = ["RestrictedUnpickler", "load_pickle", "loads_restricted"]


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global (class, function, module attribute)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused global {module}.{name} (only builtin containers and scalars)")


MAX_DEPTH = 32
"""Deepest container nesting accepted (a refs file nests 4 levels: list, ref, sentences, tokens)."""
MAX_NODES = 20_000_000
"""Most values a pickle may expand to when walked as a tree (the largest official refs file, RefCOCOg,
expands to about 2 million). Shared references count once per reference, so a few hundred bytes of
pickle that reference one list from many places cannot make the build walk billions of values."""


def _to_text(obj: Any, name: str = "<pickle>") -> Any:
    """Decode ``bytes`` to ``str`` (latin1) inside lists, tuples and dicts.

    Each container is converted once (shared references stay shared, so the work is linear in the
    pickle); `InputError` when nesting exceeds `MAX_DEPTH` (cycles included) or the tree the
    pickle describes exceeds `MAX_NODES` values.
    """
    memo: dict[int, tuple[Any, int]] = {}  # id -> (converted, tree size)

    def convert(value: Any, depth: int) -> tuple[Any, int]:
        if isinstance(value, bytes):
            return value.decode("latin1"), 1
        if not isinstance(value, (dict, list, tuple)):
            return value, 1
        key = id(value)
        if key in memo:
            return memo[key]
        if depth >= MAX_DEPTH:
            raise InputError(f"{name}: containers nested deeper than {MAX_DEPTH} levels (or a cycle)")
        size = 1
        if isinstance(value, dict):
            out: Any = {}
            for k, v in value.items():
                ck, nk = convert(k, depth + 1)
                cv, nv = convert(v, depth + 1)
                out[ck] = cv
                size += nk + nv
        else:
            items = []
            for v in value:
                cv, nv = convert(v, depth + 1)
                items.append(cv)
                size += nv
            out = items if isinstance(value, list) else tuple(items)
        if size > MAX_NODES:
            raise InputError(
                f"{name}: the pickle expands to more than {MAX_NODES:,} values (shared references)"
            )
        memo[key] = (out, size)
        return out, size

    return convert(obj, 0)[0]


def loads_restricted(data: bytes, name: str = "<pickle>") -> Any:
    """Unpickle ``data`` admitting only builtin containers and scalars; `InputError` otherwise."""
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise InputError(f"{name}: unsafe or corrupt pickle: {exc}") from None
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, MemoryError) as exc:
        raise InputError(f"{name}: corrupt pickle: {type(exc).__name__}: {str(exc)[:200]}") from None
    return _to_text(obj, name)


def load_pickle(path: str | Path) -> Any:
    """Read one pickle file with `loads_restricted`; errors name the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return loads_restricted(data, str(path))
