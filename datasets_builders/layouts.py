"""The source layouts ``vgbench build`` reads, their detection, and one loading interface for all.

Every layout turns its files into the same normalised `Ref` list + `CocoIndex` per config, so the
rows (`rows.ref_rows`), masks and writers are shared. ``--format NAME`` names a layout; without it
the first layout found under ``SOURCE`` (in `LAYOUTS` order) is read. `notes` says, per layout,
which row fields the source lacks or are derived, the split-name mapping and whether ``expr_id``
joins with a build of the official files; the card prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasets_builders import src_hub, src_instancevg, src_official
from datasets_builders.coco import CocoIndex
from datasets_builders.configs import CONFIGS, REFMIX, ConfigSpec
from datasets_builders.sources import Ref
from evaluators.errors import InputError

__all__ = [
    "LAYOUTS",
    "Notes",
    "available",
    "check_layout",
    "clear_caches",
    "config_coco",
    "config_refs",
    "detect",
    "expr_prefix",
    "notes",
    "refmix_computed",
    "spec_for",
]

LAYOUTS: dict[str, str] = {
    "official": "refer folders: refcoco/refs(unc).p + instances.json, grefcoco/grefs(unc).json, ... "
    "(instances.json may be replaced by COCO's annotations/instances_train2014.json)",
    "zip": "the original refcoco.zip, refcoco+.zip, refcocog.zip, read in place",
    "instancevg": "InstanceVG's annotations: mixed-seg/instances_nogoogle_withid.json, grefs/instance.json, "
    "ref-zom/instance.json, rrefcoco/instance.json",
    "jxu124": "Hub Parquet copies jxu124/refcoco, refcocoplus, refcocog (one folder each)",
    "lmms-lab": "Hub Parquet copies lmms-lab/RefCOCO, RefCOCOplus, RefCOCOg (one folder each)",
    "jxu124-benchmark": "Hub Parquet copy jxu124/refcoco-benchmark (one row per image, eval splits)",
}

# refmix_train of a source that has no mixed training set of its own is computed from the train splits
_REFMIX_COMPUTED = ("official", "zip")
_REFMIX_SPEC = ConfigSpec(REFMIX, "refmix", "mixed-seg", (), "refer", ("train",))


@dataclass(frozen=True)
class Notes:
    """What a layout's rows lack or derive, how its split names map, whether ``expr_id`` joins."""

    missing: str
    derived: str
    splits: str
    joinable: str


_NOTES = {
    "official": Notes(
        "nothing", "nothing", "kept as the refs files spell them", "yes (this is the reference build)"
    ),
    "zip": Notes(
        "nothing",
        "nothing",
        "kept as the refs files spell them",
        "yes: the zips hold the official refs files",
    ),
    "instancevg": Notes(
        "`area` (recomputed from the mask); `category_id` and `iscrowd` of RefCOCO/+/g targets unless the "
        "record has them; category names (no category table); the original `sent` (only one text per "
        "expression is stored)",
        "`sentence` = InstanceVG's cleaning of the stored text, `raw` = the stored text, `tokens` = its "
        "words; `ref_id`, `sent_id` and annotation ids when a record has none (ref_id = record index, "
        "sent_id = expression index in its split, ann_id negative); `refmix_train` sent ids are always the "
        "expression index (its records do not say their source dataset)",
        "mixed-seg `train` -> `refmix_train/train`; `{split}_{config}` (e.g. `val_refcoco_unc`, "
        "`testA_refcocoplus_unc`, `test_refcocog_umd`) -> `{config}/{split}`; gRefCOCO and Ref-ZOM kept; "
        "R-RefCOCO `train` -> `rrefcoco_unc/train`, `val_rrefcoco` / `val_rrefcoco+` / `val_rrefcocog` -> "
        "`rrefcoco_unc` / `rrefcocoplus_unc` / `rrefcocog_umd` val",
        "only where the records carry `sent_ids` / `sent_id` (the withid files); derived ids do not join, "
        "and `refmix_train` never joins",
    ),
    "jxu124": Notes(
        "category names (no category table)",
        "nothing else: `raw_anns` and `raw_image_info` carry the COCO annotation and image",
        "`train` -> `train`, `validation` -> `val`, `test` -> `testA` (RefCOCO, RefCOCO+) or `test` "
        "(RefCOCOg, umd), `testB` -> `testB`; RefCOCO is the unc split, RefCOCOg the umd split",
        "yes: ref ids and sent ids are the official ones",
    ),
    "lmms-lab": Notes(
        "`sent_id`, annotation ids, `category_id` (0) and names, `area` (recomputed from the mask), "
        "`tokens` of the source, polygon parts beyond the one flat polygon stored, train splits",
        "`sent_id` = sentence index in its split, annotation ids negative, `ref_id` = `question_id` when "
        "it is an integer, image size from the embedded image, float32 boxes and polygons read back as "
        "their shortest decimal",
        "kept as spelled (`val`, `test`, `testA`, `testB`); its `val` is not the official val (about "
        "5,000 more rows): compare the counts table",
        "no: sent ids are derived",
    ),
    "jxu124-benchmark": Notes(
        "category names (no category table), train splits, crowd (RLE) targets",
        "nothing else: `ann_info` and `image_info` carry the COCO annotation and image",
        "one file per `{dataset}_{splitBy}_{split}`: `refcoco_unc_val` -> `refcoco_unc/val`, "
        "`refcoco_plus_unc_testA` -> `refcocoplus_unc/testA`, `refcoco_google_test` -> `refcoco_google/test`, "
        "`refcocog_google_val` -> `refcocog_google/val`",
        "yes: ref ids and sent ids are the official ones",
    ),
}


def _instancevg_detect(source: Path) -> bool:
    return any(src_instancevg.find_file(source, k) is not None for k in src_instancevg.FILES)


def detect(source: Path) -> str:
    """The first layout found under ``source``; `InputError` listing the layouts read otherwise."""
    if src_official.official_available(source):
        return "official"
    if any((source / f"{f}.zip").is_file() for f in src_official.ZIP_FOLDERS):
        return "zip"
    if _instancevg_detect(source):
        return "instancevg"
    for kind in ("jxu124", "lmms-lab", "jxu124-benchmark"):
        if src_hub.dataset_folders(source, kind):
            return kind
    listing = "; ".join(f"{k}: {v}" for k, v in LAYOUTS.items())
    raise InputError(f"{source}: unknown layout, no source files found (layouts read: {listing})")


def check_layout(name: str) -> str:
    if name not in LAYOUTS:
        raise InputError(f"--format: unknown layout {name!r}; layouts read: {', '.join(LAYOUTS)}")
    return name


def available(source: Path, layout: str) -> dict[str, list[Path]]:
    """config -> source files (hashed into the card) of every config ``layout`` finds under ``source``."""
    if layout == "official":
        return src_official.official_available(source)
    if layout == "zip":
        return src_official.zip_available(source)
    if layout == "instancevg":
        return src_instancevg.available(source)
    return src_hub.available(source, layout)


def refmix_computed(layout: str) -> bool:
    """Whether ``refmix_train`` is computed from the train splits (else the source provides it)."""
    return layout in _REFMIX_COMPUTED


# layout -> (refs reader, COCO index reader), each ``(source, config)``; the Hub layouts: `src_hub`
_READERS = {
    "official": (src_official.official_refs, src_official.official_coco),
    "zip": (src_official.zip_refs, src_official.zip_coco),
    "instancevg": (src_instancevg.refs, src_instancevg.coco),
}


def config_refs(source: Path, layout: str, config: str) -> tuple[str, list[Ref]]:
    """``(file named in errors, refs)`` of one config (cached per process by each reader)."""
    if layout in _READERS:
        return _READERS[layout][0](source, config)
    return src_hub.refs(source, layout, config)


def config_coco(source: Path, layout: str, config: str) -> CocoIndex:
    """The COCO index the refs of ``config`` point into."""
    if layout in _READERS:
        return _READERS[layout][1](source, config)
    return src_hub.coco(source, layout, config)


def spec_for(config: str) -> ConfigSpec:
    """The `ConfigSpec` giving a row's dataset name (``refmix_train`` read whole from a source)."""
    return _REFMIX_SPEC if config == REFMIX else CONFIGS[config]


def expr_prefix(layout: str, config: str, split: str) -> str:
    """``expr_id`` prefix of a config read directly from a source."""
    if config == REFMIX:
        return f"{REFMIX}/train/{layout}"
    return f"{config}/{split}"


def notes(layout: str) -> Notes:
    return _NOTES[layout]


def clear_caches() -> None:
    """Forget every parsed source (a build starts and ends with this: files may change in between)."""
    from datasets_builders import coco_stream

    for fn in (
        src_official.official_refs,
        src_official._instances,
        src_official.zip_refs,
        src_official._zip_instances,
        src_instancevg._parse,
        src_hub._read,
        coco_stream.stream_index,
    ):
        fn.cache_clear()
