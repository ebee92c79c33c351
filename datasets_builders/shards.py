"""Write one Parquet shard: the worker job of a build (runs in the main process or a pool worker).

A `ShardJob` names a slice of one source's refs; the worker loads the source once per process
(`layouts.config_refs` / `layouts.config_coco`, cached), turns the refs into unified rows and streams them to Parquet in row groups
of ``batch_rows`` rows, so no more than one batch of masks is ever held in memory. This module does
not import `datasets` (pool workers start fast).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datasets_builders.rows import ref_rows
from evaluators.errors import InputError

__all__ = ["ShardJob", "ShardStats", "write_shard"]


@dataclass(frozen=True)
class ShardJob:
    """Rows of ``refs[start:stop]`` of ``source_config`` (only those of ``split`` whose image is not in
    ``skip_images``) -> ``path``. ``config``/``expr_prefix`` name the built config (``refmix_train``)."""

    source: str
    source_config: str
    config: str
    split: str
    ref_indices: tuple[int, ...]
    path: str
    schema: pa.Schema
    expr_prefix: str
    images_dir: str | None = None
    batch_rows: int = 1000
    layout: str = "official"
    image_root: str | None = None  # not embedding: the ``image`` column's path is image_root/file_name


@dataclass
class ShardStats:
    config: str
    split: str
    path: str
    rows: int = 0
    refs: int = 0
    no_target: int = 0
    multi_target: int = 0
    num_bytes: int = 0
    image_ids: tuple[int, ...] = ()


def _image_value(images_dir: str, file_name: str, where: str) -> dict[str, Any]:
    """The image bytes of ``images_dir / file_name``; refused when the resolved path (symlinks
    followed) leaves the images folder."""
    root = Path(images_dir).resolve()
    path = Path(images_dir) / file_name
    if not path.resolve().is_relative_to(root):
        raise InputError(f"{where}: file_name: {file_name!r} resolves outside the images folder {root}")
    try:
        return {"bytes": path.read_bytes(), "path": file_name}
    except OSError as exc:
        raise InputError(f"{where}: file_name: cannot read image {path}: {exc}") from None


def write_shard(job: ShardJob, progress: Callable[[int], None] | None = None) -> ShardStats:
    """Build and write one shard; returns its counts. ``progress(n)`` is called after each batch."""
    from datasets_builders.layouts import config_coco, config_refs, spec_for

    source = Path(job.source)
    spec = spec_for(job.source_config)
    refs_path, refs = config_refs(source, job.layout, job.source_config)
    coco = config_coco(source, job.layout, job.source_config)
    stats = ShardStats(job.config, job.split, job.path)
    images: set[int] = set()
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(job.path, job.schema, compression="zstd") as writer:

        def flush() -> None:
            table = pa.Table.from_pylist(batch, schema=job.schema)
            stats.num_bytes += table.nbytes
            writer.write_table(table)
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for index in job.ref_indices:
            ref = refs[index]
            where = f"{refs_path}:[{index}] ref_id={ref.ref_id}"
            rows = ref_rows(ref, coco, spec, where, config=job.config, expr_prefix=job.expr_prefix)
            stats.refs += 1
            for row in rows:
                if job.images_dir is not None:
                    row["image"] = _image_value(job.images_dir, row["file_name"], where)
                elif job.image_root is not None:
                    row["image"] = {"bytes": None, "path": f"{job.image_root}/{row['file_name']}"}
                stats.rows += 1
                stats.no_target += row["no_target"]
                stats.multi_target += row["target_type"] == "multi"
                images.add(row["image_id"])
                batch.append(row)
                if len(batch) >= job.batch_rows:
                    flush()
        if batch or stats.rows == 0:
            flush()
    stats.image_ids = tuple(sorted(images))
    return stats
