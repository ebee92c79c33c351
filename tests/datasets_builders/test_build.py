"""`build_dataset`: byte-identical reruns, workers, atomic writes, clear errors, card and manifest."""

import json
import shutil

import pyarrow.parquet as pq
import pytest
import yaml

from datasets_builders.build import MANIFEST, build_dataset
from datasets_builders.card import published_check
from datasets_builders.configs import REFMIX, REFMIX_SOURCES
from datasets_builders.images import open_image
from datasets_builders.reading import iter_rows, list_configs
from evaluators.errors import InputError
from evaluators.hashing import sha256_file
from vgbench.cli import main


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rerun_and_workers_give_identical_bytes(synth_src, tmp_path):
    configs = ["grefcoco_unc", "refzom_final", "rrefcoco_unc"]
    one = build_dataset(synth_src, tmp_path / "one", configs=configs, quiet=True, rows_per_shard=60)
    first = _tree(one)
    assert len([p for p in first if p.startswith("data/grefcoco_unc/train-")]) > 1  # several shards
    build_dataset(synth_src, one, configs=configs, quiet=True, rows_per_shard=60)  # replaces in place
    assert _tree(one) == first
    two = build_dataset(
        synth_src, tmp_path / "two", configs=configs, workers=2, quiet=True, rows_per_shard=60
    )
    assert _tree(two) == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_shards_use_row_groups_and_the_declared_schema(synth_src, tmp_path):
    out = build_dataset(synth_src, tmp_path / "d", configs=["grefcoco_unc"], quiet=True)
    from datasets_builders.schema import arrow_schema

    shard = next((out / "data" / "grefcoco_unc").glob("train-*.parquet"))
    assert pq.ParquetFile(shard).schema_arrow == arrow_schema(synthetic=True, image_paths=True)
    assert shard.name == "train-00000-of-00001.parquet"


def test_card_yaml_configs_counts_sources(built):
    text = (built / "README.md").read_text()
    assert text.startswith("---\n")
    header = yaml.safe_load(text.split("---\n")[1])
    manifest = json.loads((built / MANIFEST).read_text())
    assert [c["config_name"] for c in header["configs"]] == list(list_configs(built))
    infos = {info["config_name"]: info for info in header["dataset_info"]}  # `datasets` sorts them by name
    assert sorted(infos) == sorted(c["config_name"] for c in header["configs"])
    for cfg in header["configs"]:
        name = cfg["config_name"]
        info = infos[name]
        for files, split in zip(cfg["data_files"], info["splits"]):
            assert files["path"] == f"data/{name}/{files['split']}-*.parquet"
            assert split["num_examples"] == manifest["configs"][name]["splits"][files["split"]]["rows"]
            assert split["num_examples"] == sum(
                1 for _ in iter_rows(built, name, files["split"], columns=["expr_id"])
            )
    source = manifest["images_root"][: -len("/images")]
    for rel, digest in manifest["sources"].items():
        assert digest == sha256_file(__import__("pathlib").Path(source) / rel)
        assert f"`{rel}` | `{digest}`" in text
    for needle in ("load_dataset(", "claims no CC BY licence", "Published vs built", "no-target", "dropped"):
        assert needle in text
    # a synthetic build says so and claims no CC BY licence (docs/formats.md#the-built-dataset; the real data's
    # licence and citations are checked on the real excerpts in test_formats_real.py)
    assert header["license"] == "other"
    assert "synthetic" in header["tags"]
    assert header["citation"] == ""
    assert "Kazemzadeh" not in text
    assert manifest["dataset_info"]["synthetic"] is True
    assert "20" + "26" not in text  # no build dates in the card


def test_refmix_drops_held_out_images(built):
    held = {
        r["image_id"]
        for c in REFMIX_SOURCES
        for s in list_configs(built)[c]
        if s != "train"
        for r in iter_rows(built, c, s, columns=["image_id"])
    }
    mix = list(iter_rows(built, REFMIX, "train", columns=["expr_id", "image_id", "dataset", "config"]))
    assert mix
    assert not {r["image_id"] for r in mix} & held
    assert {r["dataset"] for r in mix} == {"refcoco", "refcocoplus", "refcocog"}
    assert {r["config"] for r in mix} == {REFMIX}
    trains = sum(1 for c in REFMIX_SOURCES for _ in iter_rows(built, c, "train", columns=["image_id"]))
    notes = json.loads((built / MANIFEST).read_text())["notes"][REFMIX]
    assert notes["dropped_images"] > 0
    assert len(mix) == trains - notes["dropped_rows"]


def test_embedded_images(synth_src, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(synth_src, src)
    out = build_dataset(src, tmp_path / "d", configs=["refcoco_unc"], embed_images=True, quiet=True)
    row = next(iter_rows(out, "refcoco_unc", "val"))
    assert row["image"]["path"] == row["file_name"]
    assert row["image"]["bytes"][:2] == b"\xff\xd8"
    shutil.rmtree(src / "images")
    assert open_image(out, row).size == (row["width"], row["height"])
    row.pop("image")
    with pytest.raises(InputError, match="image not found"):
        open_image(out, row)


def test_missing_or_corrupt_sources_write_nothing(synth_src, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(synth_src, src, ignore=shutil.ignore_patterns("images"))
    (src / "refcocog" / "refs(umd).p").unlink()
    out = build_dataset(src, tmp_path / "d", quiet=True)  # default: missing configs are skipped
    manifest = json.loads((out / MANIFEST).read_text())
    assert "refcocog_umd" in manifest["skipped"]
    assert REFMIX in manifest["skipped"]
    assert manifest["images_root"] is None
    before = _tree(out)
    with pytest.raises(InputError, match="refcocog_umd"):
        build_dataset(src, out, configs=["refcoco_unc", "refcocog_umd"], quiet=True)
    (src / "grefcoco" / "instances.json").write_text('{"images": [}')
    with pytest.raises(InputError, match=r"grefcoco/instances\.json: not valid JSON"):
        build_dataset(src, out, quiet=True)
    assert _tree(out) == before  # the previous build is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(InputError, match="unknown config"):
        build_dataset(src, tmp_path / "e", configs=["refcoco"], quiet=True)
    assert not (tmp_path / "e").exists()


def test_refuses_to_replace_a_foreign_folder(synth_src, tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("x")
    with pytest.raises(InputError, match="not written by vgbench build"):
        build_dataset(synth_src, tmp_path / "home", configs=["refcoco_unc"], quiet=True)
    assert (tmp_path / "home" / "thesis.tex").exists()


def test_published_check_applies_only_to_real_sized_builds():
    real = {"refcoco_unc": {"train": {"rows": 120624}, "val": {"rows": 10834, "images": 1500}}}
    check = published_check(real)
    assert check["applied"] == ["refcoco_unc"]
    assert check["mismatches"] == [
        "refcoco_unc/val refs: published 3811, built None",
        "refcoco_unc/testA rows: published 5657, built None",
        "refcoco_unc/testA refs: published 1975, built None",
        "refcoco_unc/testA images: published 750, built None",
        "refcoco_unc/testB rows: published 5095, built None",
        "refcoco_unc/testB refs: published 1810, built None",
        "refcoco_unc/testB images: published 750, built None",
    ]
    small = published_check({"refcoco_unc": {"train": {"rows": 300}, "val": {"rows": 40}}})
    assert small["applied"] == []
    assert small["mismatches"] == []
    assert small["table"]


def test_cli_build_and_errors(synth_src, tmp_path, capsys):
    out = tmp_path / "d"
    assert (
        main(["build", "--quiet", "--source", str(synth_src), "--out", str(out), "--configs", "refzom_final"])
        == 0
    )
    assert "refzom_final: train" in capsys.readouterr().out
    assert main(["build", "--source", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert "source folder not found" in err
    assert main(["synth", "--out", str(tmp_path / "s"), "--images", "3"]) == 2


def test_worker_errors_propagate_and_write_nothing(synth_src, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(synth_src, src, ignore=shutil.ignore_patterns("images"))
    inst = json.loads((src / "grefcoco" / "instances.json").read_text())
    inst["annotations"] = inst["annotations"][: len(inst["annotations"]) // 2]
    (src / "grefcoco" / "instances.json").write_text(json.dumps(inst))
    with pytest.raises(InputError, match=r"grefs\(unc\)\.json:\[\d+\] ref_id=\d+: ann_id: \d+ is not in"):
        build_dataset(
            src,
            tmp_path / "d",
            configs=["grefcoco_unc", "refcoco_unc"],
            workers=2,
            quiet=True,
            rows_per_shard=50,
        )
    assert not (tmp_path / "d").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_embed_images_with_a_missing_image_is_a_clear_error(synth_src, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(synth_src, src)
    victim = sorted((src / "images" / "train2014").iterdir())[0]
    victim.unlink()
    with pytest.raises(InputError, match=f"file_name: cannot read image .*{victim.name}"):
        build_dataset(src, tmp_path / "d", configs=["grefcoco_unc"], embed_images=True, quiet=True)
    assert not (tmp_path / "d").exists()
