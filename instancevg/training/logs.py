"""The JSON-lines training log ``RUN/log.jsonl``: one object per line, appended and flushed at once.

Events (``event`` key): ``start`` (config, options, world size), ``step`` (every ``log_every``
optimizer steps: ``epoch``, ``step``, ``lr`` per group, ``loss`` and each named loss term of the
step), ``epoch`` (mean of every loss term over the epoch, seconds), ``eval`` (``split``, ``metrics``
as ``{task: {key: value}}``, ``predictions`` path), ``stop`` (``reason``: ``done`` or
``time_budget``). A resumed run appends to the same file, starting with a ``resume`` event.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from evaluators.jsonl import read_jsonl

__all__ = ["JsonlLog", "read_log"]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class JsonlLog:
    """Append-only JSON-lines writer; a disabled log (non-main ranks) writes nothing."""

    def __init__(self, path: str | Path, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled
        self._file = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, event: str, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **_clean(fields)}
        self._file.write(json.dumps(record, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """All records of a ``log.jsonl`` (for plots and tests)."""
    return read_jsonl(path)
