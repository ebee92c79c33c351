"""Hub Parquet copies of RefCOCO/+/g -> `Ref` + `CocoIndex`: ``jxu124/*`` and ``lmms-lab/*``.

Layout: one folder per dataset under ``SOURCE`` (as ``huggingface-cli download ... --local-dir``
leaves it), its ``*.parquet`` files anywhere below (``data/train-00000-of-00001.parquet`` ...).
Folder names (case-insensitive): ``refcoco``, ``refcocoplus`` (or ``refcoco+``), ``refcocog``. Which
copy a folder is comes from its columns (``raw_anns`` -> jxu124, ``question_id`` -> lmms-lab).

``jxu124/refcoco|refcocoplus|refcocog``: one row per ref with ``ref_id``, ``ann_id``, ``image_id``,
``category_id``, ``split``, ``sentences`` (``[{raw, sent, sent_id, tokens}]``), ``bbox``, ``raw_anns``
(the COCO annotation as a JSON string: segmentation, area, iscrowd, bbox, category_id, id) and
``raw_image_info`` (the COCO image as a JSON string: file_name, height, width, id). Splits
``train`` / ``validation`` / ``test`` / ``testB``: ``validation`` -> ``val``; ``test`` -> ``testA`` for
RefCOCO and RefCOCO+, ``test`` for RefCOCOg (the umd split). Everything of the official row is there.

``lmms-lab/RefCOCO|RefCOCOplus|RefCOCOg``: eval splits only, one row per ref with ``question_id``,
``image`` (embedded bytes), ``question`` (a prompt), ``answer`` (the ref's sentences), one flat float32
polygon ``segmentation``, float32 ``bbox`` ``[x, y, w, h]``, ``iscrowd`` and ``file_name``
(``COCO_train2014_{image_id:012d}_{n}.jpg``). No sent ids, ann ids, category or area: sent ids and
ann ids are derived, ``ref_id`` is ``question_id`` when it is an integer (else the row index), the
image size is read from the embedded image, float32 numbers are read back as their shortest decimal
(`shortest_float`). Split names are kept as spelled.

``jxu124/refcoco-benchmark`` (folder ``SOURCE/refcoco-benchmark`` or ``SOURCE`` itself): one row per
image with ``image_info`` (the COCO image) and ``ref_list`` (``[{ann_info, ref_info}]``: the COCO
annotation with its polygons, and the ref with ``sentences`` and ``split``). Eval splits only, one file
per ``{dataset}_{splitBy}_{split}`` (``refcoco_unc_val``, ``refcoco_google_test``,
``refcoco_plus_unc_testA``, ``refcocog_umd_test``, ``refcocog_google_val`` ...) -> config
``{dataset}_{splitBy}`` (``refcoco_plus`` -> ``refcocoplus``), split as spelled.
"""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

from datasets_builders.coco import CocoIndex, image_folder
from datasets_builders.derived_index import IndexBuilder, image_id_from_name, shortest_float
from datasets_builders.sources import Ref, Sentence
from evaluators.errors import InputError

__all__ = [
    "BENCHMARK_COLUMNS",
    "FOLDERS",
    "JXU124_COLUMNS",
    "LMMS_COLUMNS",
    "available",
    "benchmark_split",
    "coco",
    "dataset_folders",
    "extract_images",
    "refs",
]

FOLDERS = {"refcoco": "refcoco_unc", "refcocoplus": "refcocoplus_unc", "refcoco+": "refcocoplus_unc"}
FOLDERS["refcocog"] = "refcocog_umd"
JXU124_COLUMNS = ("ref_id", "ann_id", "image_id", "split", "sentences", "raw_anns", "raw_image_info")
LMMS_COLUMNS = ("question_id", "image", "answer", "segmentation", "bbox", "iscrowd", "file_name")
BENCHMARK_COLUMNS = ("image_info", "ref_list")
_JXU_SPLITS = {"train": "train", "validation": "val", "testB": "testB", "val": "val", "testA": "testA"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.parquet") if p.is_file())


def _columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types on corrupt files
        raise InputError(f"{path}: cannot read Parquet: {exc}") from None


def kind_of(path: Path) -> str | None:
    """``jxu124``, ``lmms-lab`` or None from a Parquet file's columns."""
    names = set(_columns(path))
    if "raw_anns" in names:
        return "jxu124"
    if "question_id" in names:
        return "lmms-lab"
    if "ref_list" in names:
        return "jxu124-benchmark"
    return None


def benchmark_split(path: Path) -> tuple[str, str] | None:
    """``(config, split)`` of a refcoco-benchmark file (``refcoco_plus_unc_testA-...`` ->
    ``("refcocoplus_unc", "testA")``), or None."""
    name = _split_of(path)
    parts = name.replace("refcoco_plus", "refcocoplus").split("_")
    if len(parts) != 3:
        return None
    config = f"{parts[0]}_{parts[1]}"
    return (config, parts[2]) if config in FOLDERS.values() or config in _BENCHMARK_CONFIGS else None


_BENCHMARK_CONFIGS = ("refcoco_unc", "refcoco_google", "refcocoplus_unc", "refcocog_umd", "refcocog_google")


def _benchmark_folder(source: Path) -> Path | None:
    for folder in (source / "refcoco-benchmark", source):
        files = _files(folder) if folder.is_dir() else []
        if files and kind_of(files[0]) == "jxu124-benchmark":
            return folder
    return None


def dataset_folders(source: Path, kind: str) -> dict[str, Path]:
    """config -> folder of the copies of ``kind`` under ``source``."""
    out: dict[str, Path] = {}
    if not source.is_dir():
        return out
    if kind == "jxu124-benchmark":
        folder = _benchmark_folder(source)
        if folder is not None:
            for path in _files(folder):
                target = benchmark_split(path)
                if target is not None:
                    out[target[0]] = folder
        return out
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        config = FOLDERS.get(folder.name.lower())
        files = _files(folder) if config else []
        if files and kind_of(files[0]) == kind:
            out[config] = folder
    return out


def _config_files(folder: Path, kind: str, config: str) -> list[Path]:
    if kind != "jxu124-benchmark":
        return _files(folder)
    return [p for p in _files(folder) if (benchmark_split(p) or ("",))[0] == config]


def available(source: Path, kind: str) -> dict[str, list[Path]]:
    return {c: _config_files(f, kind, c) for c, f in dataset_folders(source, kind).items()}


def _batches(path: Path, required: tuple[str, ...], optional: tuple[str, ...], batch_size: int):
    import pyarrow.parquet as pq

    names = _columns(path)
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{path}: column {missing[0]}: missing (expected {', '.join(required)})")
    cols = [*required, *(c for c in optional if c in names)]
    k = 0
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=batch_size, columns=cols):
            for row in batch.to_pylist():
                yield k, row
                k += 1
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read Parquet: {exc}") from None


def _json_field(row: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(row[key]) if isinstance(row[key], str) else row[key]
    except ValueError as exc:
        raise InputError(f"{where}: {key}: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(f"{where}: {key}: expected a JSON object")
    return value


def _need(obj: dict[str, Any], key: str, where: str) -> Any:
    if obj.get(key) is None:
        raise InputError(f"{where}: {key}: missing")
    return obj[key]


def _jxu_split(config: str, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: split: expected a string, got {value!r}")
    if value == "test":
        return "test" if config == "refcocog_umd" else "testA"
    return _JXU_SPLITS.get(value, value)


def _jxu_sentences(value: Any, where: str) -> tuple[Sentence, ...]:
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: sentences: expected a non-empty list")
    out = []
    for j, s in enumerate(value):
        if not isinstance(s, dict) or s.get("sent_id") is None or s.get("sent") is None:
            raise InputError(f"{where}: sentences[{j}]: expected {{raw, sent, sent_id, tokens}}")
        tokens = s.get("tokens")
        tokens = tuple(tokens) if isinstance(tokens, list) else tuple(str(s["sent"]).split())
        out.append(Sentence(int(s["sent_id"]), str(s["sent"]), str(s.get("raw") or s["sent"]), tokens))
    return tuple(out)


def _add_image(b: IndexBuilder, image_id: int, info: dict, where: str, column: str) -> None:
    """Index the image a row's ``column`` struct describes (file name, default the COCO train2014 one)."""
    b.image(
        image_id,
        str(info.get("file_name") or f"COCO_train2014_{image_id:012d}.jpg"),
        _need(info, "height", f"{where}: {column}"),
        _need(info, "width", f"{where}: {column}"),
        where,
    )


def _read_jxu124(folder: Path, config: str) -> tuple[list[Ref], CocoIndex]:
    b = IndexBuilder(str(folder))
    out: list[Ref] = []
    for path in _files(folder):
        for k, row in _batches(path, JXU124_COLUMNS, ("bbox", "category_id"), 2048):
            where = f"{path}:row {k}"
            info = _json_field(row, "raw_image_info", where)
            ann = _json_field(row, "raw_anns", where)
            image_id = int(_need(row, "image_id", where))
            _add_image(b, image_id, info, where, "raw_image_info")
            full = {
                "id": ann.get("id", row["ann_id"]),
                "image_id": image_id,
                "category_id": ann.get("category_id", row.get("category_id")),
                "iscrowd": ann.get("iscrowd", 0),
                "bbox": ann.get("bbox", row.get("bbox")),
                "segmentation": _need(ann, "segmentation", f"{where}: raw_anns"),
                "area": ann.get("area"),
            }
            ann_id = b.ann(full, f"{where}: raw_anns")
            split = _jxu_split(config, row["split"], where)
            ref_id = int(_need(row, "ref_id", where))
            out.append(
                Ref(ref_id, image_id, split, (ann_id,), False, _jxu_sentences(row["sentences"], where))
            )
    return out, b.index


def _image_size(image: Any, where: str) -> tuple[int, int]:
    from PIL import Image

    data = image.get("bytes") if isinstance(image, dict) else None
    if not data:
        raise InputError(f"{where}: image: no embedded image bytes (the image size comes from it)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except OSError as exc:
        raise InputError(f"{where}: image: cannot decode: {exc}") from None
    return height, width


def _split_of(path: Path) -> str:
    """The split of a Hub Parquet file from its name (``val-00000-of-00004.parquet`` -> ``val``)."""
    return path.name.split("-", 1)[0]


def _read_lmms(folder: Path, config: str) -> tuple[list[Ref], CocoIndex]:
    b = IndexBuilder(str(folder))
    out: list[Ref] = []
    counters: dict[str, int] = {}
    for path in _files(folder):
        split = _split_of(path)
        for k, row in _batches(path, LMMS_COLUMNS, (), 64):
            where = f"{path}:row {k}"
            file_name = str(_need(row, "file_name", where))
            image_id = image_id_from_name(file_name, where)
            height, width = _image_size(row["image"], where)
            folder = image_folder(file_name) or "train2014"  # the name carries a fake _NN suffix
            b.image(image_id, f"COCO_{folder}_{image_id:012d}.jpg", height, width, where)
            seg = row["segmentation"]
            if not isinstance(seg, list) or len(seg) < 6:
                raise InputError(f"{where}: segmentation: expected one flat polygon [x1, y1, x2, y2, ...]")
            box = row["bbox"]
            if not isinstance(box, list) or len(box) != 4:
                raise InputError(f"{where}: bbox: expected [x, y, w, h], got {box!r}")
            ann = {
                "id": None,
                "image_id": image_id,
                "iscrowd": row["iscrowd"] or 0,
                "bbox": [shortest_float(v) for v in box],
                "segmentation": [[shortest_float(v) for v in seg]],
            }
            ann_id = b.ann(ann, where)
            answers = row["answer"]
            if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
                raise InputError(f"{where}: answer: expected a non-empty list of sentences")
            first = counters.get(split, 0)
            counters[split] = first + len(answers)
            sents = tuple(Sentence(first + j, a, a, tuple(a.split())) for j, a in enumerate(answers))
            qid = str(row["question_id"])
            ref_id = int(qid) if qid.isdigit() else k
            out.append(Ref(ref_id, image_id, split, (ann_id,), False, sents))
    return out, b.index


def _read_benchmark(folder: Path, config: str) -> tuple[list[Ref], CocoIndex]:
    b = IndexBuilder(str(folder))
    out: list[Ref] = []
    for path in _config_files(folder, "jxu124-benchmark", config):
        split = benchmark_split(path)[1]  # type: ignore[index]
        for k, row in _batches(path, BENCHMARK_COLUMNS, (), 256):
            where = f"{path}:row {k}"
            info = row["image_info"]
            if not isinstance(info, dict):
                raise InputError(f"{where}: image_info: expected a struct")
            image_id = int(_need(info, "id", f"{where}: image_info"))
            _add_image(b, image_id, info, where, "image_info")
            if not isinstance(row["ref_list"], list):
                raise InputError(f"{where}: ref_list: expected a list")
            for j, item in enumerate(row["ref_list"]):
                item_where = f"{where}: ref_list[{j}]"
                ann = (item or {}).get("ann_info")
                ref = (item or {}).get("ref_info")
                if not isinstance(ann, dict) or not isinstance(ref, dict):
                    raise InputError(f"{item_where}: expected {{ann_info, ref_info}}")
                ann_id = b.ann(
                    {
                        **ann,
                        "image_id": image_id,
                        "segmentation": _need(ann, "segmentation", f"{item_where}.ann_info"),
                    },
                    f"{item_where}.ann_info",
                )
                ref_split = str(ref.get("split") or split)
                sents = _jxu_sentences(ref.get("sentences"), f"{item_where}.ref_info")
                ref_id = int(_need(ref, "ref_id", f"{item_where}.ref_info"))
                out.append(Ref(ref_id, image_id, ref_split, (ann_id,), False, sents))
    return out, b.index


@functools.lru_cache(maxsize=2)
def _read(folder: Path, kind: str, config: str) -> tuple[list[Ref], CocoIndex]:
    if kind == "jxu124":
        return _read_jxu124(folder, config)
    if kind == "jxu124-benchmark":
        return _read_benchmark(folder, config)
    return _read_lmms(folder, config)


def refs(source: Path, kind: str, config: str) -> tuple[str, list[Ref]]:
    folder = dataset_folders(source, kind)[config]
    return str(folder), _read(folder, kind, config)[0]


def coco(source: Path, kind: str, config: str) -> CocoIndex:
    folder = dataset_folders(source, kind)[config]
    return _read(folder, kind, config)[1]


def extract_images(source: Path, out_dir: Path) -> int:
    """Write the images the lmms-lab copies under ``source`` embed to ``out_dir/{folder}/COCO_...jpg``
    (one file per image id, batch by batch); returns how many were written. ``--embed-images`` uses
    them when no COCO images folder is given."""
    written = 0
    for folder in dataset_folders(source, "lmms-lab").values():
        for path in _files(folder):
            for k, row in _batches(path, ("file_name", "image"), (), 64):
                where = f"{path}:row {k}"
                file_name = str(_need(row, "file_name", where))
                image_id = image_id_from_name(file_name, where)
                coco_folder = image_folder(file_name) or "train2014"
                target = out_dir / coco_folder / f"COCO_{coco_folder}_{image_id:012d}.jpg"
                if target.exists():
                    continue
                data = row["image"].get("bytes") if isinstance(row["image"], dict) else None
                if not data:
                    raise InputError(f"{where}: image: no embedded image bytes")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                written += 1
    return written
