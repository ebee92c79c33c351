"""The results JSON of PREDICTIONS.md section 4 and the small stdout table."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["clean_metrics", "format_table", "write_json_atomic", "write_jsonl_atomic"]

# Display names live only in rendering code ("gIoU" here is mean IoU, not generalized IoU).
DISPLAY = {
    "miou": "mIoU",
    "oiou": "oIoU",
    "giou": "gIoU",
    "ciou": "cIoU",
    "n_acc": "N-acc",
    "t_acc": "T-acc",
    "f1_score": "F1score",
    "acc": "Acc",
    "mrr": "mRR",
    "riou": "rIoU",
    "cover_acc": "CoverAcc",
}


def clean_metrics(metrics: dict[str, float | None]) -> tuple[dict[str, float | None], list[str]]:
    """Replace NaN (propagated as officially) by ``None``; return the names that were NaN."""
    out, nan = {}, []
    for key, value in metrics.items():
        if value is not None and math.isnan(value):
            nan.append(key)
            value = None
        out[key] = value
    return out, nan


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def format_table(metrics: dict[str, float | None], title: str = "") -> str:
    """A two-row fixed-width table of metric display names and values (2 decimals; ``-`` for null)."""
    names = [DISPLAY.get(k, k) for k in metrics]
    values = ["-" if v is None else f"{v:.2f}" for v in metrics.values()]
    widths = [max(len(n), len(v)) for n, v in zip(names, values)]
    head = "  ".join(n.rjust(w) for n, w in zip(names, widths))
    body = "  ".join(v.rjust(w) for v, w in zip(values, widths))
    return "\n".join(([title] if title else []) + [head, body])


def _atomic_write(path: str | Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, data: Any) -> None:
    _atomic_write(path, lambda f: (json.dump(data, f, indent=2, allow_nan=False), f.write("\n")))


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    def write(f):
        for row in rows:
            clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            f.write(json.dumps(clean, allow_nan=False) + "\n")

    _atomic_write(path, write)
