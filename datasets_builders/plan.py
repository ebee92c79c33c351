"""Plan a build: which configs have sources, their splits, and the shards (`ShardJob`) to write.

Shards: the refs of one split, in source order, cut into runs of at most ``rows_per_shard``
sentences (a ref is never cut), so the shard layout depends only on the inputs, never on
``--workers``. ``refmix_train`` takes the train refs of `REFMIX_SOURCES` whose image appears in
none of their other splits (a source with its own mixed training set, InstanceVG's, gives it whole).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from datasets_builders.configs import REFMIX, REFMIX_SOURCES, config_names
from datasets_builders.layouts import (
    available,
    check_layout,
    config_refs,
    detect,
    expr_prefix,
    refmix_computed,
    spec_for,
)
from datasets_builders.shards import ShardJob
from datasets_builders.sources import Ref
from evaluators.errors import InputError

__all__ = ["BuildPlan", "ConfigPlan", "plan_build"]

log = logging.getLogger(__name__)


@dataclass
class ConfigPlan:
    """One config to build: its splits in order, its shard jobs, and the source files it reads."""

    name: str
    splits: list[str]
    jobs: list[ShardJob] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    rows: int = 0
    notes: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildPlan:
    configs: list[ConfigPlan]
    skipped: dict[str, str]
    layout: str = "official"


def _split_order(spec_splits: tuple[str, ...], present: set[str]) -> list[str]:
    return [s for s in spec_splits if s in present] + sorted(present - set(spec_splits))


def _chunks(refs: list[Ref], indices: list[int], rows_per_shard: int) -> list[list[int]]:
    chunks: list[list[int]] = [[]]
    rows = 0
    for i in indices:
        n = len(refs[i].sentences)
        if chunks[-1] and rows + n > rows_per_shard:
            chunks.append([])
            rows = 0
        chunks[-1].append(i)
        rows += n
    return chunks


def _check_unique(prefix: str, refs_path: str, refs: list[Ref], indices: list[int], split: str) -> None:
    seen: set[int] = set()
    for i in indices:
        for s in refs[i].sentences:
            if s.sent_id in seen:
                raise InputError(
                    f"{refs_path}:[{i}]: sent_id: {s.sent_id} repeats in split {split!r}, "
                    f"so expr_id {prefix}/{s.sent_id} would not be unique"
                )
            seen.add(s.sent_id)


def _jobs(
    tmp: Path,
    config: str,
    split: str,
    source: Path,
    source_config: str,
    chunks: list[tuple[str, list[int]]],
    schema: pa.Schema,
    images_dir: Path | None,
    first: int,
    total: int,
    layout: str,
) -> list[ShardJob]:
    out = []
    for k, (prefix, idx) in enumerate(chunks):
        path = tmp / "data" / config / f"{split}-{first + k:05d}-of-{total:05d}.parquet"
        out.append(
            ShardJob(
                source=str(source),
                source_config=source_config,
                config=config,
                split=split,
                ref_indices=tuple(idx),
                path=str(path),
                schema=schema,
                expr_prefix=prefix,
                images_dir=str(images_dir) if images_dir else None,
                layout=layout,
            )
        )
    return out


def plan_build(
    source: Path,
    tmp: Path,
    configs: list[str] | None,
    schema: pa.Schema,
    images_dir: Path | None,
    rows_per_shard: int = 10000,
    layout: str | None = None,
) -> BuildPlan:
    """Plan the shards of ``configs`` (default: every config whose files are present).

    ``layout`` names the source layout (`layouts.LAYOUTS`); None detects it.
    """
    wanted = configs or config_names()
    unknown = [c for c in wanted if c not in config_names()]
    if unknown:
        raise InputError(
            f"--configs: unknown config(s) {', '.join(unknown)}; known: {', '.join(config_names())}"
        )
    layout = check_layout(layout) if layout else detect(source)
    found = available(source, layout)
    plans: list[ConfigPlan] = []
    skipped: dict[str, str] = {}
    for name in wanted:
        if name == REFMIX and refmix_computed(layout):
            continue
        if name not in found:
            reason = f"no {layout} source files for it under {source}"
            if configs:
                raise InputError(f"{name}: {reason}")
            skipped[name] = reason
            log.info("skipping %s: %s", name, reason)
            continue
        refs_path, refs = config_refs(source, layout, name)
        spec = spec_for(name)
        if not refs:
            if layout == "official" or configs:  # a refs file of its own that holds []: a broken source
                raise InputError(f"{refs_path}: holds no refs for {name} (an empty list)")
            skipped[name] = f"{refs_path} holds no refs for it"  # a shared file (InstanceVG, Hub copies)
            log.info("skipping %s: %s", name, skipped[name])
            continue
        by_split: dict[str, list[int]] = {}
        for i, ref in enumerate(refs):
            by_split.setdefault(ref.split, []).append(i)
        odd = set(by_split) - set(spec.splits)
        if odd:
            log.warning("%s: unexpected split name(s) %s kept as spelled", refs_path, sorted(odd))
        plan = ConfigPlan(name, _split_order(spec.splits, set(by_split)), sources=list(found[name]))
        for split in plan.splits:
            prefix = expr_prefix(layout, name, split)
            _check_unique(prefix, refs_path, refs, by_split[split], split)
            chunks = _chunks(refs, by_split[split], rows_per_shard)
            plan.rows += sum(len(refs[i].sentences) for i in by_split[split])
            prefixed = [(prefix, c) for c in chunks]
            plan.jobs += _jobs(
                tmp, name, split, source, name, prefixed, schema, images_dir, 0, len(chunks), layout
            )
        plans.append(plan)
    if REFMIX in wanted and refmix_computed(layout):
        refmix = _plan_refmix(source, tmp, schema, images_dir, rows_per_shard, layout, found)
        if isinstance(refmix, str):
            if configs:
                raise InputError(f"{REFMIX}: {refmix}")
            skipped[REFMIX] = refmix
        else:
            plans.append(refmix)
    if not plans:
        raise InputError(
            f"{source}: no source files found for any config (layout {layout}; see docs/formats.md#source-files)"
        )
    return BuildPlan(plans, skipped, layout)


def _plan_refmix(
    source: Path,
    tmp: Path,
    schema: pa.Schema,
    images_dir: Path | None,
    rows_per_shard: int,
    layout: str,
    found: dict[str, list[Path]],
) -> ConfigPlan | str:
    """The ``refmix_train`` plan, or the reason it cannot be built."""
    missing = [c for c in REFMIX_SOURCES if c not in found]
    if missing:
        return f"needs the sources of {', '.join(missing)}"
    loaded = {c: config_refs(source, layout, c) for c in REFMIX_SOURCES}
    held_out = {r.image_id for _, refs in loaded.values() for r in refs if r.split != "train"}
    plan = ConfigPlan(REFMIX, ["train"])
    parts: list[tuple[str, list[int]]] = []
    dropped_images: set[int] = set()
    dropped_rows = 0
    for c in REFMIX_SOURCES:
        refs_path, refs = loaded[c]
        plan.sources += [p for p in found[c] if p not in plan.sources]
        keep = []
        for i, r in enumerate(refs):
            if r.split != "train":
                continue
            if r.image_id in held_out:
                dropped_images.add(r.image_id)
                dropped_rows += len(r.sentences)
            else:
                keep.append(i)
        _check_unique(f"{REFMIX}/train/{c}", refs_path, refs, keep, "train")
        plan.rows += sum(len(refs[i].sentences) for i in keep)
        parts += [(f"{REFMIX}/train/{c}", chunk) for chunk in _chunks(refs, keep, rows_per_shard) if chunk]
    if not parts:
        return "no train expressions left in its sources"
    plan.notes = {"dropped_images": len(dropped_images), "dropped_rows": dropped_rows}
    first = 0
    for c in REFMIX_SOURCES:
        mine = [p for p in parts if p[0].endswith(f"/{c}")]
        plan.jobs += _jobs(
            tmp, REFMIX, "train", source, c, mine, schema, images_dir, first, len(parts), layout
        )
        first += len(mine)
    return plan
