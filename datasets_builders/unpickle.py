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

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        raise pickle.UnpicklingError(f"refused global {module}.{name} (only builtin containers and scalars)")


def _to_text(obj: Any) -> Any:
    """Recursively decode ``bytes`` to ``str`` (latin1) inside lists, tuples and dicts."""
    if isinstance(obj, bytes):
        return obj.decode("latin1")
    if isinstance(obj, dict):
        return {_to_text(k): _to_text(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_text(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_text(v) for v in obj)
    return obj


def loads_restricted(data: bytes, name: str = "<pickle>") -> Any:
    """Unpickle ``data`` admitting only builtin containers and scalars; `InputError` otherwise."""
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise InputError(f"{name}: unsafe or corrupt pickle: {exc}") from None
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, MemoryError) as exc:
        raise InputError(f"{name}: corrupt pickle: {type(exc).__name__}: {exc}") from None
    return _to_text(obj)


def load_pickle(path: str | Path) -> Any:
    """Read one pickle file with `loads_restricted`; errors name the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return loads_restricted(data, str(path))
