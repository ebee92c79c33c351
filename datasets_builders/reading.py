"""Read a built dataset with pyarrow only: configs, splits and unified rows as plain dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

__all__ = ["iter_rows", "list_configs", "read_manifest", "shard_paths"]

_SHARD = re.compile(r"^(?P<split>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})\.parquet$")


def read_manifest(data_dir: str | Path) -> dict[str, Any]:
    """``vgbench_build.json`` of a build ({} when absent)."""
    path = Path(data_dir) / "vgbench_build.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the build manifest: {exc}") from None


def list_configs(data_dir: str | Path) -> dict[str, list[str]]:
    """config -> splits of a built dataset (splits in the order the build wrote them)."""
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    if manifest.get("configs"):
        return {c: list(v["splits"]) for c, v in manifest["configs"].items()}
    root = data_dir / "data"
    if not root.is_dir():
        raise InputError(f"{data_dir}: not a built dataset (no data/ folder)")
    out: dict[str, list[str]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        splits = sorted({m["split"] for p in folder.glob("*.parquet") if (m := _SHARD.match(p.name))})
        if splits:
            out[folder.name] = splits
    return out


def shard_paths(data_dir: str | Path, config: str, split: str) -> list[Path]:
    """The Parquet shards of one config and split, in order; `InputError` if there are none."""
    folder = Path(data_dir) / "data" / config
    shards = sorted(
        p for p in folder.glob(f"{split}-*.parquet") if (m := _SHARD.match(p.name)) and m["split"] == split
    )
    if not shards:
        known = list_configs(data_dir) if (Path(data_dir) / "data").is_dir() else {}
        if config in known:  # a wrong split of a built config: name that config's splits
            import difflib

            close = difflib.get_close_matches(split, known[config], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{data_dir}: config {config!r} has no split {split!r}{hint} (its splits: {', '.join(known[config])})"
            )
        present = ", ".join(c + ":" + "/".join(s) for c, s in known.items()) or "none"
        raise InputError(f"{data_dir}: no shards for config {config!r} split {split!r} (present: {present})")
    return shards


def iter_rows(
    data_dir: str | Path, config: str, split: str, columns: Sequence[str] | None = None, batch_size: int = 512
) -> Iterator[dict[str, Any]]:
    """Unified rows of one config/split as plain dicts, streamed batch by batch (pyarrow)."""
    import pyarrow.parquet as pq

    for path in shard_paths(data_dir, config, split):
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types on corrupt files
            raise InputError(f"{path}: cannot read Parquet: {exc}") from None
        if columns is not None:
            missing = [c for c in columns if c not in pf.schema_arrow.names]
            if missing:
                raise InputError(f"{path}: no column(s) {', '.join(missing)}")
        for batch in pf.iter_batches(batch_size=batch_size, columns=list(columns) if columns else None):
            yield from batch.to_pylist()
