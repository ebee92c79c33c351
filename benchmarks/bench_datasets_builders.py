"""Speed and peak memory of `vgbench build` on a synthetic gRefCOCO-shaped source.

The source mimics gRefCOCO's shape: 640 x 480 images, ~8 polygon annotations per image (24-40
vertices, some in two parts, a few crowd RLE), ~14 expressions per image in refs of 1-3 sentences with
1-3 targets (about 10% no-target, 35% multi-target), splits train/val/testA/testB at 80/8/6/6 %.
No image files are needed (the builder only reads annotations).

Each build runs in a fresh process; memory is the peak of the summed PSS (proportional set size, so
pages shared by forked workers count once) of the build process and its workers, sampled every 50 ms
(for one worker, at least the process's own peak RSS, ``VmHWM``).
Two sizes are measured (N/2 and N); time is extrapolated to the real gRefCOCO (about 278,232
expressions) at the rate measured at N, memory linearly through the two sizes.

    python benchmarks/bench_datasets_builders.py [--expressions 50000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth_shapes import polygon

ROOT = Path(__file__).resolve().parents[1]
REAL_GREFCOCO = 278232

_CHILD = r"""
import glob, json, sys, threading, time
sys.path.insert(0, sys.argv[2])
from datasets_builders.build import build_dataset

def pss_total():
    pids = ["self"]
    for f in glob.glob("/proc/self/task/*/children"):
        pids += open(f).read().split()
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024

peak = [0.0]
done = threading.Event()
def poll():
    while not done.is_set():
        peak[0] = max(peak[0], pss_total())
        time.sleep(0.05)
thread = threading.Thread(target=poll, daemon=True)
thread.start()
kwargs = json.loads(sys.argv[1])
t = time.perf_counter()
build_dataset(**kwargs, quiet=True)
elapsed = time.perf_counter() - t
done.set(); thread.join()
# VmHWM: this process's own peak RSS (ru_maxrss would carry the generating parent's peak over fork/exec)
own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
single = kwargs.get("workers", 1) == 1
print(json.dumps({"seconds": elapsed, "self_rss_mb": own, "pss_mb": max(peak[0], own if single else 0)}))
"""


def make_source(root: Path, expressions: int, seed: int = 0) -> int:
    """Write ``root/grefcoco/{instances.json, grefs(unc).json}``; returns the expression count."""
    rng = random.Random(seed)
    images, anns, refs = [], [], []
    sent_id = ann_id = 0
    image_id = 0
    while sent_id < expressions:
        image_id += 1
        images.append(
            {"file_name": f"COCO_train2014_{image_id:012d}.jpg", "height": 480, "width": 640, "id": image_id}
        )
        ids = []
        for _ in range(8):
            ann_id += 1
            cx, cy, r = rng.uniform(60, 580), rng.uniform(60, 420), rng.uniform(15, 60)
            if rng.random() < 0.02:
                counts = [int(640 * 480 / 4), 2000, int(640 * 480 * 3 / 4) - 2000]
                segm, crowd = {"size": [480, 640], "counts": counts}, 1
                bbox = [0.0, 0.0, 640.0, 480.0]
            else:
                parts = [polygon(rng, cx, cy, r)]
                if rng.random() < 0.15:
                    parts.append(polygon(rng, min(600, cx + 2 * r), cy, r / 2))
                segm, crowd = parts, 0
                xs = [v for p in parts for v in p[0::2]]
                ys = [v for p in parts for v in p[1::2]]
                bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            anns.append(
                {
                    "segmentation": segm,
                    "area": bbox[2] * bbox[3] * 0.7,
                    "iscrowd": crowd,
                    "image_id": image_id,
                    "bbox": bbox,
                    "category_id": 1,
                    "id": ann_id,
                }
            )
            ids.append(ann_id)
        u = rng.random()
        split = "train" if u < 0.80 else "val" if u < 0.88 else "testA" if u < 0.94 else "testB"
        n_here = 0
        while n_here < 14 and sent_id < expressions:
            kind = rng.random()
            targets = [-1] if kind < 0.1 else rng.sample(ids, 1 if kind < 0.65 else rng.randint(2, 3))
            sents = []
            for _ in range(rng.randint(1, 3)):
                text = " ".join(
                    rng.choice(["the", "man", "left", "red", "shirt", "all", "two", "dogs"]) for _ in range(5)
                )
                sents.append({"tokens": text.split(), "raw": text, "sent_id": sent_id, "sent": text})
                sent_id += 1
            n_here += len(sents)
            refs.append(
                {
                    "ref_id": len(refs),
                    "image_id": image_id,
                    "split": split,
                    "ann_id": targets,
                    "category_id": [1] * len(targets),
                    "no_target": targets == [-1],
                    "sent_ids": [s["sent_id"] for s in sents],
                    "sentences": sents,
                    "file_name": images[-1]["file_name"],
                }
            )
    folder = root / "grefcoco"
    folder.mkdir(parents=True)
    (folder / "instances.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing"}]})
    )
    (folder / "grefs(unc).json").write_text(json.dumps(refs))
    return sent_id


def measure_build(**kwargs) -> dict:
    """``build_dataset(**kwargs)`` in a fresh process: seconds, its own peak RSS and the peak PSS of it and its
    workers (sampled every 50 ms), so that the figures exclude this generating process."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(kwargs), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_build(source: Path, out: Path, workers: int) -> dict:
    return measure_build(source=str(source), out=str(out), configs=["grefcoco_unc"], workers=workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expressions", type=int, default=50000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results = []
        for n in (args.expressions // 2, args.expressions):
            src = tmp / f"src{n}"
            t = time.perf_counter()
            n = make_source(src, n)
            gen = time.perf_counter() - t
            size_mb = sum(p.stat().st_size for p in src.rglob("*") if p.is_file()) / 2**20
            for workers in args.workers:
                r = run_build(src, tmp / f"out{n}_{workers}", workers)
                peak = r["pss_mb"]
                out_mb = (
                    sum(p.stat().st_size for p in (tmp / f"out{n}_{workers}").rglob("*") if p.is_file())
                    / 2**20
                )
                results.append((n, workers, r["seconds"], peak, size_mb, out_mb))
                print(
                    f"expressions {n:>7}  workers {workers}  build {r['seconds']:7.1f} s  "
                    f"{n / r['seconds']:8.0f} expr/s  peak memory {peak:7.0f} MB  "
                    f"(source {size_mb:.0f} MB generated in {gen:.0f} s, output {out_mb:.0f} MB)"
                )
        print(f"\nExtrapolation to the real gRefCOCO ({REAL_GREFCOCO:,} expressions):")
        for workers in args.workers:
            (n1, _, _t1, m1, _, _), (n2, _, t2, m2, _, _) = [r for r in results if r[1] == workers]
            slope_m = (m2 - m1) / (n2 - n1)
            t_real = t2 * REAL_GREFCOCO / n2  # the rate at N (timings are too noisy for a slope)
            m_real = m2 + slope_m * (REAL_GREFCOCO - n2)
            print(f"  workers {workers}: ~{t_real / 60:.1f} min, peak memory ~{m_real / 1024:.2f} GB")


if __name__ == "__main__":
    main()
