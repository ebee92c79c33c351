"""Speed of the baselines and adapters on a built dataset of N expressions (default 2,000 at 480 x 640).

The dataset is written with pyarrow (docs/formats.md#the-unified-row columns): one to three rectangles per
expression, 10% no-target. Each baseline writes its predictions file and the evaluator then scores
it on GRES (the check that the file is valid); the adapters convert the oracle's output through a
PNG folder and a VG dump. Times are wall-clock seconds of one run each.

    python benchmarks/bench_baselines.py [--n 2000] [--height 480] [--width 640]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from synth_shapes import box_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from baselines import BASELINES, run_baseline
from baselines.adapters import convert_png_masks, convert_vg_dump, png_name
from evaluators import rle, score_files

CONFIG, SPLIT = "grefcoco_unc", "val"


def make_dataset(root: Path, n: int, h: int, w: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        k = 0 if rng.random() < 0.1 else int(rng.integers(1, 4))
        merged, targets = np.zeros((h, w), np.uint8), []
        for j in range(k):
            (x, y, bw, bh), m = box_mask(rng, h, w)
            merged |= m
            targets.append(
                {
                    "ann_id": i * 10 + j,
                    "category_id": 1,
                    "iscrowd": False,
                    "bbox": [float(x), float(y), float(bw), float(bh)],
                    "area": float(bw * bh),
                    "mask": rle.encode(m),
                }
            )
        rows.append(
            {
                "expr_id": f"{CONFIG}/{SPLIT}/{i}",
                "dataset": "grefcoco",
                "config": CONFIG,
                "split": SPLIT,
                "image_id": i // 3,
                "file_name": f"train2014/COCO_train2014_{i // 3:012d}.jpg",
                "height": h,
                "width": w,
                "ref_id": i,
                "sent_id": i,
                "sentence": "x",
                "raw": "x",
                "no_target": k == 0,
                "target_type": "none" if k == 0 else "single" if k == 1 else "multi",
                "targets": targets,
                "mask": rle.encode(merged),
            }
        )
    folder = root / "data" / CONFIG
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{SPLIT}-00000-of-00001.parquet")
    return root


def timed(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=640)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_dataset(tmp / "built", args.n, args.height, args.width)
        print(f"{args.n} expressions at {args.height} x {args.width}")
        for name in BASELINES:
            out = tmp / f"{name}.jsonl"
            s = timed(run_baseline, name, data, CONFIG, SPLIT, out, quiet=True)
            giou = score_files("gres", out, data, CONFIG, SPLIT).results["metrics"]["giou"]
            print(f"  baseline {name:<15} {s:7.2f}s  {args.n / s:8.0f} expr/s   GRES gIoU {giou:6.2f}")
        oracle = [json.loads(line) for line in (tmp / "oracle-jitter.jsonl").read_text().splitlines()]
        pngs = tmp / "pngs"
        pngs.mkdir()
        from PIL import Image

        for rec in oracle:
            Image.fromarray(rle.decode(rec["mask"]) * 255).save(pngs / png_name(rec["expr_id"]))
        s = timed(convert_png_masks, pngs, data, CONFIG, SPLIT, tmp / "png.jsonl", quiet=True)
        print(f"  adapter  png-masks       {s:7.2f}s  {args.n / s:8.0f} expr/s")
        with open(tmp / "dump.jsonl", "w") as f:
            for rec in oracle:
                boxes = [[x, y, x + w, y + h] for x, y, w, h in (i["bbox"] for i in rec["instances"])]
                entry = {
                    "expr_id": rec["expr_id"],
                    "pred_bboxes": boxes,
                    "pred_scores": [i["score"] for i in rec["instances"]],
                    "pred_masks": [i["segmentation"] for i in rec["instances"]],
                }
                f.write(json.dumps(entry) + "\n")
        s = timed(
            convert_vg_dump, tmp / "dump.jsonl", data, CONFIG, SPLIT, tmp / "dump_preds.jsonl", quiet=True
        )
        print(f"  adapter  vg-dump         {s:7.2f}s  {args.n / s:8.0f} expr/s")


if __name__ == "__main__":
    main()
