"""`datasets.load_dataset(OUT, config, split=...)` works offline: plain, sliced and streaming."""

import datasets
import pytest

from datasets_builders.reading import iter_rows, list_configs
from datasets_builders.schema import features


@pytest.fixture(scope="module")
def hf_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hf_cache"))


def test_every_config_loads_with_the_declared_features(built, hf_cache):
    for config, splits in list_configs(built).items():
        for split in splits:
            ds = datasets.load_dataset(str(built), config, split=split, cache_dir=hf_cache)
            assert ds.features == features(synthetic=True, image_paths=True)
            ours = list(iter_rows(built, config, split))
            assert len(ds) == len(ours)
            plain = ds.cast_column("image", datasets.Image(decode=False))
            assert plain[0] == ours[0]
            assert plain[-1] == ours[-1]


def test_streaming_and_slicing(built, hf_cache):
    stream = datasets.load_dataset(str(built), "grefcoco_unc", split="val", streaming=True)
    first = next(iter(stream.cast_column("image", datasets.Image(decode=False))))
    assert first == next(iter_rows(built, "grefcoco_unc", "val"))
    part = datasets.load_dataset(str(built), "refzom_final", split="test[:3]", cache_dir=hf_cache)
    assert len(part) == 3
    assert isinstance(part.features["targets"], datasets.List)


def test_embedded_images_load_as_pil(synth_src, tmp_path):
    from datasets_builders.build import build_dataset

    out = build_dataset(synth_src, tmp_path / "d", configs=["refzom_final"], embed_images=True, quiet=True)
    ds = datasets.load_dataset(str(out), "refzom_final", split="test", cache_dir=str(tmp_path / "cache"))
    assert ds.features == features(embed_images=True, synthetic=True)
    row = ds[0]
    assert row["image"].size == (row["width"], row["height"])


def test_image_paths_load_as_pil_without_embedding(built, hf_cache):
    """Not embedded: the ``image`` column points into the images root, so pictures need no join."""
    ds = datasets.load_dataset(str(built), "refcoco_unc", split="testA", cache_dir=hf_cache)
    row = ds[0]
    assert row["image"].size == (row["width"], row["height"])
    raw = next(iter_rows(built, "refcoco_unc", "testA"))
    assert raw["image"]["bytes"] is None
    assert raw["image"]["path"].endswith("/" + raw["file_name"])
