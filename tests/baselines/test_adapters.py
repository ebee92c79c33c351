"""Adapters: PNG mask folders, COCO results + sidecar, SimVG/InstanceVG dumps; round trips and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from baselines.adapters import convert_coco_results, convert_png_masks, convert_vg_dump, png_name
from evaluators import rle, score_files, validate_files
from evaluators.errors import InputError
from tests.baselines.factory import rows_of, write_dataset

CFG, SPLIT = "grefcoco_unc", "val"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("built"))


@pytest.fixture
def rows():
    return rows_of(CFG, SPLIT)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------- PNG masks


def write_pngs(folder, rows, nested=False, mode="L"):
    folder.mkdir(exist_ok=True)
    for row in rows:
        dense = rle.decode(row["mask"]) * 255
        path = folder / (row["expr_id"] + ".png" if nested else png_name(row["expr_id"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(dense.astype(np.uint8), "L")
        (im.convert(mode) if mode != "L" else im).save(path)


def test_png_name():
    assert png_name("grefcoco_unc/val/1234") == "grefcoco_unc__val__1234.png"


@pytest.mark.parametrize(
    ("nested", "mode"),
    [(False, "L"), (True, "L"), (False, "RGB"), (False, "1"), (False, "LA"), (False, "RGBA")],
)
def test_png_ground_truth_scores_perfect(data, tmp_path, rows, nested, mode):
    write_pngs(tmp_path / "pngs", rows, nested=nested, mode=mode)
    out = tmp_path / "p.jsonl"
    assert convert_png_masks(tmp_path / "pngs", data, CFG, SPLIT, out, quiet=True) == len(rows)
    metrics = score_files("gres", out, data, CFG, SPLIT).results["metrics"]
    assert metrics["giou"] == 100.0
    assert metrics["n_acc"] == 100.0
    recs = read(out)
    assert [r["no_target"] for r in recs] == [r["no_target"] for r in rows]
    assert recs[0]["instances"][0]["bbox"] == rows[0]["targets"][0]["bbox"]  # tight box of one rectangle
    assert validate_files("grec", out, data, CFG, SPLIT)


def test_png_instances_none_has_no_instances(data, tmp_path, rows):
    write_pngs(tmp_path / "pngs", rows)
    out = tmp_path / "p.jsonl"
    convert_png_masks(tmp_path / "pngs", data, CFG, SPLIT, out, instances="none", quiet=True)
    assert all("instances" not in r for r in read(out))


def test_png_errors(data, tmp_path, rows):
    folder = tmp_path / "pngs"
    write_pngs(folder, rows[1:])
    out = tmp_path / "p.jsonl"
    with pytest.raises(InputError, match="1 of 6 expressions have no PNG"):
        convert_png_masks(folder, data, CFG, SPLIT, out)
    assert convert_png_masks(folder, data, CFG, SPLIT, out, allow_missing=True, quiet=True) == 6
    assert read(out)[0]["no_target"] is True
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(folder / png_name(rows[0]["expr_id"]))
    with pytest.raises(InputError, match="expected 24x32"):
        convert_png_masks(folder, data, CFG, SPLIT, out)
    write_pngs(folder, rows)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(folder / png_name(f"{CFG}/{SPLIT}/999"))
    with pytest.raises(InputError, match="no expression of grefcoco_unc/val has this file name"):
        convert_png_masks(folder, data, CFG, SPLIT, out)
    (folder / png_name(f"{CFG}/{SPLIT}/999")).write_bytes(b"not a png")
    with pytest.raises(InputError, match="no expression"):
        convert_png_masks(folder, data, CFG, SPLIT, out)
    (folder / png_name(f"{CFG}/{SPLIT}/999")).unlink()
    (folder / png_name(rows[0]["expr_id"])).write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read PNG"):
        convert_png_masks(folder, data, CFG, SPLIT, out)
    with pytest.raises(InputError, match="not found"):
        convert_png_masks(tmp_path / "nope", data, CFG, SPLIT, out)


# ---------------------------------------------------------------- COCO results


def seg(row, target):
    """A perfect instance mask; crowd targets get an empty one (GREC counts their box, GRES not their mask)."""
    return rle.empty(row["height"], row["width"]) if target["iscrowd"] else target["mask"]


def coco_results(rows, key="image_id"):
    results, mapping = [], {}
    for i, row in enumerate(rows):
        mapping[str(100 + i)] = row["expr_id"]
        for t in row["targets"]:
            results.append(
                {
                    "image_id": 100 + i,
                    "category_id": 1,
                    "bbox": t["bbox"],
                    "score": 0.9,
                    "segmentation": seg(row, t),
                }
            )
    if key == "index":
        mapping = {
            str(j): next(v for k, v in mapping.items() if int(k) == r["image_id"])
            for j, r in enumerate(results)
        }
    return results, {"key": key, "map": mapping}


@pytest.mark.parametrize("key", ["image_id", "index"])
def test_coco_results_round_trip(data, tmp_path, rows, key):
    results, mapping = coco_results(rows, key)
    (tmp_path / "r.json").write_text(json.dumps(results))
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    out = tmp_path / "p.jsonl"
    assert (
        convert_coco_results(tmp_path / "r.json", tmp_path / "m.json", data, CFG, SPLIT, out, quiet=True) == 6
    )
    for task in ("grec", "gres"):
        metrics = score_files(task, out, data, CFG, SPLIT).results["metrics"]
        assert metrics["f1_score" if task == "grec" else "giou"] == 100.0


def test_coco_results_plain_mapping_and_polygons(data, tmp_path, rows):
    row = rows[0]
    x, y, w, h = row["targets"][0]["bbox"]
    poly = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    results = [{"image_id": 5, "category_id": 1, "bbox": [x, y, w, h], "score": 1.0, "segmentation": poly}]
    (tmp_path / "r.json").write_text(json.dumps(results))
    (tmp_path / "m.json").write_text(json.dumps({"5": row["expr_id"], "6": "refcoco_unc/val/7"}))
    out = tmp_path / "p.jsonl"
    convert_coco_results(tmp_path / "r.json", tmp_path / "m.json", data, CFG, SPLIT, out, quiet=True)
    recs = read(out)
    assert rle.area(recs[0]["instances"][0]["segmentation"]) > 0
    assert all(r["no_target"] for r in recs[1:])
    assert len(recs) == 6


def test_coco_results_errors(data, tmp_path, rows):
    out = tmp_path / "p.jsonl"
    r, m = tmp_path / "r.json", tmp_path / "m.json"
    m.write_text(json.dumps({"1": rows[0]["expr_id"]}))
    r.write_text(json.dumps([{"image_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]))
    with pytest.raises(InputError, match=r"r.json:\[0\] field='image_id': 2 is not in the mapping"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    r.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 1, 1], "score": 1.5}]))
    with pytest.raises(InputError, match="field='score'"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    r.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, -1, 1], "score": 0.5}]))
    with pytest.raises(InputError, match="field='bbox'"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    r.write_text(
        json.dumps([{"image_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5, "segmentation": rle.empty(3, 3)}])
    )
    with pytest.raises(InputError, match="RLE size"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    m.write_text(json.dumps({"1": f"{CFG}/{SPLIT}/999"}))
    with pytest.raises(InputError, match="is not in"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    m.write_text(json.dumps({"key": "ann", "map": {}}))
    with pytest.raises(InputError, match="field='key'"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    r.write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        convert_coco_results(r, m, data, CFG, SPLIT, out)
    assert not out.exists()


# ---------------------------------------------------------------- VG dumps


def dump_entries(rows, dense=False):
    entries = []
    for row in rows:
        boxes = [
            [t["bbox"][0], t["bbox"][1], t["bbox"][0] + t["bbox"][2], t["bbox"][1] + t["bbox"][3]]
            for t in row["targets"]
        ]
        masks = [rle.decode(seg(row, t)) if dense else seg(row, t) for t in row["targets"]]
        # one low-score distractor query per expression: kept by nobody
        boxes.append([0.0, 0.0, 3.0, 3.0])
        masks.append(
            np.zeros((row["height"], row["width"]), np.uint8)
            if dense
            else rle.empty(row["height"], row["width"])
        )
        entries.append(
            {
                "sent_id": int(row["expr_id"].rsplit("/", 1)[1]),
                "pred_bboxes": boxes,
                "pred_scores": [0.95] * len(row["targets"]) + [0.1],
                "pred_masks": masks,
                "pred_points": [[1.0, 2.0]],
            }
        )
    return entries


def test_vg_dump_jsonl_round_trip(data, tmp_path, rows):
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in dump_entries(rows)))
    out = tmp_path / "p.jsonl"
    assert convert_vg_dump(path, data, CFG, SPLIT, out, quiet=True) == 6
    for task, key in (("grec", "f1_score"), ("gres", "giou")):
        assert score_files(task, out, data, CFG, SPLIT).results["metrics"][key] == 100.0
    recs = read(out)
    assert [r["no_target"] for r in recs] == [r["no_target"] for r in rows]
    assert recs[0]["points"] == [[1.0, 2.0]]
    assert recs[0]["no_target_score"] == pytest.approx(0.05)


def test_vg_dump_torch_container(data, tmp_path, rows):
    torch = pytest.importorskip("torch")
    entries = []
    for e in dump_entries(rows, dense=True):
        entries.append(
            {
                "sent_id": torch.tensor(e["sent_id"]),
                "pred_bboxes": torch.tensor(e["pred_bboxes"]).reshape(-1, 4),
                "pred_scores": torch.tensor(e["pred_scores"]),
                "pred_masks": torch.from_numpy(np.stack(e["pred_masks"]).astype(bool)),
                "pred_global_mask": torch.zeros(rows[0]["height"], rows[0]["width"], dtype=torch.bool)
                if e["sent_id"] in (1, 2, 3, 5)
                else torch.zeros(30, 20, dtype=torch.bool),
            }
        )
    torch.save(entries, tmp_path / "dump.pth")
    out = tmp_path / "p.jsonl"
    convert_vg_dump(tmp_path / "dump.pth", data, CFG, SPLIT, out, quiet=True)
    assert score_files("gres", out, data, CFG, SPLIT).results["metrics"]["giou"] == 100.0


def test_vg_dump_outmask_types(rows):
    from baselines.adapters import dump_record

    row = rows[0]
    size = (row["height"], row["width"])
    glob = np.zeros(size, np.uint8)
    glob[20:, 20:] = 1
    entry = dump_entries([row])[0] | {"pred_global_mask": glob}
    areas = {
        t: rle.area(dump_record(entry, row["expr_id"], size, "x", outmask_type=t)["mask"])
        for t in ("merge", "global", "instance")
    }
    assert areas == {"merge": 30 + 48, "global": 48, "instance": 30}
    strict = dump_record(entry | {"pred_scores": [0.7, 0.1]}, row["expr_id"], size, "x")
    assert strict["no_target"] is True  # InstanceVG keeps scores strictly above 0.7


def test_vg_dump_errors(data, tmp_path, rows):
    out = tmp_path / "p.jsonl"
    path = tmp_path / "dump.jsonl"

    def put(entries):
        path.write_text("".join(json.dumps(e) + "\n" for e in entries))

    good = dump_entries(rows)
    put(good[1:])
    with pytest.raises(InputError, match="1 of 6 expressions have no entry"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    assert convert_vg_dump(path, data, CFG, SPLIT, out, allow_missing=True, quiet=True) == 6
    put(good + good[:1])
    with pytest.raises(InputError, match=r"dump\.jsonl:7 .*duplicate entry"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([good[0] | {"sent_id": 999}])
    with pytest.raises(InputError, match="not in"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([{k: v for k, v in good[0].items() if k != "sent_id"}])
    with pytest.raises(InputError, match="field='expr_id': missing"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([good[0] | {"pred_scores": [0.5]}])
    with pytest.raises(InputError, match="1 scores for 2 boxes"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([good[0] | {"pred_bboxes": [[5, 5, 1, 1], [0, 0, 1, 1]]}])
    with pytest.raises(InputError, match="x2 >= x1"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([good[0] | {"pred_masks": [rle.empty(3, 3), rle.empty(3, 3)]}])
    with pytest.raises(InputError, match=r"pred_masks'\[0\]: RLE size"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    put([good[0] | {"pred_scores": [float("nan"), 0.1]}])
    with pytest.raises(InputError, match="NaN"):
        convert_vg_dump(path, data, CFG, SPLIT, out)
    (tmp_path / "x.pkl").write_text("")
    with pytest.raises(InputError, match="unknown dump type"):
        convert_vg_dump(tmp_path / "x.pkl", data, CFG, SPLIT, out)
    with pytest.raises(InputError, match="dump not found"):
        convert_vg_dump(tmp_path / "none.jsonl", data, CFG, SPLIT, out)
    with pytest.raises(InputError, match="outmask-type"):
        convert_vg_dump(path, data, CFG, SPLIT, out, outmask_type="union")
    # the one successful call above (allow_missing) wrote the file; no failed call replaced it
    assert len(read(out)) == 6
