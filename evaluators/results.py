"""The results JSON of docs/formats.md#results-file and the small stdout table."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

__all__ = [
    "check_output_path",
    "check_output_paths",
    "clean_metrics",
    "format_table",
    "write_atomic_group",
    "write_json_atomic",
    "write_jsonl_atomic",
    "write_results",
]

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


def check_output_path(path: str | Path, option: str = "--out") -> Path:
    """Refuse, before any work, an output path that cannot be a file: an existing folder, or a path
    below an existing file. `InputError` naming the option and the path."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: {option}: is a folder, expected a file path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{path}: {option}: {parent} is a file, not a folder")
            break
    return path


def check_output_paths(paths: dict[str, str | Path | None]) -> None:
    """`check_output_path` for each given ``{option: path}``, and no two options on one file."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        resolved = check_output_path(path, option).resolve()
        if resolved in seen:
            raise InputError(f"{path}: {option} and {seen[resolved]} name the same file")
        seen[resolved] = option


def _dump_json(data: Any):
    return lambda f: (json.dump(data, f, indent=2, allow_nan=False), f.write("\n"))


def _dump_jsonl(rows: Iterable[dict[str, Any]]):
    def write(f):
        for row in rows:
            clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            f.write(json.dumps(clean, allow_nan=False) + "\n")

    return write


def write_atomic_group(items: list[tuple[str | Path, Any]]) -> None:
    """Write several files as one unit: each ``(path, write(f))`` goes to a temp file beside its
    target; only when all are written are they renamed into place, holding an exclusive lock on
    their folders, so two runs writing the same paths never leave files from different runs."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            path = check_output_path(path, "output")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            except OSError as exc:  # no permission, read-only file system, ...
                raise InputError(f"{path}: output: cannot write here: {exc.strerror or exc}") from None
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                write(f)
        with _locked_folders(sorted({str(p.parent.resolve()) for _, p in temps})):
            for tmp, path in temps:
                os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked_folders(folders: list[str]):
    """Exclusive ``flock`` on each folder (sorted order: no deadlock); a no-op where unsupported."""
    fds = []
    try:
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            fds.append(fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)  # closing releases the lock


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_atomic_group([(path, _dump_json(data))])


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    write_atomic_group([(path, _dump_jsonl(rows))])


def write_results(out: str | Path | None, results: Any, per_sample: str | Path | None, rows) -> None:
    """The results JSON and the per-sample JSON lines, committed together (`write_atomic_group`)."""
    items = []
    if per_sample:
        items.append((per_sample, _dump_jsonl(rows)))
    if out:
        items.append((out, _dump_json(results)))
    if items:
        write_atomic_group(items)
