"""Write the evaluator's targets file (docs/formats.md#targets-file) from a built dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datasets_builders.reading import iter_rows
from datasets_builders.schema import FIXED_COLUMNS
from evaluators.jsonl import write_jsonl_atomic

__all__ = ["export_targets"]


def export_targets(data_dir: str | Path, config: str, split: str, out: str | Path) -> int:
    """Write the unified rows (fixed columns, no image bytes) of one config/split as JSON lines.

    Written atomically (temp file, then rename). Returns the number of rows written.
    """
    count = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in iter_rows(data_dir, config, split, columns=FIXED_COLUMNS):
            count += 1
            yield row

    write_jsonl_atomic(out, rows())
    return count
