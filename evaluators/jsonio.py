"""JSON decoding: orjson when installed (several times faster on long mask strings), else the stdlib.

orjson rejects the non-standard ``NaN`` / ``Infinity`` literals that Python's json writes; such text
is re-read with the stdlib so that validation can name the offending field instead of failing on syntax.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the install
    orjson = None

__all__ = ["JSONDecodeError", "loads"]

JSONDecodeError = json.JSONDecodeError


def loads(text: bytes | str) -> Any:
    """Decode one JSON document (raises `json.JSONDecodeError` or `UnicodeDecodeError`)."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # fall through: the stdlib accepts NaN literals and gives the standard error
    return json.loads(text)
