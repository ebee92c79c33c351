"""Every config of a small synthetic build satisfies the unified-row contract (docs/formats.md#the-unified-row)."""

import pytest
from PIL import Image

from datasets_builders.configs import CONFIGS, REFMIX, config_names
from datasets_builders.images import open_image
from datasets_builders.reading import iter_rows, list_configs
from datasets_builders.schema import FIXED_COLUMNS
from evaluators import rle


def test_every_config_and_split_is_built(built):
    configs = list_configs(built)
    assert list(configs) == config_names()
    for name, spec in CONFIGS.items():
        assert configs[name] == list(spec.splits), name
    assert configs[REFMIX] == ["train"]


@pytest.mark.parametrize("config", config_names())
def test_rows_satisfy_the_schema(built, synth_src, config):
    seen = set()
    for split in list_configs(built)[config]:
        rows = list(iter_rows(built, config, split))
        assert rows, (config, split)
        for row in rows:
            assert tuple(row)[: len(FIXED_COLUMNS)] == FIXED_COLUMNS
            assert row["config"] == config
            assert row["split"] == split
            assert row["expr_id"].startswith(f"{config}/{split}/")
            assert row["expr_id"] not in seen
            seen.add(row["expr_id"])
            h, w = row["height"], row["width"]
            with Image.open(synth_src / "images" / row["file_name"]) as img:
                assert img.size == (w, h)
            assert row["mask"]["size"] == [h, w]
            for t in row["targets"]:
                assert t["mask"]["size"] == [h, w]
                assert len(t["bbox"]) == 4
                assert t["bbox"][2] > 0
                assert t["bbox"][3] > 0
            solid = [t["mask"] for t in row["targets"] if not t["iscrowd"]]
            merged = rle.decode(rle.union(solid, h, w)) if solid else rle.decode(rle.empty(h, w))
            assert (rle.decode(row["mask"]) == merged).all()
            n = len(solid)
            assert row["target_type"] == ("none" if n == 0 else "single" if n == 1 else "multi")
            if row["no_target"]:
                assert row["targets"] == []
                assert rle.area(row["mask"]) == 0
            else:
                assert row["targets"]
                assert rle.area(row["mask"]) > 0


def test_open_image_uses_the_manifest_images_root(built):
    row = next(iter_rows(built, "grefcoco_unc", "val"))
    img = open_image(built, row)
    assert img.mode == "RGB"
    assert img.size == (row["width"], row["height"])
