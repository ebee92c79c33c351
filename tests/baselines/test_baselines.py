"""The five baselines: exact records on a tiny dataset, validity on every task, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines import BASELINES, TEXT_BLIND, AnnotationPool, run_baseline
from baselines.predictors import CenterBox, Empty, FullImage, OracleJitter
from evaluators import rle, score_files, validate_files
from evaluators.errors import InputError
from tests.baselines.factory import IMAGES, LAYOUT, rows_of, write_dataset

TASKS = {
    "rec": ("refcoco_unc", "val"),
    "res": ("refcoco_unc", "val"),
    "grec": ("grefcoco_unc", "val"),
    "gres": ("grefcoco_unc", "val"),
    "refzom": ("refzom_final", "test"),
    "rrefcoco": ("rrefcoco_unc", "val"),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("built"))


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", list(BASELINES))
def test_every_baseline_scores_on_every_task(data, tmp_path, name):
    for task, (config, split) in TASKS.items():
        out = tmp_path / f"{task}.jsonl"
        n = run_baseline(name, data, config, split, out, quiet=True)
        assert n == len(LAYOUT[(config, split)])
        assert validate_files(task, out, data, config, split)
        metrics = score_files(task, out, data, config, split).results["metrics"]
        assert all(v is None or 0.0 <= v <= 100.0 for v in metrics.values())
        for rec in read(out):
            assert all(0.0 <= inst["score"] <= 1.0 for inst in rec["instances"])


def test_empty_and_full_image_records():
    row = rows_of("grefcoco_unc", "val")[0]
    e = Empty().predict(row)
    assert e["instances"] == []
    assert e["no_target"] is True
    assert rle.area(e["mask"]) == 0
    assert e["mask"]["size"] == [24, 32]
    f = FullImage().predict(row)
    assert f["instances"][0]["bbox"] == [0.0, 0.0, 32.0, 24.0]
    assert f["no_target"] is False
    assert rle.area(f["mask"]) == 24 * 32


def test_center_box_is_half_the_sides_and_matches_its_mask():
    row = rows_of("grefcoco_unc", "val")[0]  # 24 x 32
    rec = CenterBox().predict(row)
    assert rec["instances"][0]["bbox"] == [8.0, 6.0, 16.0, 12.0]
    dense = rle.decode(rec["mask"])
    assert dense.sum() == 16 * 12
    assert dense[6:18, 8:24].all()


def test_largest_object_picks_largest_non_crowd(data):
    pool = AnnotationPool.from_dataset(data)
    row = rows_of("grefcoco_unc", "val")[0]
    ann = pool.pick(row)
    assert ann["ann_id"] == 12  # 12x10 beats 6x5 and the crowd 8x6
    row2 = rows_of("refcoco_unc", "val")[1]
    assert pool.pick(row2)["ann_id"] == 21


def test_largest_object_from_source_matches_dataset_pool(data, tmp_path):
    images, anns = [], []
    for image_id, (h, w, boxes) in IMAGES.items():
        images.append(
            {"id": image_id, "height": h, "width": w, "file_name": f"COCO_train2014_{image_id:012d}.jpg"}
        )
        for ann_id, (x, y, bw, bh, crowd) in boxes.items():
            poly = [[x, y, x + bw, y, x + bw, y + bh, x, y + bh]]
            anns.append(
                {
                    "id": ann_id,
                    "image_id": image_id,
                    "bbox": [x, y, bw, bh],
                    "area": bw * bh,
                    "iscrowd": int(crowd),
                    "segmentation": poly,
                    "category_id": 1,
                }
            )
    (tmp_path / "grefcoco").mkdir()
    (tmp_path / "grefcoco" / "instances.json").write_text(json.dumps({"images": images, "annotations": anns}))
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_baseline("largest-object", data, "grefcoco_unc", "val", a, source=tmp_path, quiet=True)
    run_baseline("largest-object", data, "grefcoco_unc", "val", b, quiet=True)
    ra, rb = read(a), read(b)
    assert [r["instances"][0]["bbox"] for r in ra] == [r["instances"][0]["bbox"] for r in rb]
    # polygon rasterisation of an axis-aligned rectangle may differ from the filled box by its border
    for x, y in zip(ra, rb):
        inter, union = rle.intersection_union(x["mask"], y["mask"])
        assert inter / union > 0.6


def test_largest_object_source_errors(data, tmp_path):
    with pytest.raises(InputError, match=r"instances\.json: not found"):
        run_baseline("largest-object", data, "grefcoco_unc", "val", tmp_path / "p.jsonl", source=tmp_path)
    (tmp_path / "grefcoco").mkdir()
    (tmp_path / "grefcoco" / "instances.json").write_text('{"images": [], "annotations": [{"id": 1}]}')
    with pytest.raises(InputError, match=r"annotations\[0\]"):
        run_baseline("largest-object", data, "grefcoco_unc", "val", tmp_path / "p.jsonl", source=tmp_path)
    assert not (tmp_path / "p.jsonl").exists()


def test_largest_object_without_annotations_predicts_no_target():
    pool = AnnotationPool({}, "image_id", "<empty>")
    from baselines.predictors import LargestObject

    rec = LargestObject(pool).predict(rows_of("grefcoco_unc", "val")[0])
    assert rec["no_target"] is True
    assert rec["instances"] == []


def test_oracle_jitter_is_seeded_bounded_and_order_free():
    rows = rows_of("grefcoco_unc", "val")
    a = [OracleJitter(0.1, seed=3).predict(r) for r in rows]
    b = [OracleJitter(0.1, seed=3).predict(r) for r in reversed(rows)][::-1]
    c = [OracleJitter(0.1, seed=4).predict(r) for r in rows]
    assert a == b
    assert a != c
    for row, rec in zip(rows, a):
        assert rec["no_target"] == row["no_target"]
        assert len(rec["instances"]) == len(row["targets"])
        for t, inst in zip(row["targets"], rec["instances"]):
            x, _y, w, _h = t["bbox"]
            px, _py, pw, _ph = inst["bbox"]
            assert abs((px + pw / 2) - (x + w / 2)) <= 0.1 * w + 0.5 + 0.05 * w  # shift + clipping
            assert px >= 0.0
            assert px + pw <= row["width"] + 1e-9
            assert rle.area(inst["segmentation"]) <= t["area"]


def test_oracle_jitter_zero_is_the_ground_truth():
    for row in rows_of("grefcoco_unc", "val"):
        rec = OracleJitter(0.0).predict(row)
        assert [i["bbox"] for i in rec["instances"]] == [t["bbox"] for t in row["targets"]]
        assert np.array_equal(rle.decode(rec["mask"]), rle.decode(row["mask"]))


def test_oracle_beats_text_blind_baselines(data, tmp_path):
    scores = {}
    for name in BASELINES:
        out = tmp_path / f"{name}.jsonl"
        run_baseline(name, data, "grefcoco_unc", "val", out, quiet=True)
        scores[name] = score_files("gres", out, data, "grefcoco_unc", "val").results["metrics"]["giou"]
    assert set(TEXT_BLIND) == set(BASELINES) - {"oracle-jitter"}
    assert all(scores["oracle-jitter"] > scores[n] for n in TEXT_BLIND)


def test_bad_inputs(data, tmp_path):
    with pytest.raises(InputError, match="did you mean 'center-box'"):
        run_baseline("centre-box", data, "grefcoco_unc", "val", tmp_path / "p.jsonl")
    with pytest.raises(InputError, match=r"config 'grefcoco_unc' has no split 'testA' \(its splits: "):
        run_baseline("empty", data, "grefcoco_unc", "testA", tmp_path / "p.jsonl")
    with pytest.raises(InputError, match="jitter"):
        run_baseline("oracle-jitter", data, "grefcoco_unc", "val", tmp_path / "p.jsonl", jitter=1.5)
    with pytest.raises(InputError, match=r"\.jsonl or \.json"):
        run_baseline("empty", data, "grefcoco_unc", "val", tmp_path / "p.txt")
    assert not list(tmp_path.iterdir())


def test_json_and_gzip_containers(data, tmp_path):
    for name in ("p.json", "p.jsonl.gz", "p.json.gz"):
        run_baseline("center-box", data, "refcoco_unc", "val", tmp_path / name, quiet=True)
        assert validate_files("rec", tmp_path / name, data, "refcoco_unc", "val")
