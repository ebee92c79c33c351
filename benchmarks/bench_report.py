"""Speed of ``vgbench report`` on N expressions with images (default 10,000; goal < 60 s on 2 cores).

Data (not timed): ``--images`` distinct 480 x 640 JPEG scenes and a targets JSONL of N unified rows
(one to three rectangles per expression, 10% no-target), five consecutive expressions per image (as
in gRefCOCO val), cycling over the images, plus a predictions file with jittered boxes, rectangle
masks, scores and prior points.

Timed: `vgbench.report.build_report` with ``--workers`` processes (scoring under both GREC and both
GRES protocols, 1,000-resample bootstrap intervals, breakdowns, N thumbnails, the page). Then a re-run
into the same folder (every thumbnail reused).

Baseline in the same run: drawing a card the way the demo's ``examples.png`` does (matplotlib
``imshow`` + patches + ``savefig`` at the same pixel size), timed on ``--baseline-cards`` cards and
scaled to N, against the report's thumbnail renderer on the same cards in one process.

With ``--browser`` (needs chromium + websocket-client) the report is opened headless from disk:
seconds until the first page of cards shows, and for an outcome filter followed by a sort.

    python benchmarks/bench_report.py [--n 10000] [--images 200] [--workers 2] [--browser]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from synth_shapes import box_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from evaluators import rle
from vgbench.report import build_report
from vgbench.report.thumbs import Drawing, render

H, W = 480, 640
PER_IMAGE = 5  # consecutive expressions per image, as in gRefCOCO val (about 5 sentences per image)
CATEGORIES = ("circle", "square", "star", "triangle")


def make_data(root: Path, n: int, n_images: int, seed: int = 0) -> tuple[Path, Path, Path]:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    images = root / "images"
    images.mkdir(parents=True)
    for k in range(n_images):
        img = Image.new("RGB", (W, H), tuple(int(v) for v in rng.integers(0, 255, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(8):
            x, y = int(rng.integers(0, W - 60)), int(rng.integers(0, H - 60))
            draw.ellipse(
                [x, y, x + int(rng.integers(20, 120)), y + int(rng.integers(20, 120))],
                fill=tuple(int(v) for v in rng.integers(0, 255, 3)),
            )
        img.save(images / f"img{k:05d}.jpg", quality=90)
    targets, preds = root / "targets.jsonl", root / "preds.jsonl"
    with open(targets, "w") as ft, open(preds, "w") as fp:
        for i in range(n):
            k = 0 if rng.random() < 0.1 else int(rng.integers(1, 4))
            merged = np.zeros((H, W), np.uint8)
            tg, inst, points = [], [], []
            pred_mask = np.zeros((H, W), np.uint8)
            for j in range(k):
                (x, y, bw, bh), m = box_mask(rng, H, W)
                merged |= m
                tg.append(
                    {
                        "ann_id": i * 10 + j,
                        "category_id": j + 1,
                        "iscrowd": False,
                        "bbox": [x, y, bw, bh],
                        "area": float(bw * bh),
                    }
                )
                dx, dy = (int(v) for v in rng.integers(-15, 16, 2))
                px, py = max(0, x + dx), max(0, y + dy)
                pw, ph = min(bw, W - px), min(bh, H - py)
                pm = np.zeros((H, W), np.uint8)
                pm[py : py + ph, px : px + pw] = 1
                pred_mask |= pm
                inst.append({"bbox": [px, py, pw, ph], "score": float(rng.uniform(0.5, 1.0))})
                points.append([px + pw / 2, py + ph / 2])
            if k == 0 and rng.random() < 0.5:
                inst.append({"bbox": [10.0, 10.0, 100.0, 80.0], "score": 0.9})
                pred_mask[10:90, 10:110] = 1
            words = " ".join(
                ["the"]
                + [
                    str(w)
                    for w in rng.choice(
                        ["red", "big", "left", "circle", "next", "to"], int(rng.integers(1, 10))
                    )
                ]
            )
            row = {
                "expr_id": f"grefcoco_unc/val/{i}",
                "height": H,
                "width": W,
                "no_target": k == 0,
                "targets": tg,
                "mask": rle.encode(merged),
                "sentence": words,
                "file_name": f"img{(i // PER_IMAGE) % n_images:05d}.jpg",
                "category_names": [CATEGORIES[t["category_id"] % 4] for t in tg],
            }
            ft.write(json.dumps(row) + "\n")
            fp.write(
                json.dumps(
                    {
                        "expr_id": row["expr_id"],
                        "instances": inst,
                        "mask": rle.encode(pred_mask),
                        "points": points,
                    }
                )
                + "\n"
            )
    return targets, preds, images


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children (the thumbnail workers)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def matplotlib_card(d: Drawing, path: Path, size: int) -> None:
    """The demo's way of drawing one example (vgbench/demo/plots.py), at the thumbnail's pixel size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    image = np.asarray(Image.open(d.image).convert("RGB"), dtype=np.float32) / 255.0
    for mask, colour in ((d.gt_mask, (0.0, 0.84, 1.0)), (d.pred_mask, (1.0, 0.48, 0.0))):
        if mask is not None:
            m = rle.decode(mask).astype(bool)
            image[m] = 0.55 * image[m] + 0.45 * np.array(colour)
    fig = plt.figure(figsize=(size / 100, size * H / W / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(image)
    for boxes, colour in ((d.gt_boxes, "cyan"), (d.pred_boxes, "orange")):
        for x, y, w, h in boxes:
            ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=colour, lw=1.5))
    if d.points:
        pts = np.asarray(d.points)
        ax.scatter(pts[:, 0], pts[:, 1], s=12, c="yellow", edgecolors="black", linewidths=0.5)
    ax.axis("off")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def browser_timings(index: Path) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.vgbench.cdp import Browser, find_chromium

    exe = find_chromium()
    if exe is None:
        return {}
    with Browser(exe) as b:
        t0 = time.perf_counter()
        b.open(index.as_uri())
        b.wait_for("document.querySelectorAll('.card').length > 0", 120)
        first = time.perf_counter() - t0
        t1 = time.perf_counter()
        b.evaluate(
            "(() => { for (const [id, v] of [['f-o', 'missed'], ['f-s', 'iou_asc']]) {"
            " const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); } })()"
        )
        b.wait_for("document.getElementById('count').dataset.count !== undefined")
        filt = time.perf_counter() - t1
        assert not b.errors, b.errors
    return {"first_page_s": round(first, 2), "filter_and_sort_s": round(filt, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline-cards", type=int, default=200)
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        targets, preds, images = make_data(root, args.n, args.images)
        print(
            f"data: {args.n} expressions over {args.images} images in {time.perf_counter() - t0:.1f}s (not timed)"
        )
        out = root / "report"
        cpu0 = _cpu()
        t0 = time.perf_counter()
        summary = build_report(preds, targets, out, images=images, workers=args.workers, quiet=True)
        total = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        again = build_report(preds, targets, out, images=images, workers=args.workers, quiet=True)
        rerun = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(
            f"report: {args.n} expressions, tasks {summary['tasks']}, {summary['thumbnails']['drawn']} thumbnails, "
            f"{args.workers} workers: {total:.1f}s wall (goal < 60 s), {cpu:.1f} CPU-seconds in all processes "
            f"(so >= {cpu / 2:.1f}s on 2 idle cores), load average {load:.1f}; re-run reusing {again['thumbnails']['reused']} "
            f"thumbnails: {rerun:.1f}s; folder {size / 1e6:.1f} MB, data.js {(out / 'data.js').stat().st_size / 1e6:.1f} MB"
        )
        # baseline: the demo's matplotlib drawing vs the report's renderer, same cards, one process
        lines = targets.read_text().splitlines()[: args.baseline_cards]
        plines = preds.read_text().splitlines()[: args.baseline_cards]
        cards = []
        for tl, pl in zip(lines, plines):
            t, p = json.loads(tl), json.loads(pl)
            cards.append(
                Drawing(
                    H,
                    W,
                    str(images / t["file_name"]),
                    tuple(tuple(x["bbox"]) for x in t["targets"]),
                    t["mask"] if t["targets"] else None,
                    tuple(tuple(i["bbox"]) for i in p["instances"] if i["score"] >= 0.7),
                    p["mask"],
                    tuple(tuple(q) for q in p["points"]),
                )
            )
        bdir = root / "baseline"
        bdir.mkdir()
        t0 = time.perf_counter()
        for k, d in enumerate(cards):
            render(d, bdir / f"r{k}.jpg", 256)
        ours = (time.perf_counter() - t0) / len(cards)
        t0 = time.perf_counter()
        for k, d in enumerate(cards):
            matplotlib_card(d, bdir / f"m{k}.png", 256)
        base = (time.perf_counter() - t0) / len(cards)
        print(
            f"thumbnail, one process: report renderer {ours * 1e3:.1f} ms, matplotlib (demo's examples plot) "
            f"{base * 1e3:.1f} ms: x{base / ours:.1f}; matplotlib for {args.n} cards would take "
            f"{base * args.n:.0f}s in one process"
        )
        if args.browser:
            timings = browser_timings(out / "index.html")
            print(f"browser (headless chromium, file://): {timings or 'chromium not found'}")
        print(
            json.dumps(
                {
                    "n": args.n,
                    "workers": args.workers,
                    "cpus": os.cpu_count(),
                    "report_s": round(total, 2),
                    "cpu_s": round(cpu, 2),
                    "load": round(load, 2),
                    "rerun_s": round(rerun, 2),
                    "thumb_ms": round(ours * 1e3, 2),
                    "matplotlib_ms": round(base * 1e3, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
