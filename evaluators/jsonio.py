"""JSON decoding: orjson when installed (several times faster on long mask strings), else the stdlib.

orjson rejects the non-standard ``NaN`` / ``Infinity`` literals that Python's json writes; such text
is re-read with the stdlib so that validation can name the offending field instead of failing on syntax.
Every failure is a `json.JSONDecodeError` (or `UnicodeDecodeError`): nesting deeper than the decoder
allows (orjson: 1024 levels) and integers beyond Python's 4300-digit limit included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the install
    orjson = None

__all__ = ["JSONDecodeError", "load_json", "loads", "read_json_file"]

JSONDecodeError = json.JSONDecodeError


def loads(text: bytes | str) -> Any:
    """Decode one JSON document (raises `json.JSONDecodeError` or `UnicodeDecodeError`, nothing else)."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # fall through: the stdlib accepts NaN literals and gives the standard error
    try:
        return json.loads(text)
    except JSONDecodeError:
        raise
    except RecursionError:
        raise JSONDecodeError("nesting too deep", "", 0) from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise JSONDecodeError(str(exc).splitlines()[0] if str(exc) else "invalid number", "", 0) from None


def load_json(data: bytes | str, name: str | Path) -> Any:
    """`loads`, a defect raised as `InputError` ``<name>: not valid JSON: ...``."""
    try:
        return loads(data)
    except (JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not valid JSON: {exc}") from None


def read_json_file(path: str | Path) -> Any:
    """One whole JSON file; `InputError` ``<path>: cannot read: ...`` or ``<path>: not valid JSON: ...``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return load_json(data, path)
