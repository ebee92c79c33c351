"""The training data pipeline on a hand-made built dataset with known geometry.

`write_tiny_build` writes the docs/formats.md#the-built-dataset layout (Parquet shards, manifest with ``images_root``)
for one config with rectangles on plain images, so boxes and masks can be checked exactly.
"""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from evaluators import rle
from evaluators.errors import InputError
from instancevg.tokenizer import Tokenizer
from instancevg.training.data import GroundingDataset, build_target, collate
from instancevg.training.rows import list_splits, load_rows

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30)}


def one_torch_thread():
    """Generator for a module fixture: torch on one thread, restored afterwards.

    The tiny models gain nothing from two threads, and on a busy 2-core machine OpenMP's spinning
    threads made these tests 3-5x slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


def _row(config, split, sent_id, file_name, h, w, sentence, boxes, crowd=()):
    targets, masks = [], []
    for k, (x, y, bw, bh) in enumerate(boxes):
        dense = np.zeros((h, w), np.uint8)
        dense[y : y + bh, x : x + bw] = 1
        m = rle.encode(dense)
        iscrowd = k in crowd
        targets.append(
            {
                "ann_id": 100 * sent_id + k,
                "category_id": 1,
                "iscrowd": iscrowd,
                "bbox": [float(x), float(y), float(bw), float(bh)],
                "area": float(bw * bh),
                "mask": m,
            }
        )
        if not iscrowd:
            masks.append(m)
    return {
        "expr_id": f"{config}/{split}/{sent_id}",
        "dataset": config.split("_")[0],
        "config": config,
        "split": split,
        "image_id": sent_id,
        "file_name": file_name,
        "height": h,
        "width": w,
        "ref_id": sent_id,
        "sent_id": sent_id,
        "sentence": sentence,
        "raw": sentence,
        "no_target": not boxes,
        "target_type": "none" if not masks else ("single" if len(masks) == 1 else "multi"),
        "targets": targets,
        "mask": rle.union(masks, h, w),
    }


def write_tiny_build(
    root: Path, configs: tuple[str, ...] = ("grefcoco_unc",), n_train: int = 12, n_val: int = 6
) -> Path:
    """A built dataset under ``root/data`` (the same rows under each config) with images under
    ``root/images``; returns ``root/data``."""
    rng = np.random.default_rng(0)
    out, images = root / "data", root / "images"
    (images / "train2014").mkdir(parents=True)
    for split, n in (("train", n_train), ("val", n_val)):
        scenes = []
        for i in range(n):
            sid = 1000 * (split == "val") + i
            h, w = int(rng.integers(40, 64)), int(rng.integers(48, 80))
            img = np.full((h, w, 3), 128, np.uint8)
            colours = list(COLOURS)
            placed = {}
            for c in colours[: 1 + i % 2]:
                x, y = int(rng.integers(0, w - 16)), int(rng.integers(0, h - 16))
                img[y : y + 12, x : x + 14] = COLOURS[c]
                placed[c] = (x, y, 14, 12)
            name = f"train2014/COCO_train2014_{sid:012d}.png"
            Image.fromarray(img).save(images / name)
            scenes.append((sid, name, h, w, colours[i % 3], placed))
        for config in configs:
            rows = []
            for sid, name, h, w, asked, placed in scenes:
                if config.startswith("refcoco"):  # REC / RES rows always have exactly one target
                    asked = next(iter(placed))
                boxes = [placed[asked]] if asked in placed else []
                rows.append(_row(config, split, sid, name, h, w, f"the {asked} box", boxes))
            (out / "data" / config).mkdir(parents=True, exist_ok=True)
            pq.write_table(
                pa.Table.from_pylist(rows), out / "data" / config / f"{split}-00000-of-00001.parquet"
            )
    manifest = {"configs": {c: {"splits": ["train", "val"]} for c in configs}, "images_root": str(images)}
    (out / "vgbench_build.json").write_text(json.dumps(manifest))
    return out


def tiny_train_argv(data: Path, out: Path, *extra: str) -> list[str]:
    """``vgbench train`` arguments for the ``tiny-cpu`` preset on ``data`` into ``out``, quietly, then ``extra``."""
    return ["train", "--quiet", "--config", "tiny-cpu", "--data", str(data), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_build(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory, tiny):
    rows = load_rows(tiny, "grefcoco_unc", "train")
    return Tokenizer.train([r["sentence"] for r in rows], tmp_path_factory.mktemp("tok") / "spm", 64)


def test_rows_in_file_order_with_needed_columns(tiny):
    rows = load_rows(tiny, "grefcoco_unc", "val")
    assert [r["expr_id"] for r in rows] == [f"grefcoco_unc/val/{1000 + i}" for i in range(6)]
    assert {"sentence", "targets", "mask", "file_name", "height", "width"} <= set(rows[0])
    assert list_splits(tiny, "grefcoco_unc") == ["train", "val"]
    assert list_splits(tiny, "refcoco_unc") == []


def test_missing_split_is_an_input_error(tiny):
    with pytest.raises(InputError, match="testA"):
        load_rows(tiny, "grefcoco_unc", "testA")


def test_target_boxes_are_normalised_cxcywh_and_masks_resized():
    row = _row(
        "grefcoco_unc", "train", 1, "x.png", 40, 80, "two", [(8, 4, 16, 10), (40, 20, 20, 20)], crowd=(1,)
    )
    t = build_target(row, 32)
    assert t["boxes"].shape == (2, 4)
    assert t["boxes"].dtype == torch.float32
    assert t["boxes"][0].tolist() == pytest.approx([16 / 80, 9 / 40, 16 / 80, 10 / 40])
    assert t["masks"].shape == (2, 32, 32)
    assert set(t["masks"].unique().tolist()) <= {0.0, 1.0}
    # nearest resize: the first box covers columns 8..23 of 80 -> 3.2..9.6 of 32
    assert t["masks"][0, 5, 4:9].tolist() == [1.0] * 5
    assert t["masks"][0, 5, 10:].sum() == 0
    # the crowd instance is a target instance but not part of the merged mask
    assert t["mask"].sum() == t["masks"][0].sum()
    assert not t["no_target"]


def test_no_target_row_has_no_instances_and_empty_mask():
    t = build_target(_row("grefcoco_unc", "train", 2, "x.png", 30, 30, "none", []), 16)
    assert t["boxes"].shape == (0, 4)
    assert t["masks"].shape == (0, 16, 16)
    assert t["mask"].sum() == 0
    assert t["no_target"] is True


def test_dataset_samples_and_collate(tiny, tokenizer):
    rows = load_rows(tiny, "grefcoco_unc", "train")
    ds = GroundingDataset(rows, tiny, tokenizer, img_size=32, max_tokens=8)
    assert len(ds) == 12
    s = ds[3]
    assert s["image"].shape == (3, 32, 32)
    assert s["image"].dtype == torch.float32
    assert s["text_ids"][0] == 0
    assert s["text_pad_mask"].dtype == torch.bool
    assert s["meta"] == {"expr_id": rows[3]["expr_id"], "orig_size": (rows[3]["height"], rows[3]["width"])}
    batch = collate([ds[i] for i in range(4)])
    assert batch["images"].shape == (4, 3, 32, 32)
    assert batch["text_ids"].shape == (4, 8)
    assert batch["indices"].tolist() == [0, 1, 2, 3]
    assert len(batch["targets"]) == 4
    # the grey background normalises to the same value in every sample (mean/std of the official pipeline)
    grey = (128 - 123.675) / 58.395
    assert batch["images"][:, 0].flatten().mode().values.item() == pytest.approx(grey, abs=1e-5)


def test_prediction_dataset_has_no_targets_and_missing_image_is_named(tiny, tokenizer, tmp_path):
    rows = load_rows(tiny, "grefcoco_unc", "val")
    ds = GroundingDataset(rows, tiny, tokenizer, 32, 8, with_targets=False)
    assert "target" not in ds[0]
    assert "targets" not in collate([ds[0]])
    bad = GroundingDataset(rows, tiny, tokenizer, 32, 8, images_dir=tmp_path, with_targets=False)
    with pytest.raises(InputError, match="file_name"):
        bad[0]


def test_mirror_sentence_swaps_whole_words_and_keeps_case():
    from instancevg.transforms import mirror_sentence

    assert mirror_sentence("the box left of the star on the right") == "the box right of the star on the left"
    assert mirror_sentence("Leftmost cat, rightly so") == "Rightmost cat, rightly so"
    assert mirror_sentence("the red box") == "the red box"


def test_hflip_mirrors_image_targets_and_sentence(tiny, tokenizer):
    rows = load_rows(tiny, "grefcoco_unc", "train")
    rows[1] = dict(rows[1], sentence="the blue box on the left")
    plain = GroundingDataset(rows, tiny, tokenizer, 32, 12)
    flipped = GroundingDataset(rows, tiny, tokenizer, 32, 12, hflip=1.0, seed=3)
    for i in range(len(rows)):
        a, b = plain[i], flipped[i]
        assert torch.equal(b["image"], a["image"].flip(-1))
        assert torch.equal(b["target"]["mask"], a["target"]["mask"].flip(-1))
        assert torch.equal(b["target"]["masks"], a["target"]["masks"].flip(-1))
        expected = a["target"]["boxes"].clone()
        expected[:, 0] = 1 - expected[:, 0]
        assert torch.allclose(b["target"]["boxes"], expected)
    ids, _ = tokenizer.encode_batch(["the blue box on the right"], 12)
    assert torch.equal(flipped[1]["text_ids"], ids[0])
    assert not torch.equal(plain[1]["text_ids"], ids[0])


def test_hflip_decisions_depend_on_seed_epoch_index_only(tiny, tokenizer):
    rows = load_rows(tiny, "grefcoco_unc", "train")
    one = GroundingDataset(rows, tiny, tokenizer, 32, 12, hflip=0.5, seed=7)
    two = GroundingDataset(rows, tiny, tokenizer, 32, 12, hflip=0.5, seed=7)
    by_epoch = []
    for epoch in range(4):
        one.set_epoch(epoch)
        two.set_epoch(epoch)
        decisions = [one.mirrored(i) for i in range(len(rows))]
        assert decisions == [two.mirrored(i) for i in reversed(range(len(rows)))][::-1]
        by_epoch.append(decisions)
    assert len({tuple(d) for d in by_epoch}) > 1  # the decisions change with the epoch
    assert 0 < sum(map(sum, by_epoch)) < 4 * len(rows)
    predict_set = GroundingDataset(rows, tiny, tokenizer, 32, 12, with_targets=False, hflip=1.0)
    assert not predict_set.mirrored(0)  # prediction never mirrors


def test_hflip_outside_0_1_is_an_input_error(tiny, tokenizer):
    from instancevg.config import load_config

    rows = load_rows(tiny, "grefcoco_unc", "train")
    with pytest.raises(InputError, match="hflip"):
        GroundingDataset(rows, tiny, tokenizer, 32, 12, hflip=1.5)
    with pytest.raises(InputError, match="hflip"):
        load_config("tiny-cpu", ["train.hflip=-0.1"])
