"""Readers of the refs files of docs/formats.md#source-files, normalised to one `Ref` shape.

Every format becomes a list of `Ref` (source order kept): target ``ann_ids`` (empty for a no-target
ref), a ref-level ``no_target`` flag and the sentences, each with ``exists`` (False for an R-RefCOCO
negative). Format rules:

- ``refer`` (RefCOCO/+/g ``refs(*).p``): ``ann_id`` an int.
- ``grefcoco`` (``grefs(unc).json`` or ``.p``): ``ann_id`` a list (a scalar is wrapped); ``[-1]`` or
  ``no_target: true`` marks a no-target ref.
- ``refzom`` (``refs(final).p``): ``ann_id`` int or list; ``source == "zero"`` marks a no-target ref.
- ``rrefcoco``: ``refer`` refs whose sentences may carry ``exist: false`` (missing means true).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets_builders.configs import ConfigSpec
from datasets_builders.unpickle import load_pickle
from evaluators.errors import InputError
from evaluators.jsonio import read_json_file

__all__ = ["Ref", "Sentence", "find_refs_file", "parse_refs", "read_refs"]


@dataclass(frozen=True)
class Sentence:
    sent_id: int
    sent: str
    raw: str
    tokens: tuple[str, ...]
    exists: bool = True


@dataclass(frozen=True)
class Ref:
    """One referred object (or object set) with its sentences; ``ann_ids`` empty when no-target."""

    ref_id: int
    image_id: int
    split: str
    ann_ids: tuple[int, ...]
    no_target: bool
    sentences: tuple[Sentence, ...]


def find_refs_file(spec: ConfigSpec, source: Path) -> Path | None:
    """The config's refs file under ``source`` (first of ``spec.refs_files`` present), else None."""
    for name in spec.refs_files:
        path = source / spec.folder / name
        if path.is_file():
            return path
    return None


def _load(path: Path) -> Any:
    if path.suffix == ".json":
        return read_json_file(path)
    return load_pickle(path)


def _int(value: Any, where: str, name: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
        or int(value) != value
    ):
        shown = repr(value) if not isinstance(value, int) or abs(value) < 10**100 else "a huge integer"
        raise InputError(f"{where}: {name}: expected an integer, got {shown[:80]}")
    return int(value)


def _ann_list(value: Any, where: str) -> list[int]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [_int(v, where, "ann_id") for v in items]


def _sentence(s: Any, where: str) -> Sentence:
    if not isinstance(s, dict):
        raise InputError(f"{where}: expected an object, got {type(s).__name__}")
    for key in ("sent_id", "sent"):
        if key not in s:
            raise InputError(f"{where}: {key}: missing")
    sent = str(s["sent"])
    tokens = s.get("tokens")
    tokens = tuple(str(t) for t in tokens) if isinstance(tokens, (list, tuple)) else tuple(sent.split())
    exists = s.get("exist", True)
    return Sentence(_int(s["sent_id"], where, "sent_id"), sent, str(s.get("raw", sent)), tokens, bool(exists))


def _ref(r: Any, kind: str, where: str) -> Ref:
    if not isinstance(r, dict):
        raise InputError(f"{where}: expected a ref object, got {type(r).__name__}")
    for key in ("ref_id", "image_id", "split", "sentences", "ann_id"):
        if key not in r:
            raise InputError(f"{where}: {key}: missing")
    if not isinstance(r["sentences"], (list, tuple)):
        raise InputError(f"{where}: sentences: expected a list")
    ann_ids = _ann_list(r["ann_id"], where)
    if kind == "grefcoco":
        no_target = bool(r.get("no_target", False)) or ann_ids == [-1]
    elif kind == "refzom":
        no_target = r.get("source") == "zero"
    else:
        if len(ann_ids) != 1:
            raise InputError(f"{where}: ann_id: expected one annotation id, got {r['ann_id']!r}")
        no_target = False
    if no_target:
        ann_ids = []
    elif any(a < 0 for a in ann_ids) or not ann_ids:
        raise InputError(f"{where}: ann_id: a targeted ref needs annotation ids, got {r['ann_id']!r}")
    sentences = tuple(_sentence(s, f"{where}.sentences[{j}]") for j, s in enumerate(r["sentences"]))
    return Ref(
        ref_id=_int(r["ref_id"], where, "ref_id"),
        image_id=_int(r["image_id"], where, "image_id"),
        split=str(r["split"]),
        ann_ids=tuple(ann_ids),
        no_target=no_target,
        sentences=sentences,
    )


def parse_refs(data: Any, kind: str, name: str) -> list[Ref]:
    """Normalise already-loaded refs (a list of ref dicts) of reader ``kind``; ``name`` is used in errors."""
    if not isinstance(data, list):
        raise InputError(f"{name}: expected a list of refs, got {type(data).__name__}")
    return [_ref(r, kind, f"{name}:[{i}]") for i, r in enumerate(data)]


def read_refs(path: str | Path, kind: str) -> list[Ref]:
    """Read one refs file (pickle or JSON) of the given reader ``kind``; errors name file and record."""
    path = Path(path)
    return parse_refs(_load(path), kind, str(path))
