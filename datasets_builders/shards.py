"""Write one Parquet shard: the worker job of a build (runs in the main process or a pool worker).

A `ShardJob` names a slice of one source's refs; the worker loads the source once per process
(`load_source`, cached), turns the refs into unified rows and streams them to Parquet in row groups
of ``batch_rows`` rows, so no more than one batch of masks is ever held in memory. This module does
not import `datasets` (pool workers start fast).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datasets_builders.coco import CocoIndex, load_instances
from datasets_builders.configs import CONFIGS
from datasets_builders.rows import ref_rows
from datasets_builders.sources import Ref, find_refs_file, read_refs
from evaluators.errors import InputError

__all__ = ["ShardJob", "ShardStats", "load_refs", "load_source", "write_shard"]


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


@functools.lru_cache(maxsize=4)
def load_refs(source: str, source_config: str) -> tuple[Path, list[Ref]]:
    """The refs file of a config under ``source`` and its normalised refs (cached per process)."""
    spec = CONFIGS[source_config]
    path = find_refs_file(spec, Path(source))
    if path is None:
        raise InputError(f"{Path(source) / spec.folder}: no refs file ({' or '.join(spec.refs_files)})")
    return path, read_refs(path, spec.kind)


@functools.lru_cache(maxsize=1)
def load_source(source: str, folder: str) -> CocoIndex:
    """The ``instances.json`` of one source folder (cached per process; jobs come grouped by config,
    so one index at a time is enough and bounds memory on the real files)."""
    return load_instances(Path(source) / folder / "instances.json")


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
    spec = CONFIGS[job.source_config]
    refs_path, refs = load_refs(job.source, job.source_config)
    coco = load_source(job.source, spec.folder)
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
