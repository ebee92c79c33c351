"""Reading the unified rows (DATA.md section 3) of a built dataset.

Uses ``datasets_builders.reading`` when it is installed (the builders' reader), else a pyarrow
reader of ``OUT/data/{config}/{split}-*.parquet`` with the same behaviour: plain Python dicts,
streamed batch by batch, shards in name order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

__all__ = ["count_rows", "iter_rows", "list_configs", "shard_files"]


def shard_files(data_dir: str | Path, config: str, split: str) -> list[Path]:
    """The Parquet shards of one config/split, sorted; `InputError` naming what exists if none."""
    root = Path(data_dir)
    shards = sorted((root / "data" / config).glob(f"{split}-*.parquet"))
    if not shards:
        present = list_configs(root)
        listing = ", ".join(f"{c}/{'|'.join(s)}" for c, s in sorted(present.items())) or "none"
        raise InputError(
            f"{root}: no Parquet shards for config {config!r} split {split!r} "
            f"(expected data/{config}/{split}-*.parquet; present: {listing})"
        )
    return shards


def list_configs(data_dir: str | Path) -> dict[str, list[str]]:
    """``{config: [splits]}`` of a built dataset (empty when nothing is built there)."""
    try:
        from datasets_builders.reading import list_configs as _list_configs
    except ImportError:
        _list_configs = None
    if _list_configs is not None:
        return _list_configs(data_dir)
    out: dict[str, list[str]] = {}
    data = Path(data_dir) / "data"
    if not data.is_dir():
        return out
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        splits = sorted({f.name.rsplit("-", 4)[0] for f in folder.glob("*.parquet")})
        if splits:
            out[folder.name] = splits
    return out


def count_rows(data_dir: str | Path, config: str, split: str) -> int:
    """Number of rows of one config/split, from the Parquet footers (nothing decoded)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in shard_files(data_dir, config, split))


def iter_rows(
    data_dir: str | Path, config: str, split: str, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Stream the rows of one config/split as dicts (only ``columns`` when given)."""
    try:
        from datasets_builders.reading import iter_rows as _iter_rows
    except ImportError:
        _iter_rows = None
    if _iter_rows is not None:
        shard_files(data_dir, config, split)  # the same error message whichever reader runs
        yield from _iter_rows(data_dir, config, split, columns=list(columns) if columns else None)
        return
    import pyarrow.parquet as pq

    for path in shard_files(data_dir, config, split):
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types on a corrupt file
            raise InputError(f"{path}: cannot read Parquet: {exc}") from None
        wanted = None
        if columns is not None:
            names = set(pf.schema_arrow.names)
            missing = [c for c in columns if c not in names]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            wanted = list(columns)
        for batch in pf.iter_batches(batch_size=256, columns=wanted):
            yield from batch.to_pylist()
