"""InstanceVG's released annotations (Hugging Face ``Dmmm997/InstanceVG_Data``) -> `Ref` + `CocoIndex`.

Files (under ``SOURCE`` or ``SOURCE/annotations``), each a JSON object ``{split_name: [record, ...]}``:

- ``mixed-seg/instances_nogoogle_withid.json`` (also ``instances_nogoogle.json``): RefCOCO/+/g.
  One record per ref, as the official ``LoadImageAnnotationsFromFile_TO`` reads it: ``image_id``
  (a COCO train2014 id), ``expressions`` (list of strings), ``bbox`` ``[x, y, w, h]``, ``mask``
  (polygon list or RLE), ``height``/``width``; read when present: ``ref_id``, ``ann_id``,
  ``category_id``, ``iscrowd``, ``sent_ids`` (one per expression), ``file_name``.
  Splits: ``train`` (InstanceVG's mixed training set -> ``refmix_train``) and
  ``{val,testA,testB,test}_{refcoco_unc,refcocoplus_unc,refcocog_umd,refcocog_google}``.
- ``grefs/instance.json`` (gRefCOCO), ``ref-zom/instance.json``, ``rrefcoco/instance.json``: one record
  per expression, as ``LoadImageAnnotationsFromFileGRES`` reads it: ``image_id`` (gRefCOCO) or
  ``file_name`` (Ref-ZOM, R-RefCOCO), ``expressions`` (``{"raw": str or [str]}``), ``annotations``
  (one ``{bbox, segmentation, [id, category_id, iscrowd, area]}`` per target; empty, or a first entry
  without a box, for a no-target expression), ``height``/``width``; read when present: ``ref_id``,
  ``sent_id``. An R-RefCOCO split item may be a list of such records (the loader picks one at random):
  every record of the list is read. Splits: gRefCOCO and Ref-ZOM as spelled; R-RefCOCO ``train``
  -> ``rrefcoco_unc/train``, ``val_rrefcoco`` / ``val_rrefcoco+`` / ``val_rrefcocog`` -> the val split of
  ``rrefcoco_unc`` / ``rrefcocoplus_unc`` / ``rrefcocog_umd``.

Text: ``raw`` is the expression as stored; ``sentence`` is InstanceVG's own cleaning of it
(`clean_string`), ``tokens`` its words. Missing ids are derived (``ref_id`` = record index in its
split, ``sent_id`` = expression index in its split, annotation ids negative), and the card says so.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets_builders.coco import CocoIndex
from datasets_builders.configs import REFMIX
from datasets_builders.derived_index import IndexBuilder, clean_string, image_id_from_name
from datasets_builders.sources import Ref, Sentence
from evaluators.errors import InputError
from evaluators.jsonio import read_json_file

__all__ = [
    "FILES",
    "MIXED_SPLIT_CONFIGS",
    "RREFCOCO_SPLITS",
    "available",
    "coco",
    "find_file",
    "map_split",
    "refs",
]

log = logging.getLogger(__name__)

# file kind -> candidate paths relative to the source (first found wins)
FILES: dict[str, tuple[str, ...]] = {
    "mixed": ("mixed-seg/instances_nogoogle_withid.json", "mixed-seg/instances_nogoogle.json"),
    "grefs": ("grefs/instance.json",),
    "refzom": ("ref-zom/instance.json",),
    "rrefcoco": ("rrefcoco/instance.json",),
}
MIXED_SPLIT_CONFIGS = ("refcoco_unc", "refcocoplus_unc", "refcocog_umd", "refcocog_google")
RREFCOCO_SPLITS = {
    "train": ("rrefcoco_unc", "train"),
    "val_rrefcoco": ("rrefcoco_unc", "val"),
    "val_rrefcoco+": ("rrefcocoplus_unc", "val"),
    "val_rrefcocog": ("rrefcocog_umd", "val"),
}


def find_file(source: Path, kind: str) -> Path | None:
    for base in (source, source / "annotations"):
        for rel in FILES[kind]:
            if (base / rel).is_file():
                return base / rel
    return None


def map_split(kind: str, split: str) -> tuple[str, str] | None:
    """``(config, split)`` of a split name of one InstanceVG file, or None when it is not one we build."""
    if kind == "mixed":
        if split == "train":
            return REFMIX, "train"
        head, _, tail = split.partition("_")
        return (tail, head) if tail in MIXED_SPLIT_CONFIGS and head else None
    if kind == "grefs":
        return "grefcoco_unc", split
    if kind == "refzom":
        return "refzom_final", split
    return RREFCOCO_SPLITS.get(split)


@dataclass
class _Parsed:
    refs: dict[str, list[Ref]] = field(default_factory=dict)  # config -> refs (split order of the file)
    builder: IndexBuilder | None = None
    skipped: list[str] = field(default_factory=list)


def _int(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise InputError(f"{where}: {name}: expected an integer, got {value!r}")
    return int(value)


def _size(rec: dict[str, Any], masks: list[Any], where: str) -> tuple[Any, Any]:
    """``(height, width)``: the record's, else the size of an RLE mask it holds."""
    if "height" in rec and "width" in rec:
        return rec["height"], rec["width"]
    for m in masks:
        if isinstance(m, dict) and isinstance(m.get("size"), (list, tuple)) and len(m["size"]) == 2:
            return m["size"][0], m["size"][1]
    raise InputError(f"{where}: height: missing (and no RLE mask gives the image size)")


def _texts(value: Any, where: str) -> list[str]:
    if isinstance(value, dict):
        if "raw" not in value:
            raise InputError(f"{where}: expressions.raw: missing")
        value = value["raw"]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(t, str) for t in items):
        raise InputError(f"{where}: expressions: expected a string or a non-empty list of strings")
    return items


class _Counter:
    def __init__(self) -> None:
        self.sent = 0

    def next_sent(self) -> int:
        self.sent += 1
        return self.sent - 1


def _sentences(texts: list[str], ids: Any, counter: _Counter, where: str) -> tuple[Sentence, ...]:
    if ids is not None:
        if not isinstance(ids, list) or len(ids) != len(texts):
            raise InputError(f"{where}: sent_ids: expected one id per expression ({len(texts)}), got {ids!r}")
        ids = [_int(i, where, "sent_ids") for i in ids]
        counter.sent += len(texts)
    else:
        ids = [counter.next_sent() for _ in texts]
    out = []
    for sent_id, raw in zip(ids, texts, strict=True):
        sent = clean_string(raw)
        out.append(Sentence(sent_id, sent, raw, tuple(sent.split())))
    return tuple(out)


def _mixed_record(
    rec: Any, split: str, index: int, b: IndexBuilder, counter: _Counter, derived: bool, where: str
) -> Ref:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: expected a record object, got {type(rec).__name__}")
    for key in ("image_id", "expressions", "bbox", "mask"):
        if key not in rec:
            raise InputError(f"{where}: {key}: missing")
    image_id = _int(rec["image_id"], where, "image_id")
    h, w = _size(rec, [rec["mask"]], where)
    b.image(image_id, str(rec.get("file_name") or f"COCO_train2014_{image_id:012d}.jpg"), h, w, where)
    ann = {
        "id": None if rec.get("ann_id") is None else _int(rec["ann_id"], where, "ann_id"),
        "image_id": image_id,
        "category_id": rec.get("category_id"),
        "iscrowd": rec.get("iscrowd", 0),
        "bbox": rec["bbox"],
        "segmentation": rec["mask"] or [],  # the loader makes an all-zero mask of an empty one
    }
    ann_id = b.ann(ann, where)
    texts = _texts(rec["expressions"], where)
    sents = _sentences(texts, None if derived else rec.get("sent_ids"), counter, where)
    ref_id = _int(rec["ref_id"], where, "ref_id") if rec.get("ref_id") is not None else index
    return Ref(ref_id, image_id, split, (ann_id,), False, sents)


def _gres_record(rec: Any, split: str, index: int, b: IndexBuilder, counter: _Counter, where: str) -> Ref:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: expected a record object, got {type(rec).__name__}")
    if "expressions" not in rec:
        raise InputError(f"{where}: expressions: missing")
    if rec.get("image_id") is not None:
        image_id = _int(rec["image_id"], where, "image_id")
        file_name = str(rec.get("file_name") or f"COCO_train2014_{image_id:012d}.jpg")
    elif rec.get("file_name"):
        file_name = str(rec["file_name"])
        image_id = image_id_from_name(file_name, where)
    else:
        raise InputError(f"{where}: image_id: missing (and no file_name)")
    anns = rec.get("annotations", [])
    if not isinstance(anns, list):
        raise InputError(f"{where}: annotations: expected a list")
    targets = []
    for j, a in enumerate(anns):
        if not isinstance(a, dict):
            raise InputError(f"{where}.annotations[{j}]: expected an object, got {type(a).__name__}")
        if a.get("bbox") is None:  # the official loader stops at the first entry without a box
            break
        targets.append(a)
    h, w = _size(rec, [a.get("segmentation") for a in targets], where)
    b.image(image_id, file_name, h, w, where)
    ann_ids = []
    for j, a in enumerate(targets):
        ann_where = f"{where}.annotations[{j}]"
        if a.get("id") is not None:
            _int(a["id"], ann_where, "id")
        ann_ids.append(b.ann({**a, "image_id": image_id}, ann_where))
    texts = _texts(rec["expressions"], where)
    ids = rec.get("sent_ids")
    if ids is None and rec.get("sent_id") is not None:
        ids = [rec["sent_id"]]
    sents = _sentences(texts, ids, counter, where)
    ref_id = _int(rec["ref_id"], where, "ref_id") if rec.get("ref_id") is not None else index
    no_target = not ann_ids or bool(rec.get("no_target", False))
    return Ref(ref_id, image_id, split, () if no_target else tuple(ann_ids), no_target, sents)


@functools.lru_cache(maxsize=2)
def _parse(path: Path, kind: str) -> _Parsed:
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected an object {{split_name: [record, ...]}}, got {type(data).__name__}"
        )
    parsed = _Parsed(builder=IndexBuilder(str(path)))
    b = parsed.builder
    for split_name, records in data.items():
        target = map_split(kind, split_name)
        if target is None:
            log.warning("%s: split %r is not one vgbench builds; skipped", path, split_name)
            parsed.skipped.append(split_name)
            continue
        config, split = target
        if not isinstance(records, list):
            raise InputError(f"{path}:{split_name}: expected a list of records, got {type(records).__name__}")
        counter = _Counter()
        out = parsed.refs.setdefault(config, [])
        for i, rec in enumerate(records):
            where = f"{path}:{split_name}[{i}]"
            if kind == "mixed":
                out.append(_mixed_record(rec, split, i, b, counter, config == REFMIX, where))
            elif isinstance(rec, list):  # R-RefCOCO: a list of records of one ref
                out += [_gres_record(r, split, i, b, counter, f"{where}[{j}]") for j, r in enumerate(rec)]
            else:
                out.append(_gres_record(rec, split, i, b, counter, where))
    return parsed


def available(source: Path) -> dict[str, list[Path]]:
    """config -> [file] for every config the InstanceVG files under ``source`` hold."""
    out: dict[str, list[Path]] = {}
    for kind in FILES:
        path = find_file(source, kind)
        if path is None:
            continue
        for config in _parse(path, kind).refs:
            out.setdefault(config, []).append(path)
    return out


def _file_of(source: Path, config: str) -> tuple[Path, str]:
    for kind in FILES:
        path = find_file(source, kind)
        if path is not None and config in _parse(path, kind).refs:
            return path, kind
    raise InputError(f"{source}: no InstanceVG annotation file holds config {config}")


def refs(source: Path, config: str) -> tuple[str, list[Ref]]:
    path, kind = _file_of(source, config)
    return str(path), _parse(path, kind).refs[config]


def coco(source: Path, config: str) -> CocoIndex:
    path, kind = _file_of(source, config)
    builder = _parse(path, kind).builder
    assert builder is not None
    return builder.index
