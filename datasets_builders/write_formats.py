"""Write an official-layout source again in every other layout `vgbench build` reads.

``vgbench synth`` calls `write_formats` so the same synthetic scenes exist as the original zips,
InstanceVG's annotation files and the jxu124 / lmms-lab Parquet copies; the tests build each and
compare the rows with the official-format build field by field. It also converts real official files
(a way to make fixtures in each format from real excerpts). Layout written under ``out``::

    zip/refcoco.zip, refcoco+.zip, refcocog.zip              {folder}/instances.json + {folder}/refs(*).p
    instancevg/mixed-seg/instances_nogoogle_withid.json      RefCOCO/+/g eval splits + refmix train
    instancevg/{grefs,ref-zom,rrefcoco}/instance.json
    jxu124/{refcoco,refcocoplus,refcocog}/data/{split}-00000-of-00001.parquet
    lmms-lab/{RefCOCO,RefCOCOplus,RefCOCOg}/data/{split}-00000-of-00001.parquet   (eval splits, images embedded)
    jxu124-benchmark/data/{dataset}_{splitBy}_{split}-00000-of-00001.parquet      (eval splits, one row per image)
    coco-full/{folder}/refs(*).p + annotations/instances_{train,val}2014.json   (official refs, no
                                                     per-folder instances.json: COCO's full files instead)

Record shapes follow the readers' docstrings (`src_instancevg`, `src_hub`). Output bytes depend only
on the input (fixed zip timestamps, sorted JSON-free Parquet metadata), so reruns are identical.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datasets_builders.coco import CocoIndex
from datasets_builders.configs import CONFIGS, REFMIX_SOURCES
from datasets_builders.sources import Ref
from datasets_builders.src_official import ZIP_FOLDERS, official_available, official_coco, official_refs

__all__ = ["WRITABLE", "write_formats"]

WRITABLE = ("zip", "instancevg", "jxu124", "lmms-lab", "jxu124-benchmark", "coco-full")
_JXU = {"refcoco_unc": "refcoco", "refcocoplus_unc": "refcocoplus", "refcocog_umd": "refcocog"}
_LMMS = {"refcoco_unc": "RefCOCO", "refcocoplus_unc": "RefCOCOplus", "refcocog_umd": "RefCOCOg"}
_LMMS_PROMPT = "Provide a short description for this region."
_MIXED_EVAL = ("refcoco_unc", "refcocoplus_unc", "refcocog_umd")


def _dump(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")


def _load(source: Path, config: str) -> tuple[list[Ref], CocoIndex]:
    return official_refs(source, config)[1], official_coco(source, config)


def _write_zips(source: Path, out: Path) -> None:
    for folder in ZIP_FOLDERS:
        members = [source / folder / "instances.json"]
        members += [source / folder / f for c in CONFIGS.values() if c.folder == folder for f in c.refs_files]
        members = [m for m in members if m.is_file()]
        if len(members) < 2:
            continue
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out / f"{folder}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for m in sorted(members):
                info = zipfile.ZipInfo(f"{folder}/{m.name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, m.read_bytes())


# ---------------------------------------------------------------- InstanceVG


def _not_train2014(file_name: str) -> dict[str, str]:
    """InstanceVG's RefCOCO/gRefCOCO records name train2014 images by id; other images by file name."""
    name = Path(file_name).name
    return {} if name.startswith("COCO_train2014_") else {"file_name": name}


def _mixed_record(ref: Ref, coco: CocoIndex) -> dict[str, Any]:
    ann = coco.anns[ref.ann_ids[0]]
    image = coco.images[ref.image_id]
    return {
        "image_id": ref.image_id,
        **_not_train2014(image.file_name),
        "height": image.height,
        "width": image.width,
        "ref_id": ref.ref_id,
        "ann_id": ref.ann_ids[0],
        "category_id": ann["category_id"],
        "sent_ids": [s.sent_id for s in ref.sentences],
        "expressions": [s.raw for s in ref.sentences],
        "bbox": ann["bbox"],
        "mask": ann["segmentation"],
    }


def _gres_records(ref: Ref, coco: CocoIndex, by_file_name: bool) -> list[dict[str, Any]]:
    image = coco.images[ref.image_id]
    targets = [
        {
            "id": a,
            "category_id": coco.anns[a]["category_id"],
            "iscrowd": coco.anns[a].get("iscrowd", 0),
            "bbox": coco.anns[a]["bbox"],
            "segmentation": coco.anns[a]["segmentation"],
            "area": coco.anns[a].get("area"),
        }
        for a in ref.ann_ids
    ]
    if by_file_name:
        where = {"file_name": Path(image.file_name).name}
    else:
        where = {"image_id": ref.image_id, **_not_train2014(image.file_name)}
    return [
        {
            **where,
            "height": image.height,
            "width": image.width,
            "ref_id": ref.ref_id,
            "sent_id": s.sent_id,
            "expressions": {"raw": s.raw},
            "annotations": targets if s.exists and not ref.no_target else [],
        }
        for s in ref.sentences
    ]


def _refmix_refs(loaded: dict[str, tuple[list[Ref], CocoIndex]]) -> list[tuple[Ref, CocoIndex]]:
    held = {r.image_id for refs, _ in loaded.values() for r in refs if r.split != "train"}
    return [
        (r, coco)
        for c in REFMIX_SOURCES
        for refs, coco in [loaded[c]]
        for r in refs
        if r.split == "train" and r.image_id not in held
    ]


def _write_instancevg(source: Path, out: Path, present: set[str]) -> None:
    if all(c in present for c in _MIXED_EVAL):
        loaded = {c: _load(source, c) for c in _MIXED_EVAL}
        mixed: dict[str, list[Any]] = {"train": [_mixed_record(r, coco) for r, coco in _refmix_refs(loaded)]}
        for c in _MIXED_EVAL:
            refs, coco = loaded[c]
            for r in refs:
                if r.split != "train":
                    mixed.setdefault(f"{r.split}_{c}", []).append(_mixed_record(r, coco))
        _dump(out / "mixed-seg" / "instances_nogoogle_withid.json", mixed)
    for config, rel, by_name in (
        ("grefcoco_unc", "grefs/instance.json", False),
        ("refzom_final", "ref-zom/instance.json", True),
    ):
        if config in present:
            refs, coco = _load(source, config)
            data: dict[str, list[Any]] = {}
            for r in refs:
                data.setdefault(r.split, []).extend(_gres_records(r, coco, by_name))
            _dump(out / rel, data)
    rref = {
        "rrefcoco_unc": ("train", "val_rrefcoco"),
        "rrefcocoplus_unc": (None, "val_rrefcoco+"),
        "rrefcocog_umd": (None, "val_rrefcocog"),
    }
    if any(c in present for c in rref):
        data = {}
        for config, (train_name, val_name) in rref.items():
            if config not in present:
                continue
            refs, coco = _load(source, config)
            for r in refs:
                name = train_name if r.split == "train" else val_name if r.split == "val" else None
                if name is not None:
                    data.setdefault(name, []).append(_gres_records(r, coco, True))
        _dump(out / "rrefcoco" / "instance.json", data)


# ---------------------------------------------------------------- Hub Parquet copies


def _jxu_split(config: str, split: str) -> str:
    if split == "val":
        return "validation"
    if split == "testA" or (split == "test" and config == "refcocog_umd"):
        return "test"
    return split


def _write_parquet(path: Path, rows: list[dict[str, Any]], features) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    pq.write_table(table, path, compression="zstd")


def _jxu_features():
    import datasets

    v = datasets.Value
    return datasets.Features(
        {
            "sent_ids": datasets.List(v("int64")),
            "file_name": v("string"),
            "ann_id": v("int64"),
            "ref_id": v("int64"),
            "image_id": v("int64"),
            "split": v("string"),
            "sentences": datasets.List(
                {
                    "raw": v("string"),
                    "sent": v("string"),
                    "sent_id": v("int64"),
                    "tokens": datasets.List(v("string")),
                }
            ),
            "category_id": v("int64"),
            "raw_anns": v("string"),
            "raw_image_info": v("string"),
            "raw_sentences": v("string"),
            "image_path": v("string"),
            "bbox": datasets.List(v("float64")),
            "captions": datasets.List(v("string")),
            "global_image_id": v("string"),
            "anns_id": v("string"),
        }
    )


def _jxu_row(config: str, ref: Ref, coco: CocoIndex) -> dict[str, Any]:
    ann = coco.anns[ref.ann_ids[0]]
    image = coco.images[ref.image_id]
    sentences = [
        {"raw": s.raw, "sent": s.sent, "sent_id": s.sent_id, "tokens": list(s.tokens)} for s in ref.sentences
    ]
    name = Path(image.file_name).name
    return {
        "sent_ids": [s.sent_id for s in ref.sentences],
        "file_name": f"{Path(name).stem}_{ref.ref_id}.jpg",
        "ann_id": ref.ann_ids[0],
        "ref_id": ref.ref_id,
        "image_id": ref.image_id,
        "split": _jxu_split(config, ref.split),
        "sentences": sentences,
        "category_id": ann["category_id"],
        "raw_anns": json.dumps(ann, separators=(",", ":")),
        "raw_image_info": json.dumps(
            {"file_name": name, "height": image.height, "width": image.width, "id": ref.image_id},
            separators=(",", ":"),
        ),
        "raw_sentences": json.dumps(sentences, separators=(",", ":")),
        "image_path": f"coco/{image.file_name}",
        "bbox": [float(v) for v in ann["bbox"]],
        "captions": [s.sent for s in ref.sentences],
        "global_image_id": f"coco.{ref.image_id}",
        "anns_id": str(ref.ann_ids[0]),
    }


def _write_per_ref(
    source: Path,
    out: Path,
    present: set[str],
    folders: dict[str, str],
    features,
    row: Callable[[str, Ref, CocoIndex], tuple[str, dict[str, Any]] | None],
) -> None:
    """One Parquet file per split under ``out/<folder>/data/`` for each present config of ``folders``
    (config -> folder): ``row(config, ref, coco)`` gives a ref's ``(split, row)``, or None to skip it."""
    for config, folder in folders.items():
        if config not in present:
            continue
        refs, coco = _load(source, config)
        by_split: dict[str, list[dict[str, Any]]] = {}
        for r in refs:
            got = row(config, r, coco)
            if got is not None:
                by_split.setdefault(got[0], []).append(got[1])
        for split, rows in by_split.items():
            _write_parquet(out / folder / "data" / f"{split}-00000-of-00001.parquet", rows, features)


def _write_jxu124(source: Path, out: Path, present: set[str]) -> None:
    _write_per_ref(
        source,
        out,
        present,
        _JXU,
        _jxu_features(),
        lambda config, r, coco: (_jxu_split(config, r.split), _jxu_row(config, r, coco)),
    )


def _lmms_features():
    import datasets

    v = datasets.Value
    return datasets.Features(
        {
            "question_id": v("string"),
            "image": datasets.Image(),
            "question": v("string"),
            "answer": datasets.List(v("string")),
            "segmentation": datasets.List(v("float32")),
            "bbox": datasets.List(v("float32")),
            "iscrowd": v("int8"),
            "file_name": v("string"),
        }
    )


def _write_lmms(source: Path, out: Path, present: set[str], images: Path) -> None:
    def row(config: str, r: Ref, coco: CocoIndex) -> tuple[str, dict[str, Any]] | None:
        if r.split == "train":
            return None
        ann = coco.anns[r.ann_ids[0]]
        image = coco.images[r.image_id]
        seg = ann["segmentation"]
        if not isinstance(seg, list) or not seg:
            return None  # lmms-lab stores polygons only
        return r.split, {
            "question_id": str(r.ref_id),
            "image": {"bytes": (images / image.file_name).read_bytes(), "path": None},
            "question": _LMMS_PROMPT,
            "answer": [s.sent for s in r.sentences],
            "segmentation": [float(v) for v in seg[0]],
            "bbox": [float(v) for v in ann["bbox"]],
            "iscrowd": int(ann.get("iscrowd", 0)),
            "file_name": f"{Path(image.file_name).stem}_{r.ann_ids[0]}.jpg",
        }

    _write_per_ref(source, out, present, _LMMS, _lmms_features(), row)


_BENCHMARK = {
    "refcoco_unc": "refcoco_unc",
    "refcoco_google": "refcoco_google",
    "refcocoplus_unc": "refcoco_plus_unc",
    "refcocog_umd": "refcocog_umd",
    "refcocog_google": "refcocog_google",
}


def _benchmark_features():
    import datasets

    v = datasets.Value
    sentence = {
        "raw": v("string"),
        "sent": v("string"),
        "sent_id": v("int64"),
        "tokens": datasets.List(v("string")),
    }
    return datasets.Features(
        {
            "ref_list": datasets.List(
                {
                    "ann_info": {
                        "area": v("float64"),
                        "bbox": datasets.List(v("float64")),
                        "category_id": v("int64"),
                        "id": v("int64"),
                        "image_id": v("int64"),
                        "iscrowd": v("int64"),
                        "segmentation": datasets.List(datasets.List(v("float64"))),
                    },
                    "ref_info": {
                        "ann_id": v("int64"),
                        "category_id": v("int64"),
                        "file_name": v("string"),
                        "image_id": v("int64"),
                        "ref_id": v("int64"),
                        "sent_ids": datasets.List(v("int64")),
                        "sentences": datasets.List(sentence),
                        "split": v("string"),
                    },
                }
            ),
            "image_info": {
                "coco_url": v("string"),
                "date_captured": v("string"),
                "file_name": v("string"),
                "flickr_url": v("string"),
                "height": v("int64"),
                "id": v("int64"),
                "license": v("int64"),
                "width": v("int64"),
            },
        }
    )


def _write_benchmark(source: Path, out: Path, present: set[str]) -> None:
    feats = _benchmark_features()
    for config, prefix in _BENCHMARK.items():
        if config not in present:
            continue
        refs, coco = _load(source, config)
        by_split: dict[str, dict[int, list[Ref]]] = {}
        for r in refs:
            ann = coco.anns[r.ann_ids[0]]
            if r.split != "train" and isinstance(ann["segmentation"], list):
                by_split.setdefault(r.split, {}).setdefault(r.image_id, []).append(r)
        for split, images in by_split.items():
            rows = []
            for image_id, items in images.items():
                image = coco.images[image_id]
                name = Path(image.file_name).name
                ref_list = []
                for r in items:
                    ann = coco.anns[r.ann_ids[0]]
                    ref_list.append(
                        {
                            "ann_info": {
                                **{k: ann.get(k) for k in ("area", "bbox", "category_id", "id", "iscrowd")},
                                "image_id": image_id,
                                "segmentation": ann["segmentation"],
                            },
                            "ref_info": {
                                "ann_id": r.ann_ids[0],
                                "category_id": ann["category_id"],
                                "file_name": f"{Path(name).stem}_{r.ref_id}.jpg",
                                "image_id": image_id,
                                "ref_id": r.ref_id,
                                "sent_ids": [s.sent_id for s in r.sentences],
                                "sentences": [
                                    {
                                        "raw": s.raw,
                                        "sent": s.sent,
                                        "sent_id": s.sent_id,
                                        "tokens": list(s.tokens),
                                    }
                                    for s in r.sentences
                                ],
                                "split": r.split,
                            },
                        }
                    )
                rows.append(
                    {
                        "ref_list": ref_list,
                        "image_info": {
                            "coco_url": "",
                            "date_captured": "",
                            "file_name": name,
                            "flickr_url": "",
                            "height": image.height,
                            "id": image_id,
                            "license": 0,
                            "width": image.width,
                        },
                    }
                )
            _write_parquet(out / "data" / f"{prefix}_{split}-00000-of-00001.parquet", rows, feats)


def _write_coco_full(source: Path, out: Path) -> None:
    """The refs files as they are, and one merged COCO instance file per image folder."""
    merged: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, int]] = set()
    for spec in CONFIGS.values():
        folder = source / spec.folder
        if not (folder / "instances.json").is_file():
            continue
        for name in spec.refs_files:
            if (folder / name).is_file():
                (out / spec.folder).mkdir(parents=True, exist_ok=True)
                (out / spec.folder / name).write_bytes((folder / name).read_bytes())
        data = json.loads((folder / "instances.json").read_text(encoding="utf-8"))
        folder_of = {img["id"]: Path(img["file_name"]).name.split("_")[1] for img in data["images"]}
        for key in ("images", "annotations"):
            for item in data[key]:
                image_folder = folder_of[item["id"] if key == "images" else item["image_id"]]
                if (key, item["id"]) in seen:
                    continue
                seen.add((key, item["id"]))
                part = merged.setdefault(
                    image_folder,
                    {
                        "info": data.get("info", {}),
                        "licenses": data.get("licenses", []),
                        "images": [],
                        "annotations": [],
                        "categories": data.get("categories", []),
                    },
                )
                part[key].append(item)
    for image_folder, data in sorted(merged.items()):
        data["images"].sort(key=lambda d: d["id"])
        data["annotations"].sort(key=lambda d: d["id"])
        _dump(out / "annotations" / f"instances_{image_folder}.json", data)


def write_formats(
    source: str | Path, out: str | Path, layouts: Sequence[str] = WRITABLE, images: str | Path | None = None
) -> Path:
    """Write the official-layout ``source`` in each of ``layouts`` under ``out/{layout}/``; returns ``out``.

    ``images`` (default ``source/images``) is read for the lmms-lab copies, which embed the images.
    """
    source, out = Path(source), Path(out)
    present = set(official_available(source))
    images = Path(images) if images is not None else source / "images"
    writers = {
        "zip": lambda: _write_zips(source, out / "zip"),
        "instancevg": lambda: _write_instancevg(source, out / "instancevg", present),
        "jxu124": lambda: _write_jxu124(source, out / "jxu124", present),
        "lmms-lab": lambda: _write_lmms(source, out / "lmms-lab", present, images),
        "jxu124-benchmark": lambda: _write_benchmark(source, out / "jxu124-benchmark", present),
        "coco-full": lambda: _write_coco_full(source, out / "coco-full"),
    }
    for layout in layouts:
        writers[layout]()
    return out
