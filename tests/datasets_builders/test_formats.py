"""Every other source layout, written by ``vgbench synth`` from the same scenes, builds to the rows of the
official-format build, field by field wherever the layout carries the field."""

import json

import pytest

from datasets_builders.build import build_dataset
from datasets_builders.coco import load_instances
from datasets_builders.reading import list_configs, read_manifest
from tests.datasets_builders.formats_compare import compare_builds

EXPECTED_CONFIGS = {
    "zip": {
        "refcoco_unc",
        "refcoco_google",
        "refcocoplus_unc",
        "refcocog_umd",
        "refcocog_google",
        "refmix_train",
    },
    "instancevg": {
        "refcoco_unc",
        "refcocoplus_unc",
        "refcocog_umd",
        "grefcoco_unc",
        "refzom_final",
        "rrefcoco_unc",
        "rrefcocoplus_unc",
        "rrefcocog_umd",
        "refmix_train",
    },
    "jxu124": {"refcoco_unc", "refcocoplus_unc", "refcocog_umd"},
    "lmms-lab": {"refcoco_unc", "refcocoplus_unc", "refcocog_umd"},
    "jxu124-benchmark": {
        "refcoco_unc",
        "refcoco_google",
        "refcocoplus_unc",
        "refcocog_umd",
        "refcocog_google",
    },
}


@pytest.fixture(scope="module")
def format_builds(synth_src, tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    out = {}
    for layout in ("zip", "instancevg", "jxu124", "lmms-lab", "jxu124-benchmark", "coco-full"):
        out[layout] = build_dataset(
            synth_src / "formats" / layout, root / layout, quiet=True, images=synth_src / "images"
        )
    return out


@pytest.fixture(scope="module")
def multipart(synth_src):
    coco = load_instances(synth_src / "refcoco" / "instances.json")
    return {
        a
        for a, ann in coco.anns.items()
        if isinstance(ann["segmentation"], list) and len(ann["segmentation"]) > 1
    }


@pytest.mark.parametrize(
    "layout", ["zip", "coco-full", "jxu124", "instancevg", "lmms-lab", "jxu124-benchmark"]
)
def test_layout_rows_equal_official(layout, format_builds, built, multipart):
    other = format_builds[layout]
    expected = EXPECTED_CONFIGS.get(layout, set(list_configs(built)))
    assert set(list_configs(other)) == expected
    n, diffs = compare_builds(built, other, layout, multipart if layout == "lmms-lab" else None)
    assert n > 100
    assert diffs == []
    manifest = read_manifest(other)
    assert manifest["layout"] == ("official" if layout == "coco-full" else layout)


def test_lmms_lab_multipart_masks_differ_only_where_a_part_is_lost(format_builds, built, multipart):
    """lmms-lab stores one flat polygon: the only mask differences are the multi-part objects."""
    _, diffs = compare_builds(built, format_builds["lmms-lab"], "lmms-lab")
    assert diffs, "the synthetic scenes have two-part polygons (a bar across a shape) in the eval splits"
    assert all(".mask" in d or ": mask:" in d for d in diffs)


def test_detection_picks_each_layout(synth_src):
    from datasets_builders.layouts import detect

    assert detect(synth_src) == "official"
    for layout in ("zip", "instancevg", "jxu124", "lmms-lab", "jxu124-benchmark"):
        assert detect(synth_src / "formats" / layout) == layout
    assert detect(synth_src / "formats" / "coco-full") == "official"


def test_card_states_missing_fields_split_mapping_and_joinability(format_builds):
    card = (format_builds["jxu124"] / "README.md").read_text()
    assert "`validation` -> `val`" in card
    assert "`test` -> `testA`" in card
    assert "Joins with an official build" in card
    card = (format_builds["lmms-lab"] / "README.md").read_text()
    assert "no: sent ids are derived" in card
    card = (format_builds["instancevg"] / "README.md").read_text()
    assert "`val_rrefcoco+`" in card


def test_coco_full_is_streamed_and_keeps_only_referenced_records(synth_src, tmp_path):
    from datasets_builders.coco_stream import stream_index

    path = synth_src / "formats" / "coco-full" / "annotations" / "instances_train2014.json"
    data = json.loads(path.read_text())
    wanted_anns = frozenset(a["id"] for a in data["annotations"][:5])
    wanted_images = frozenset(i["id"] for i in data["images"][:2])
    index = stream_index((path,), wanted_anns, wanted_images)
    assert set(index.anns) == wanted_anns
    assert set(index.images) == wanted_images
    assert index.anns[min(wanted_anns)] == next(a for a in data["annotations"] if a["id"] == min(wanted_anns))
    assert len(index.categories) == len(data["categories"])


def test_stream_reader_survives_chunk_boundaries(tmp_path, monkeypatch):
    from datasets_builders import coco_stream

    monkeypatch.setattr(coco_stream, "_CHUNK", 7)
    doc = {
        "info": {"description": "x" * 30},
        "images": [
            {"id": i, "file_name": f"COCO_train2014_{i:012d}.jpg", "height": 4, "width": 5} for i in range(9)
        ],
        "annotations": [
            {
                "id": 100 + i,
                "image_id": i,
                "category_id": 1,
                "bbox": [0.5, 1.25, 2, 3],
                "segmentation": [[0, 0, 1, 0, 1, 1]],
            }
            for i in range(9)
        ],
        "categories": [{"id": 1, "name": "a"}],
    }
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc, indent=1))
    got = list(coco_stream.iter_top_level(path, ("images", "annotations")))
    assert [v for k, i, v in got if k == "annotations"] == doc["annotations"]
    assert [v for k, i, v in got if k == "images"] == doc["images"]
    assert [(k, v) for k, i, v in got if i < 0] == [("info", doc["info"]), ("categories", doc["categories"])]


def test_other_layout_builds_are_deterministic_across_workers(synth_src, format_builds, tmp_path):
    import filecmp

    again = build_dataset(
        synth_src / "formats" / "instancevg",
        tmp_path / "again",
        workers=2,
        images=synth_src / "images",
        quiet=True,
    )
    first = format_builds["instancevg"]
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all(filecmp.cmp(first / f, again / f, shallow=False) for f in files)


def test_load_dataset_on_a_hub_copy_build(format_builds, tmp_path):
    import datasets

    ds = datasets.load_dataset(
        str(format_builds["lmms-lab"]), "refcocog_umd", split="test", cache_dir=str(tmp_path)
    )
    assert len(ds) > 0
    assert ds.features["target_type_label"].names == ["none", "single", "multi"]
    assert all(len(t["bbox"]) == 4 for row in ds for t in row["targets"])


def test_cli_format_and_images_options(synth_src, tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vgbench",
            "build",
            "--source",
            str(synth_src / "formats" / "jxu124"),
            "--format",
            "jxu124",
            "--images",
            str(synth_src / "images"),
            "--embed-images",
            "--out",
            str(tmp_path / "d"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    from datasets_builders.images import open_image
    from datasets_builders.reading import iter_rows

    row = next(iter_rows(tmp_path / "d", "refcoco_unc", "val"))
    assert open_image(tmp_path / "d", row).size == (row["width"], row["height"])
    assert read_manifest(tmp_path / "d")["images_root"] == str((synth_src / "images").resolve())


def test_lmms_lab_embed_images_from_the_source_itself(synth_src, tmp_path):
    """lmms-lab carries its images: ``--embed-images`` needs no COCO folder and stores the same bytes."""
    import datasets

    from datasets_builders.reading import iter_rows

    out = build_dataset(synth_src / "formats" / "lmms-lab", tmp_path / "d", embed_images=True, quiet=True)
    manifest = read_manifest(out)
    assert manifest["images_from_source"] is True
    assert manifest["images_root"] is None
    row = next(iter_rows(out, "refcocoplus_unc", "testB"))
    assert row["image"]["bytes"] == (synth_src / "images" / row["file_name"]).read_bytes()
    ds = datasets.load_dataset(str(out), "refcocoplus_unc", split="testB", cache_dir=str(tmp_path / "c"))
    assert ds[0]["image"].size == (ds[0]["width"], ds[0]["height"])
    assert "taken from the source's own embedded images" in (out / "README.md").read_text()
    assert not list(tmp_path.glob(".d.images-*"))
