"""`vgbench synth`: deterministic, complete, and every sentence determines its targets."""

import json
import pickle
from collections import Counter

import pytest

from datasets_builders.reading import iter_rows, list_configs
from datasets_builders.synth import generate_scenes, write_synth
from datasets_builders.synth_grammar import VOCAB, resolve
from evaluators.errors import InputError


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rerun_is_byte_identical(synth_src, tmp_path):
    again = write_synth(tmp_path / "again", images=24, seed=7)
    assert _tree(again) == _tree(synth_src)
    other = write_synth(tmp_path / "other", images=24, seed=8)
    assert _tree(other) != _tree(synth_src)


def test_layout_formats_and_annotation_kinds(synth_src):
    for folder in (
        "refcoco",
        "refcoco+",
        "refcocog",
        "grefcoco",
        "ref-zom",
        "rrefcoco",
        "rrefcoco+",
        "rrefcocog",
    ):
        assert (synth_src / folder / "instances.json").is_file()
    for pickled in synth_src.rglob("*.p"):
        assert pickled.read_bytes()[:2] == b"\x80\x02", pickled  # protocol 2, like the official files
    inst = json.loads((synth_src / "ref-zom" / "instances.json").read_text())
    folders = Counter(img["file_name"].split("_")[1] for img in inst["images"])
    assert folders["train2014"] == 24
    assert folders["val2014"] >= 2
    anns = inst["annotations"]
    crowd = [a for a in anns if a["iscrowd"]]
    assert crowd
    assert all(isinstance(a["segmentation"]["counts"], list) for a in crowd)
    assert any(not a["iscrowd"] and len(a["segmentation"]) == 2 for a in anns)  # split by an occluder
    for img in inst["images"]:
        folder = img["file_name"].split("_")[1]
        assert (synth_src / "images" / folder / img["file_name"]).is_file()
        assert 160 <= img["width"] <= 320
        assert 160 <= img["height"] <= 320
    assert len({(i["width"], i["height"]) for i in inst["images"]}) > 3
    zom = pickle.loads((synth_src / "ref-zom" / "refs(final).p").read_bytes())
    assert {r["source"] for r in zom} >= {"zero", "one", "many"}
    assert {type(r["ann_id"]) for r in zom} == {int, list}
    rref = pickle.loads((synth_src / "rrefcoco" / "refs(unc).p").read_bytes())
    assert any(s.get("exist") is False for r in rref for s in r["sentences"])


def test_split_sizes_are_reasonable(built):
    for config, splits in list_configs(built).items():
        sizes = {s: sum(1 for _ in iter_rows(built, config, s, columns=["expr_id"])) for s in splits}
        assert all(sizes.values()), (config, sizes)
        if len(splits) > 1:
            assert sizes["train"] > max(v for k, v in sizes.items() if k != "train"), (config, sizes)
    val = list(iter_rows(built, "grefcoco_unc", "val", columns=["no_target", "target_type"]))
    assert any(r["no_target"] for r in val)
    assert any(r["target_type"] == "multi" for r in val)
    for config, split in (("refzom_final", "test"), ("rrefcoco_unc", "val")):
        assert any(r["no_target"] for r in iter_rows(built, config, split, columns=["no_target"]))


def test_every_sentence_determines_its_targets(built):
    """An oracle that reads the sentence and sees the scene finds exactly the row's targets."""
    scenes = {image_id: scene for image_id, _, scene in generate_scenes(24, 7)}
    words = {w for group in VOCAB.values() for phrase in group for w in phrase.split()}
    checked = Counter()
    for config, splits in list_configs(built).items():
        for split in splits:
            for row in iter_rows(built, config, split):
                found = resolve(row["sentence"], scenes[row["image_id"]])
                assert sorted(o.ann_id for o in found) == sorted(t["ann_id"] for t in row["targets"]), row[
                    "expr_id"
                ]
                assert set(row["sentence"].split()) <= words
                checked[row["target_type"]] += 1
    assert checked["single"] > 100
    assert checked["multi"] > 20
    assert checked["none"] > 20


def test_refcocoplus_has_no_location_words(built):
    for split in ("train", "val"):
        for row in iter_rows(built, "refcocoplus_unc", split, columns=["sentence"]):
            assert not {"left", "right", "top", "bottom", "above", "below"} & set(row["sentence"].split())


def test_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="refusing"):
        write_synth(tmp_path / "mine", images=10)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputError, match="at least 10"):
        write_synth(tmp_path / "tiny", images=3)


def test_default_sizes_are_pinned(tmp_path):
    """`vgbench synth` defaults (40 images, seed 0): the split sizes documented in docs/datasets_builders.md."""
    from datasets_builders.build import build_dataset

    src = write_synth(tmp_path / "src", quiet=True)
    out = build_dataset(src, tmp_path / "data", quiet=True)
    manifest = json.loads((out / "vgbench_build.json").read_text())
    sizes = {c: [v["rows"] for v in info["splits"].values()] for c, info in manifest["configs"].items()}
    assert sizes == {
        "refcoco_unc": [263, 56, 19, 30],
        "refcoco_google": [275, 56, 47],
        "refcocoplus_unc": [230, 50, 22, 17],
        "refcocog_umd": [202, 47, 39],
        "refcocog_google": [209, 84],
        "grefcoco_unc": [394, 83, 35, 42],
        "refzom_final": [254, 71],
        "rrefcoco_unc": [477, 189],
        "rrefcocoplus_unc": [427, 162],
        "rrefcocog_umd": [397, 172],
        "refmix_train": [623],
    }
    assert manifest["notes"]["refmix_train"] == {"dropped_images": 6, "dropped_rows": 72}
