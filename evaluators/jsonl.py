"""JSON lines and JSON lists of records: one reader and one atomic writer for every vgbench file of
that shape (answers, targets rows, dumps, logs, per-sample scores).

`iter_json_items` reads ``.jsonl`` (one JSON value per non-blank line) or ``.json`` (a list, or an
object holding the list under one of ``list_keys``), each optionally ``.gz``, and yields
``(where, value)`` with ``where`` = ``file:line`` or ``file:[index]``, so that callers name the record
in their errors. Every defect is an `InputError` naming the file (and the line). The evaluator's own
predictions reader (`evaluators.readers.PredictionsFile`) keeps its indexed fast path and is not built
on this module.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from evaluators import jsonio
from evaluators.atomic import atomic_file
from evaluators.errors import InputError

__all__ = ["dump_jsonl", "iter_json_items", "open_text", "read_jsonl", "strip_gz", "write_jsonl_atomic"]


def strip_gz(path: str | Path) -> str:
    """The file name without a final ``.gz`` (``a.jsonl.gz`` -> ``a.jsonl``)."""
    name = Path(path).name
    return name[:-3] if name.endswith(".gz") else name


def open_text(path: str | Path) -> IO[str]:
    """``path`` opened for reading as UTF-8 text, through gzip when its name ends in ``.gz``."""
    if Path(path).name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_json_items(
    path: str | Path, *, list_keys: Sequence[str] = (), expected: str = "a JSON list"
) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` per JSON line (``.jsonl``) or per element of a ``.json`` list (see the module
    docstring). ``expected`` completes the error for a ``.json`` file that holds no list."""
    path = Path(path)
    try:
        with open_text(path) as f:
            if strip_gz(path).endswith(".json"):
                data = jsonio.loads(f.read())
                if isinstance(data, dict):
                    data = next((data[k] for k in list_keys if k in data), data)
                if not isinstance(data, list):
                    raise InputError(f"{path}: expected {expected}")
                for i, item in enumerate(data):
                    yield f"{path}:[{i}]", item
                return
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        value = jsonio.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}:{lineno}: not valid JSON: {exc}") from None
                    yield f"{path}:{lineno}", value
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def read_jsonl(path: str | Path) -> list[Any]:
    """Every value of a JSON-lines (or ``.json`` list) file, in order; `InputError` on a defect."""
    return [value for _, value in iter_json_items(path)]


def _null_nan(row: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def dump_jsonl(rows: Iterable[dict[str, Any]]):
    """A writer (for `evaluators.atomic.write_atomic_group`) of one compact JSON object per line; a
    top-level NaN value becomes ``null``, any other NaN or infinity raises ``ValueError``."""

    def write(f: IO[str]) -> None:
        for row in rows:
            f.write(json.dumps(_null_nan(row), allow_nan=False) + "\n")

    return write


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]], *, option: str = "output") -> None:
    """Write ``rows`` as JSON lines (`dump_jsonl`), atomically."""
    with atomic_file(path, "w", option=option) as f:
        dump_jsonl(rows)(f)
