"""Real excerpts (COCO objects, RefCOCO sentences; ``fixtures/README.md``) written in every layout: each
builds to the official build's rows, and every mask equals pycocotools' own conversion pixel for pixel."""

import csv
import json
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from pycocotools import mask as mask_utils

from datasets_builders.build import build_dataset
from datasets_builders.reading import iter_rows, list_configs, shard_paths
from datasets_builders.write_formats import write_formats
from tests.datasets_builders.formats_compare import compare_builds

FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = ("zip", "coco-full", "instancevg", "jxu124", "lmms-lab", "jxu124-benchmark")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """An official-layout source from the excerpts, its build, and its build in every other layout."""
    root = tmp_path_factory.mktemp("realformats")
    src = root / "src"
    coco = json.loads((FIXTURES / "coco_val2014_excerpt.json").read_text())
    for img in coco["images"]:
        path = src / "images" / "val2014" / img["file_name"]
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (img["width"], img["height"]), (128, 128, 128)).save(path, format="JPEG")
    solid = sorted((a for a in coco["annotations"] if not a["iscrowd"]), key=lambda a: a["id"])
    crowd = next(a for a in coco["annotations"] if a["iscrowd"])
    with open(FIXTURES / "refcoco_unc_sentences.csv", newline="", encoding="utf-8") as f:
        by_ref = defaultdict(list)
        for row in csv.DictReader(f):
            by_ref[int(row["ref_id"])].append(row)
    refs = []
    for k, (ref_id, rows) in enumerate(sorted(by_ref.items())):
        ann = solid[k]
        sentences = [
            {"tokens": r["sent"].split(), "raw": r["sent"], "sent_id": int(r["sent_id"]), "sent": r["sent"]}
            for r in rows
        ]
        refs.append(
            {
                "sent_ids": [s["sent_id"] for s in sentences],
                "file_name": f"COCO_val2014_{ann['image_id']:012d}_{k}.jpg",
                "ann_id": ann["id"],
                "ref_id": ref_id,
                "image_id": ann["image_id"],
                "split": "val" if k < 6 else "testA",
                "sentences": sentences,
                "category_id": ann["category_id"],
            }
        )
    umd = [{**r, "split": "val" if r["split"] == "val" else "test"} for r in refs]
    for folder, name, items in (
        ("refcoco", "refs(unc).p", refs),
        ("refcoco+", "refs(unc).p", refs),
        ("refcocog", "refs(umd).p", umd),
    ):
        (src / folder).mkdir(parents=True)
        (src / folder / "instances.json").write_text(json.dumps(coco))
        (src / folder / name).write_bytes(pickle.dumps(items, protocol=2))
    person = [
        a for a in solid if a["image_id"] == crowd["image_id"] and a["category_id"] == crowd["category_id"]
    ]
    grefs = [
        {
            **refs[0],
            "ann_id": [refs[0]["ann_id"]],
            "category_id": [refs[0]["category_id"]],
            "no_target": False,
        },
        {
            **refs[1],
            "ann_id": [person[0]["id"], person[1]["id"], crowd["id"]],
            "image_id": crowd["image_id"],
            "category_id": [1, 1, 1],
            "no_target": False,
        },
        {**refs[2], "ann_id": [-1], "category_id": [-1], "no_target": True},
    ]
    (src / "grefcoco").mkdir()
    (src / "grefcoco" / "instances.json").write_text(json.dumps(coco))
    (src / "grefcoco" / "grefs(unc).json").write_text(json.dumps(grefs))
    write_formats(src, root / "formats")
    official = build_dataset(src, root / "b_official", quiet=True)
    builds = {
        layout: build_dataset(
            root / "formats" / layout, root / f"b_{layout}", images=src / "images", quiet=True
        )
        for layout in LAYOUTS
    }
    return coco, official, builds


def _pycocotools_mask(ann, height, width):
    segm = ann["segmentation"]
    if isinstance(segm, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    else:
        rle = mask_utils.frPyObjects(segm, height, width)
    return mask_utils.decode(rle)


def _decode(rle):
    return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})


def test_official_build_of_the_excerpts(real):
    _, official, _ = real
    assert set(list_configs(official)) == {"refcoco_unc", "refcocoplus_unc", "refcocog_umd", "grefcoco_unc"}
    rows = list(iter_rows(official, "grefcoco_unc", "val"))
    assert [r["target_type"] for r in rows][:1] == ["single"]
    assert any(r["no_target"] for r in rows)
    assert any(any(t["iscrowd"] for t in r["targets"]) for r in rows)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_real_excerpts_build_equal_in_every_layout(real, layout):
    coco, official, builds = real
    multipart = {
        a["id"]
        for a in coco["annotations"]
        if isinstance(a["segmentation"], list) and len(a["segmentation"]) > 1
    }
    n, diffs = compare_builds(official, builds[layout], layout, multipart if layout == "lmms-lab" else None)
    assert n >= 20
    assert diffs == []


@pytest.mark.parametrize("layout", ["official", *LAYOUTS])
def test_masks_equal_pycocotools_pixel_for_pixel(real, layout):
    coco, official, builds = real
    build = official if layout == "official" else builds[layout]
    anns = {a["id"]: a for a in coco["annotations"]}
    by_box = {(a["image_id"], tuple(a["bbox"])): a for a in coco["annotations"]}
    checked = 0
    for config, splits in list_configs(build).items():
        for split in splits:
            for row in iter_rows(build, config, split):
                union = np.zeros((row["height"], row["width"]), dtype=np.uint8)
                partial = False
                for t in row["targets"]:
                    # sources without annotation ids (lmms-lab) are matched by image and box
                    ann = anns.get(t["ann_id"]) or by_box[(row["image_id"], tuple(t["bbox"]))]
                    if layout == "lmms-lab" and len(ann["segmentation"]) > 1:
                        partial = True  # lmms-lab keeps one polygon of a multi-part object
                        continue
                    expected = _pycocotools_mask(ann, row["height"], row["width"])
                    assert np.array_equal(_decode(t["mask"]), expected), (layout, row["expr_id"], ann["id"])
                    if not ann["iscrowd"]:
                        union |= expected
                    checked += 1
                if not partial:
                    assert np.array_equal(_decode(row["mask"]), union), (layout, row["expr_id"])
    assert checked >= 20


def test_real_build_carries_licence_and_citation(real):
    _, official, builds = real
    text = (official / "README.md").read_text()
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["license"] == "cc-by-4.0"
    assert "@inproceedings{kazemzadeh2014referitgame" in header["citation"]
    assert "@inproceedings{liu2023gres" in header["citation"]
    meta = json.loads(pq.read_schema(shard_paths(official, "grefcoco_unc", "val")[0]).metadata[b"vgbench"])
    assert meta["license"] == "cc-by-4.0"
    assert "liu2023gres" in meta["citation"]
    assert "kazemzadeh" not in meta["citation"]  # per config: gRefCOCO shards cite gRefCOCO and COCO
    manifest = json.loads((builds["jxu124"] / "vgbench_build.json").read_text())
    assert manifest["dataset_info"]["synthetic"] is False


def test_class_labels_decode_to_coco_names(real):
    import datasets

    _, official, _ = real
    ds = datasets.load_dataset(str(official), "refcoco_unc", split="val").remove_columns("image")
    feats = ds.features
    row = ds[0]
    names = [feats["category_labels"].feature.int2str(i) for i in row["category_labels"]]
    assert names == row["category_names"]
    assert feats["target_type_label"].int2str(row["target_type_label"]) == row["target_type"]
    assert feats["targets"].feature["bbox"].length == 4
