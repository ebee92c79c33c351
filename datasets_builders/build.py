"""``build_dataset``: official source files -> Parquet shards + dataset card + build manifest.

Layout written (docs/formats.md#the-built-dataset)::

    OUT/README.md                                   dataset card (YAML configs + dataset_info)
    OUT/data/{config}/{split}-{i:05d}-of-{n:05d}.parquet
    OUT/vgbench_build.json                          manifest: version, counts, source sha256s, images_root

Everything is written into a temporary sibling folder and renamed into place at the end, so a failed
build leaves nothing half-written and an existing ``OUT`` untouched. Output bytes depend only on the
inputs (no timestamps; shard layout independent of ``workers``), so a re-run is byte-identical.
Rows are streamed to Parquet in row groups; masks of a whole config are never held in memory.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pyarrow as pa

from datasets_builders.atomic_dir import check_replaceable, remove_stale_temps, swap_in
from datasets_builders.card import published_check, write_card
from datasets_builders.citations import dataset_info
from datasets_builders.layouts import clear_caches, detect, spec_for
from datasets_builders.plan import BuildPlan, plan_build
from datasets_builders.schema import arrow_schema, features
from datasets_builders.shards import ShardJob, ShardStats, write_shard
from evaluators.atomic import write_json_atomic
from evaluators.errors import InputError
from evaluators.hashing import sha256_file
from evaluators.progress import progress_bar
from evaluators.version import package_version

__all__ = ["MANIFEST", "build_dataset"]

log = logging.getLogger(__name__)

MANIFEST = "vgbench_build.json"

# "fork" where the platform has it: workers never re-import the caller's __main__ (``python -m vgbench``
# and scripts without a main guard stay safe); "spawn" elsewhere.
_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _run_jobs(plan: BuildPlan, workers: int, quiet: bool) -> list[ShardStats]:
    bars = {
        c.name: progress_bar(c.rows, c.name, quiet=quiet, unit="rows", position=i, leave=True)
        for i, c in enumerate(plan.configs)
    }
    jobs: list[ShardJob] = [j for c in plan.configs for j in c.jobs]
    for job in jobs:
        Path(job.path).parent.mkdir(parents=True, exist_ok=True)
    try:
        if workers <= 1 or len(jobs) <= 1:
            return [write_shard(j, bars[j.config].update) for j in jobs]
        ctx = multiprocessing.get_context(_START_METHOD)
        out = []
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            futures = [pool.submit(write_shard, j) for j in jobs]
            try:
                for fut in as_completed(futures):
                    stats = fut.result()
                    bars[stats.config].update(stats.rows)
                    out.append(stats)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # first error wins; pending shards never start
                raise
        return out
    finally:
        for bar in bars.values():
            bar.close()


def is_synthetic(source: Path) -> bool:
    """Whether ``source`` was written by ``vgbench synth`` (its marker in it, or two levels up for the
    ``formats/{layout}`` copies)."""
    from datasets_builders.synth import MARKER

    return any((p / MARKER).is_file() for p in (source, source.parent, source.parent.parent))


def _attach_info(
    plan: BuildPlan, schema: pa.Schema, infos: dict[str, dict[str, Any]], image_root: str | None
) -> None:
    """Put each config's licence and citation into the schema metadata of its shards (key ``vgbench``)
    and, when not embedding, the images root the ``image`` paths point into."""
    for c in plan.configs:
        meta = dict(schema.metadata or {})
        meta[b"vgbench"] = json.dumps(infos[c.name], sort_keys=True).encode()
        with_info = schema.with_metadata(meta)
        c.jobs = [dataclasses.replace(j, schema=with_info, image_root=image_root) for j in c.jobs]


def _counts(plan: BuildPlan, stats: list[ShardStats]) -> dict[str, dict[str, dict[str, Any]]]:
    """config -> split -> {rows, refs, images, no_target, multi_target, num_bytes, shards} in plan order."""
    counts: dict[str, dict[str, dict[str, Any]]] = {}
    images: dict[tuple[str, str], set[int]] = {}
    by_key: dict[tuple[str, str], list[ShardStats]] = {}
    for s in stats:
        by_key.setdefault((s.config, s.split), []).append(s)
    for c in plan.configs:
        counts[c.name] = {}
        for split in c.splits:
            parts = by_key.get((c.name, split), [])
            imgs = images.setdefault((c.name, split), set())
            for p in parts:
                imgs.update(p.image_ids)
            counts[c.name][split] = {
                "rows": sum(p.rows for p in parts),
                "refs": sum(p.refs for p in parts),
                "images": len(imgs),
                "no_target": sum(p.no_target for p in parts),
                "multi_target": sum(p.multi_target for p in parts),
                "num_bytes": sum(p.num_bytes for p in parts),
                "shards": len(parts),
            }
    return counts


def build_dataset(
    source: str | Path,
    out: str | Path,
    configs: list[str] | None = None,
    workers: int = 1,
    embed_images: bool = False,
    quiet: bool = False,
    rows_per_shard: int = 10000,
    layout: str | None = None,
    images: str | Path | None = None,
) -> Path:
    """Build every config of ``configs`` (default: all whose files are present) from ``source`` to ``out``.

    ``layout`` names the source layout (`datasets_builders.layouts.LAYOUTS`; None: detected).
    ``images`` is the folder holding ``train2014/`` and ``val2014/`` (default ``SOURCE/images``); rows
    name their image relative to it (``file_name``) and the manifest records it as ``images_root``.
    Raises `InputError` (nothing written) on missing or corrupt sources. Returns ``out``.
    """
    source, out = Path(source).resolve(), Path(out).resolve()
    if not source.is_dir():
        raise InputError(f"{source}: source folder not found")
    images_root = Path(images).resolve() if images is not None else source / "images"
    if images is not None and not images_root.is_dir():
        raise InputError(f"{images_root}: --images: folder not found")
    from_source = False  # lmms-lab embeds its images: --embed-images can take them from the source
    if embed_images and not images_root.is_dir():
        layout = layout or detect(source)
        if images is not None or layout != "lmms-lab":
            raise InputError(f"{images_root}: --embed-images needs the images folder (see --images)")
        from_source = True
    check_replaceable(out, MANIFEST, "vgbench build")  # fail before the work, checked again at the swap
    clear_caches()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    tmp = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    extracted = out.with_name(f".{out.name}.images-{os.getpid()}")
    try:
        if from_source:
            from datasets_builders.src_hub import extract_images

            shutil.rmtree(extracted, ignore_errors=True)
            n = extract_images(source, extracted)
            log.info("took %d embedded images from %s", n, source)
            images_root = extracted
        synthetic = is_synthetic(source)
        image_paths = not embed_images and images_root.is_dir()
        schema = arrow_schema(embed_images, synthetic, image_paths)
        plan = plan_build(
            source, tmp, configs, schema, images_root if embed_images else None, rows_per_shard, layout
        )
        infos = {c.name: dataset_info([spec_for(c.name).dataset], synthetic) for c in plan.configs}
        _attach_info(plan, schema, infos, str(images_root) if image_paths else None)
        stats = _run_jobs(plan, workers, quiet)
        counts = _counts(plan, stats)
        sources = {str(p.relative_to(source)): sha256_file(p) for c in plan.configs for p in c.sources}
        check = published_check(counts)
        for line in check["mismatches"]:
            log.warning("published size mismatch: %s", line)
        manifest = {
            "vgbench_version": package_version(),
            "format": 1,
            "layout": plan.layout,
            "dataset_info": dataset_info(sorted({spec_for(c.name).dataset for c in plan.configs}), synthetic),
            "config_citations": {c: infos[c]["citation"] for c in infos},
            "configs": {c: {"splits": counts[c]} for c in counts},
            "skipped": plan.skipped,
            "notes": {c.name: c.notes for c in plan.configs if c.notes},
            "sources": dict(sorted(sources.items())),
            "embed_images": embed_images,
            "images_root": str(images_root) if images_root.is_dir() and not from_source else None,
            "images_from_source": from_source,
            "published_check": check,
        }
        write_card(tmp / "README.md", plan, counts, manifest, features(embed_images, synthetic, image_paths))
        write_json_atomic(tmp / MANIFEST, manifest)
        swap_in(tmp, out, MANIFEST, "vgbench build")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        clear_caches()
        shutil.rmtree(extracted, ignore_errors=True)
    total = sum(v["rows"] for c in counts.values() for v in c.values())
    log.info("built %d configs, %d rows -> %s", len(counts), total, out)
    return out
