"""Speed and peak memory of `vgbench build` from the other source layouts, against the official layout
built in the same run (ratios).

1. A RefCOCO-shaped source (20,000 images 640 x 480, 10 polygon annotations each, 50,000 refs,
   ~142,000 expressions: the size of the real RefCOCO) is written in the official layout, then as the
   jxu124 Hub Parquet copy and as the original zip (`write_formats`). Each is built
   (``refcoco_unc``) in a fresh process; the official build is the baseline.
2. COCO's full ``instances_train2014.json``: the same refs with no per-folder ``instances.json`` but a
   COCO-sized ``annotations/instances_train2014.json`` (82,783 images, 604,907 annotations: the
   RefCOCO ones plus unreferenced ones) is built streaming; the baseline is the same full file given as
   ``refcoco/instances.json`` (loaded whole).

Memory is the peak summed PSS of the build process (and workers), sampled every 50 ms, and at least
the process's own peak RSS (``VmHWM``; ``ru_maxrss`` would inherit the generating parent's peak).

    python benchmarks/bench_source_layouts.py [--images 20000] [--skip-coco-full]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from synth_shapes import polygon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COCO_TRAIN_IMAGES = 82783
COCO_TRAIN_ANNS = 604907


def _ann(rng: random.Random, ann_id: int, image_id: int) -> dict:
    cx, cy, r = rng.uniform(60, 580), rng.uniform(60, 420), rng.uniform(15, 60)
    parts = [polygon(rng, cx, cy, r)]
    if rng.random() < 0.1:
        parts.append(polygon(rng, min(600, cx + 2 * r), cy, r / 2))
    xs = [v for p in parts for v in p[0::2]]
    ys = [v for p in parts for v in p[1::2]]
    bbox = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
    return {
        "segmentation": parts,
        "area": round(bbox[2] * bbox[3] * 0.7, 2),
        "iscrowd": 0,
        "image_id": image_id,
        "bbox": bbox,
        "category_id": rng.randint(1, 90),
        "id": ann_id,
    }


def make_refcoco(root: Path, images: int, seed: int = 0) -> tuple[int, list[dict], list[dict]]:
    """Official ``refcoco/{instances.json, refs(unc).p}``; returns (expressions, images, annotations)."""
    from datasets_builders.coco_categories import COCO_CATEGORIES

    rng = random.Random(seed)
    imgs, anns, refs = [], [], []
    sent_id = 0
    for k in range(images):
        image_id = 1 + 7 * k
        imgs.append(
            {"file_name": f"COCO_train2014_{image_id:012d}.jpg", "height": 480, "width": 640, "id": image_id}
        )
        ids = []
        for _ in range(10):
            anns.append(_ann(rng, 1_000_000 + len(anns), image_id))
            ids.append(anns[-1]["id"])
        u = rng.random()
        split = "train" if u < 0.85 else "val" if u < 0.925 else "testA" if u < 0.9625 else "testB"
        for ann_id in rng.sample(ids, rng.choice((2, 2, 3, 3, 3))):
            sents = []
            for _ in range(rng.choice((2, 3, 3, 3, 4))):
                text = " ".join(
                    rng.choice(["the", "man", "left", "red", "shirt", "small", "dog", "on"]) for _ in range(4)
                )
                sents.append({"tokens": text.split(), "raw": text, "sent_id": sent_id, "sent": text})
                sent_id += 1
            refs.append(
                {
                    "sent_ids": [s["sent_id"] for s in sents],
                    "file_name": f"COCO_train2014_{image_id:012d}_{len(refs)}.jpg",
                    "ann_id": ann_id,
                    "ref_id": len(refs),
                    "image_id": image_id,
                    "split": split,
                    "sentences": sents,
                    "category_id": 1,
                }
            )
    folder = root / "refcoco"
    folder.mkdir(parents=True)
    cats = [{"id": i, "name": n} for i, n in COCO_CATEGORIES.items()]
    (folder / "instances.json").write_text(
        json.dumps({"images": imgs, "annotations": anns, "categories": cats})
    )
    (folder / "refs(unc).p").write_bytes(pickle.dumps(refs, protocol=2))
    return sent_id, imgs, anns


def write_coco_full(path: Path, imgs: list[dict], anns: list[dict], seed: int = 1) -> None:
    """A COCO-sized instances file: the given images/annotations plus unreferenced ones, streamed out."""
    from datasets_builders.coco_categories import COCO_CATEGORIES

    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra_images = max(0, COCO_TRAIN_IMAGES - len(imgs))
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"info": {"description": "benchmark"}, "images": [')
        all_ids = [i["id"] for i in imgs]
        for k, img in enumerate(imgs):
            f.write(("," if k else "") + json.dumps(img))
        for k in range(extra_images):
            image_id = 2 + 7 * k
            all_ids.append(image_id)
            f.write(
                ","
                + json.dumps(
                    {
                        "file_name": f"COCO_train2014_{image_id:012d}.jpg",
                        "height": 480,
                        "width": 640,
                        "id": image_id,
                    }
                )
            )
        f.write('], "annotations": [')
        for k, ann in enumerate(anns):
            f.write(("," if k else "") + json.dumps(ann))
        for k in range(max(0, COCO_TRAIN_ANNS - len(anns))):
            f.write("," + json.dumps(_ann(rng, 3_000_000 + k, rng.choice(all_ids))))
        cats = [{"id": i, "name": n} for i, n in COCO_CATEGORIES.items()]
        f.write('], "categories": ' + json.dumps(cats) + "}")


def run_build(source: Path, out: Path, layout: str, workers: int = 1) -> dict:
    from bench_datasets_builders import measure_build  # the same measuring child process

    result = measure_build(
        source=str(source), out=str(out), configs=["refcoco_unc"], workers=workers, layout=layout
    )
    shutil.rmtree(out, ignore_errors=True)
    return result


def _mb(path: Path) -> float:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
        if path.is_dir()
        else path.stat().st_size / 2**20
    )


def _refcoco_table(tmp: Path, src: Path, n: int) -> None:
    base = run_build(src, tmp / "out", "official")
    rows = [("official refs(unc).p + instances.json (baseline)", base, _mb(src))]
    for layout in ("jxu124", "zip"):
        r = run_build(tmp / "formats" / layout, tmp / "out", layout)
        rows.append((layout, r, _mb(tmp / "formats" / layout)))
    print("\n| source | input MB | build s | expr/s | time vs official | peak MB | memory vs official |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r, size in rows:
        print(
            f"| {name} | {size:.0f} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
            f"{r['seconds'] / base['seconds']:.2f}x | {r['pss_mb']:.0f} | {r['pss_mb'] / base['pss_mb']:.2f}x |"
        )


def main() -> None:
    from datasets_builders.write_formats import write_formats

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--skip-coco-full", action="store_true")
    parser.add_argument("--skip-refcoco", action="store_true", help="only the COCO-full part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        t = time.perf_counter()
        n, imgs, anns = make_refcoco(src, args.images)
        if not args.skip_refcoco:
            write_formats(src, tmp / "formats", layouts=("jxu124", "zip"))
        print(
            f"RefCOCO-shaped source: {n:,} expressions, {len(anns):,} annotations ({time.perf_counter() - t:.0f} s)"
        )
        if not args.skip_refcoco:
            _refcoco_table(tmp, src, n)
        if not args.skip_coco_full:
            _coco_full_table(tmp, src, imgs, anns)


def _coco_full_table(tmp: Path, src: Path, imgs: list[dict], anns: list[dict]) -> None:
    t = time.perf_counter()
    full = tmp / "full"
    write_coco_full(full / "annotations" / "instances_train2014.json", imgs, anns)
    (full / "refcoco").mkdir(parents=True)
    shutil.copy(src / "refcoco" / "refs(unc).p", full / "refcoco" / "refs(unc).p")
    size = _mb(full / "annotations" / "instances_train2014.json")
    print(
        f"\nCOCO-sized instances_train2014.json: {size:.0f} MB (written in {time.perf_counter() - t:.0f} s)"
    )
    streamed = run_build(full, tmp / "out", "official")
    (full / "annotations" / "instances_train2014.json").rename(full / "refcoco" / "instances.json")
    whole = run_build(full, tmp / "out", "official")
    print("\n| COCO instances | build s | peak MB | memory vs whole load |")
    print("|---|---:|---:|---:|")
    print(
        f"| full file loaded whole as refcoco/instances.json (baseline) | {whole['seconds']:.1f} | {whole['pss_mb']:.0f} | 1.00x |"
    )
    print(
        f"| annotations/instances_train2014.json streamed | {streamed['seconds']:.1f} | {streamed['pss_mb']:.0f} | "
        f"{streamed['pss_mb'] / whole['pss_mb']:.2f}x |"
    )


if __name__ == "__main__":
    main()
