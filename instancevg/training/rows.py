"""Reading a built dataset (docs/formats.md#the-built-dataset) for training and prediction.

Thin layer over `datasets_builders.reading` / `datasets_builders.images`: rows are the unified rows
of docs/formats.md#the-unified-row in file order (shards, then rows), restricted to the columns training and
prediction need, plus the embedded ``image`` column when the build has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datasets_builders.images import open_image, resolve_images_dir
from datasets_builders.reading import iter_rows, list_configs, shard_paths

__all__ = ["PREDICT_COLUMNS", "TRAIN_COLUMNS", "list_splits", "load_rows", "open_image", "resolve_images_dir"]

# What training and prediction read; `image` is added when the build embedded the images.
TRAIN_COLUMNS = (
    "expr_id",
    "file_name",
    "height",
    "width",
    "sentence",
    "no_target",
    "targets",
    "mask",
)
# What prediction (and the per-epoch evaluation) reads: no targets, no masks.
PREDICT_COLUMNS = ("expr_id", "file_name", "height", "width", "sentence")


def list_splits(data_dir: str | Path, config: str) -> list[str]:
    """Splits of ``config`` in the built dataset ([] when the config is absent)."""
    return list(list_configs(data_dir).get(config, []))


def load_rows(
    data_dir: str | Path, config: str, split: str, columns: Sequence[str] = TRAIN_COLUMNS
) -> list[dict[str, Any]]:
    """All rows of one config/split as dicts with ``columns`` (+ ``image`` when embedded).

    Raises `InputError` naming the dataset when the config/split has no shards or lacks a column.
    """
    import pyarrow.parquet as pq

    wanted = list(columns)
    if "image" not in wanted and "image" in pq.read_schema(shard_paths(data_dir, config, split)[0]).names:
        wanted.append("image")
    return list(iter_rows(data_dir, config, split, columns=wanted))
