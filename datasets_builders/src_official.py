"""The official refer layout (folders of ``refs(*).p`` + ``instances.json``) and the original zips.

``official``: ``SOURCE/{folder}/{refs file}`` + ``SOURCE/{folder}/instances.json`` (docs/formats.md#source-files).
When a folder has its refs file but no ``instances.json``, COCO's full
``SOURCE/annotations/instances_{train,val}2014.json`` is streamed instead, keeping only the images
and annotations the refs name (`coco_stream`).

``zip``: ``SOURCE/refcoco.zip``, ``refcoco+.zip``, ``refcocog.zip`` as distributed (each holds
``{folder}/instances.json`` and ``{folder}/refs(*).p``), read in place with `zipfile`; nothing is
unpacked. Errors name ``archive.zip:member``.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

from datasets_builders.coco import CocoIndex, index_instances, load_instances
from datasets_builders.configs import CONFIGS
from datasets_builders.sources import Ref, find_refs_file, parse_refs, read_refs
from datasets_builders.unpickle import loads_restricted
from evaluators.errors import InputError
from evaluators.jsonio import load_json

__all__ = [
    "ZIP_FOLDERS",
    "coco_fallback",
    "official_available",
    "official_coco",
    "official_refs",
    "zip_available",
    "zip_coco",
    "zip_refs",
]

ZIP_FOLDERS = ("refcoco", "refcoco+", "refcocog")
COCO_FULL = ("annotations/instances_train2014.json", "annotations/instances_val2014.json")


def coco_fallback(source: Path) -> list[Path]:
    """COCO's full instance files present under ``source`` (used when a folder has no instances.json)."""
    return [source / name for name in COCO_FULL if (source / name).is_file()]


def official_available(source: Path) -> dict[str, list[Path]]:
    """config -> its files (refs file, instances.json or COCO's full files) for the configs present."""
    out: dict[str, list[Path]] = {}
    full = coco_fallback(source)
    for name, spec in CONFIGS.items():
        refs = find_refs_file(spec, source)
        if refs is None:
            continue
        instances = source / spec.folder / "instances.json"
        if instances.is_file():
            out[name] = [instances, refs]
        elif full:
            out[name] = [*full, refs]
    return out


@functools.lru_cache(maxsize=4)
def official_refs(source: Path, config: str) -> tuple[str, list[Ref]]:
    """``(refs file, refs)`` of one config of the official layout (cached per process)."""
    spec = CONFIGS[config]
    path = find_refs_file(spec, source)
    if path is None:
        raise InputError(f"{source / spec.folder}: no refs file ({' or '.join(spec.refs_files)})")
    return str(path), read_refs(path, spec.kind)


@functools.lru_cache(maxsize=1)
def _instances(path: Path) -> CocoIndex:
    return load_instances(path)


def official_coco(source: Path, config: str) -> CocoIndex:
    """The COCO index of a config: its folder's ``instances.json``, else COCO's full files streamed
    (only the annotations and images the config's refs name). Cached: one index at a time."""
    spec = CONFIGS[config]
    instances = source / spec.folder / "instances.json"
    if instances.is_file():
        return _instances(instances)
    from datasets_builders.coco_stream import stream_index

    _, refs = official_refs(source, config)
    ann_ids = frozenset(a for r in refs for a in r.ann_ids)
    image_ids = frozenset(r.image_id for r in refs)
    return stream_index(tuple(coco_fallback(source)), ann_ids, image_ids)


# ---------------------------------------------------------------- zip archives


def zip_available(source: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for name, spec in CONFIGS.items():
        archive = source / f"{spec.folder}.zip"
        if spec.folder in ZIP_FOLDERS and archive.is_file() and _zip_member(archive, spec) is not None:
            out[name] = [archive]
    return out


def _names(archive: Path) -> list[str]:
    try:
        with zipfile.ZipFile(archive) as zf:
            return zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{archive}: not a readable zip archive: {exc}") from None


def _zip_member(archive: Path, spec) -> str | None:
    names = set(_names(archive))
    for refs in spec.refs_files:
        member = f"{spec.folder}/{refs}"
        if member in names:
            return member
    return None


def _read_member(archive: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    except KeyError:
        raise InputError(f"{archive}: {member}: missing from the archive") from None
    except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
        raise InputError(f"{archive}:{member}: cannot read: {exc}") from None


@functools.lru_cache(maxsize=4)
def zip_refs(source: Path, config: str) -> tuple[str, list[Ref]]:
    spec = CONFIGS[config]
    archive = source / f"{spec.folder}.zip"
    member = _zip_member(archive, spec)
    if member is None:
        raise InputError(f"{archive}: no {' or '.join(spec.refs_files)} under {spec.folder}/")
    name = f"{archive}:{member}"
    data = _read_member(archive, member)
    obj = load_json(data, name) if member.endswith(".json") else loads_restricted(data, name)
    return name, parse_refs(obj, spec.kind, name)


@functools.lru_cache(maxsize=1)
def _zip_instances(archive: Path, member: str) -> CocoIndex:
    name = f"{archive}:{member}"
    return index_instances(load_json(_read_member(archive, member), name), name)


def zip_coco(source: Path, config: str) -> CocoIndex:
    spec = CONFIGS[config]
    return _zip_instances(source / f"{spec.folder}.zip", f"{spec.folder}/instances.json")
