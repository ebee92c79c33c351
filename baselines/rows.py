"""The unified rows (docs/formats.md#the-unified-row) of a built dataset, as the baselines read them.

Thin layer over `datasets_builders.reading` (pyarrow only, streamed by batches) that adds
`count_rows` (from the Parquet footers, for progress bars).
"""

from __future__ import annotations

from pathlib import Path

from datasets_builders.reading import iter_rows, list_configs, shard_paths

__all__ = ["count_rows", "iter_rows", "list_configs", "shard_paths"]


def count_rows(data_dir: str | Path, config: str, split: str) -> int:
    """Number of rows of one config/split, read from the Parquet footers (nothing decoded)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in shard_paths(data_dir, config, split))
