"""Readers proven on real text and ids: the RefCOCO/+/g expression excerpts and the first records of
RefCOCO's ``instances.json`` / ``refs(unc).p`` are written as official source files and built.

The excerpts' COCO ids do not join with the COCO instance excerpt, so the test makes one box-shaped
annotation per referred object (its real box) and an image entry per real image id.
"""

import ast
import csv
import json
import math
import pickle
from collections import defaultdict

import pytest

from datasets_builders.build import MANIFEST, build_dataset
from datasets_builders.configs import REFMIX
from datasets_builders.reading import iter_rows, list_configs
from tests.datasets_builders.realdata import REFER_CSV, REFER_DOCS, needs_realdata

pytestmark = needs_realdata

# excerpt file stem -> (source folder, refs file, config, split)
EXCERPTS = {
    "refcoco_unc_val": ("refcoco", "refs(unc).p", "refcoco_unc", "val"),
    "refcoco_unc_testA": ("refcoco", "refs(unc).p", "refcoco_unc", "testA"),
    "refcoco_unc_testB": ("refcoco", "refs(unc).p", "refcoco_unc", "testB"),
    "refcoco+_unc_val": ("refcoco+", "refs(unc).p", "refcocoplus_unc", "val"),
    "refcoco+_unc_testA": ("refcoco+", "refs(unc).p", "refcocoplus_unc", "testA"),
    "refcoco+_unc_testB": ("refcoco+", "refs(unc).p", "refcocoplus_unc", "testB"),
    "refcocog_umd_val": ("refcocog", "refs(umd).p", "refcocog_umd", "val"),
    "refcocog_umd_test": ("refcocog", "refs(umd).p", "refcocog_umd", "test"),
    "refcocog_google_val": ("refcocog", "refs(google).p", "refcocog_google", "val"),
}


def _read_csv(stem):
    with open(REFER_CSV / f"{stem}.excerpt.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def real_source(tmp_path_factory):
    """Official-shaped source files from the excerpts; returns (source dir, expected rows by config/split)."""
    root = tmp_path_factory.mktemp("real") / "src"
    docs = json.loads(REFER_DOCS.read_text())
    refs = defaultdict(list)  # (folder, refs file) -> refs
    boxes = defaultdict(dict)  # folder -> (image_id, box) -> ann_id
    expected = defaultdict(list)
    for stem, (folder, refs_file, config, split) in EXCERPTS.items():
        by_ref = defaultdict(list)
        for row in _read_csv(stem):
            by_ref[int(row["ref_id"])].append(row)
        for ref_id, rows in by_ref.items():
            image_id, box = int(rows[0]["img_id"]), tuple(ast.literal_eval(rows[0]["bbox"]))
            ann_id = boxes[folder].setdefault((image_id, box), 900000 + len(boxes[folder]))
            sentences = [
                {
                    "tokens": r["sent"].split(),
                    "raw": r["sent"],
                    "sent_id": int(r["sent_id"]),
                    "sent": r["sent"],
                }
                for r in rows
            ]
            refs[(folder, refs_file)].append(
                {
                    "sent_ids": [s["sent_id"] for s in sentences],
                    "file_name": f"COCO_train2014_{image_id:012d}_{ann_id}.jpg",
                    "ann_id": ann_id,
                    "ref_id": ref_id,
                    "image_id": image_id,
                    "split": split,
                    "sentences": sentences,
                    "category_id": 1,
                }
            )
            expected[(config, split)] += [
                (int(r["sent_id"]), r["sent"], list(box), ref_id, image_id) for r in rows
            ]
    # the real first ref of RefCOCO refs(unc).p, and the real image/annotation records of instances.json
    first_ref = docs["refcoco_refs_unc_p_ref_example"]
    refs[("refcoco", "refs(unc).p")].append(first_ref)
    for folder, items in boxes.items():
        images = {image_id for image_id, _ in items}
        anns = [
            {
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                "area": w * h,
                "iscrowd": 0,
                "image_id": image_id,
                "bbox": [x, y, w, h],
                "category_id": 1,
                "id": ann_id,
            }
            for (image_id, (x, y, w, h)), ann_id in items.items()
        ]
        extent = {i: 0.0 for i in images}
        for (image_id, (x, y, w, h)), _ in items.items():
            extent[image_id] = max(extent[image_id], x + w, y + h)
        image_entries = [
            {
                "file_name": f"COCO_train2014_{i:012d}.jpg",
                "height": 640,
                "width": max(640, math.ceil(extent[i])),
                "id": i,
            }
            for i in sorted(images)
        ]
        if folder == "refcoco":
            image_entries += [docs["refcoco_instances_json_image_example"]]
            image_entries.append(
                {"file_name": "COCO_train2014_000000581857.jpg", "height": 480, "width": 640, "id": 581857}
            )
            anns.append(docs["refcoco_instances_json_annotation_example"])
            anns.append({**anns[0], "id": first_ref["ann_id"], "image_id": 581857})
        (root / folder).mkdir(parents=True, exist_ok=True)
        categories = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]
        (root / folder / "instances.json").write_text(
            json.dumps({"images": image_entries, "annotations": anns, "categories": categories})
        )
    for (folder, refs_file), items in refs.items():
        (root / folder / refs_file).write_bytes(pickle.dumps(items, protocol=2))
    return root, expected, first_ref


@pytest.fixture(scope="module")
def real_build(real_source, tmp_path_factory):
    root, _, _ = real_source
    return build_dataset(root, tmp_path_factory.mktemp("realbuild") / "data", quiet=True)


def test_real_expressions_are_built_verbatim(real_source, real_build):
    _, expected, _ = real_source
    stats = json.loads((REFER_CSV / "full_split_stats.json").read_text())
    for stem, (_, _, config, split) in EXCERPTS.items():
        rows = list(iter_rows(real_build, config, split))
        assert len(rows) == stats[stem]["excerpt_rows"]
        got = [
            (r["sent_id"], r["sentence"], r["targets"][0]["bbox"], r["ref_id"], r["image_id"]) for r in rows
        ]
        assert sorted(got) == sorted(expected[(config, split)])
        for r in rows:
            assert r["expr_id"] == f"{config}/{split}/{r['sent_id']}"
            assert r["file_name"] == f"train2014/COCO_train2014_{r['image_id']:012d}.jpg"
            assert r["target_type"] == "single"
            assert not r["no_target"]


def test_shared_real_images_across_datasets(real_build):
    def images(config, split):
        return {r["image_id"] for r in iter_rows(real_build, config, split, columns=["image_id"])}

    assert {580957, 580905} <= images("refcoco_unc", "val") & images("refcocoplus_unc", "val")
    assert 550760 in images("refcoco_unc", "val") & images("refcocog_umd", "val")


def test_real_first_ref_and_records(real_source, real_build):
    _, _, first_ref = real_source
    rows = [r for r in iter_rows(real_build, "refcoco_unc", "train")]
    assert [r["sentence"] for r in rows] == [
        "the lady with the blue shirt",
        "lady with back to us",
        "blue shirt",
    ]
    assert rows[0]["raw"] == "THE LADY WITH THE BLUE SHIRT"
    assert rows[0]["tokens"] == first_ref["sentences"][0]["tokens"]
    assert rows[0]["targets"][0]["ann_id"] == 1719310
    assert rows[0]["image_id"] == 581857
    mix = list(iter_rows(real_build, REFMIX, "train", columns=["expr_id"]))
    assert [r["expr_id"] for r in mix] == [f"{REFMIX}/train/refcoco_unc/{i}" for i in (0, 1, 2)]


def test_excerpt_build_reports_but_does_not_flag_published_sizes(real_build):
    manifest = json.loads((real_build / MANIFEST).read_text())
    check = manifest["published_check"]
    assert check["applied"] == []
    assert check["mismatches"] == []
    assert ["refcoco_unc", "val", "rows", 10834, 29] in check["table"]
    assert set(list_configs(real_build)) == {
        "refcoco_unc",
        "refcocoplus_unc",
        "refcocog_umd",
        "refcocog_google",
        REFMIX,
    }
    assert "refcoco_google" in manifest["skipped"]
