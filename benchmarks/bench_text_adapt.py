"""Speed of ``vgbench adapt text``: N answers (default 100,000) adapted and scored, per family.

A REC targets file of N expressions (images 640 x 480, 480 x 640 or 500 x 375, one box each) is
written once (not timed). For each family the ground truth is rendered in that family's answer
format, with 5% of the answers cut in half (parse failures) and 10% carrying a second box. Timed on
the same files, wall-clock seconds and, in brackets, CPU seconds (this process and its workers; the
wall time depends on what else runs on the machine, the CPU time much less):

- ``eval only`` (the baseline): `score_files` (``vgbench eval``) of the adapted predictions file under
  ``rec/iou``, i.e. what scoring costs without the adapter;
- ``adapt``: `convert_text_answers` (read answers and targets, parse, convert, write the predictions
  file and its report), one process;
- ``adapt+score``: `adapt_and_score` (``vgbench adapt text --task rec --protocol rec/iou``): adapt,
  write and score in one pass, one process;
- ``2 workers``: the same with ``--workers 2`` (two forked processes), the number the 20-second target
  is about; ``ratio`` = 2 workers / eval only (wall).

    python benchmarks/bench_text_adapt.py [--n 100000] [--families qwen-vl,qwen2.5-vl,florence-2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from baselines.adapters.text import ImageSize, adapt_and_score, convert_text_answers, render_answer
from evaluators import score_files

SIZES = ((480, 640), (640, 480), (375, 500))  # (height, width)


def make_targets(path: Path, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    with open(path, "w") as f:
        for i in range(n):
            h, w = SIZES[i % len(SIZES)]
            bw, bh = int(rng.integers(20, w // 2)), int(rng.integers(20, h // 2))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            enc = mask_utils.frPyObjects(np.array([[x, y, bw, bh]], dtype=np.float64), h, w)[0]
            mask = {"size": [h, w], "counts": enc["counts"].decode()}
            row = {
                "expr_id": f"refcoco_unc/val/{i}",
                "height": h,
                "width": w,
                "no_target": False,
                "targets": [{"bbox": [float(x), float(y), float(bw), float(bh)], "iscrowd": False}],
                "mask": mask,
            }
            f.write(json.dumps(row) + "\n")
            rows.append(row)
    return rows


def make_answers(path: Path, family: str, rows: list[dict], seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for row in rows:
            x, y, w, h = row["targets"][0]["bbox"]
            boxes = [[x, y, x + w, y + h]]
            u = rng.random()
            if u < 0.10:
                boxes.append([0.0, 0.0, w, h])
            text = render_answer(family, boxes, ImageSize(row["width"], row["height"]))
            if 0.10 <= u < 0.15:
                text = text[: len(text) // 2]
            f.write(json.dumps({"expr_id": row["expr_id"], "text": text}) + "\n")


def timed(fn):
    """(wall seconds, CPU seconds of this process and its finished workers, result)."""
    t0, c0 = time.perf_counter(), os.times()
    out = fn()
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user)
    return time.perf_counter() - t0, cpu + (c1.children_system - c0.children_system), out


def _adapt_score(family, answers, targets, preds, workers):
    return adapt_and_score(
        family, answers, targets, preds, task="rec", protocols=["rec/iou"], workers=workers, quiet=True
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--families", default="qwen-vl,qwen2.5-vl,florence-2")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # the parse-failure warnings are expected here
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        targets = tmp / "targets.jsonl"
        t_setup, _, rows = timed(lambda: make_targets(targets, args.n))
        print(f"{args.n:,} REC expressions (setup {t_setup:.1f} s, not counted); wall seconds (CPU seconds)")
        print(
            f"{'family':<11} {'eval only':>14} {'adapt':>14} {'adapt+score':>14} {'2 workers':>14} "
            f"{'ratio':>6} {'failures':>8} {'prec@0.5':>8}"
        )
        for family in args.families.split(","):
            answers, preds = tmp / f"{family}.jsonl", tmp / f"{family}-preds.jsonl"
            make_answers(answers, family, rows)
            a = timed(partial(convert_text_answers, family, answers, targets, preds, quiet=True))
            # the baseline: `vgbench eval` of the adapted file (the evaluator alone)
            e = timed(partial(score_files, "rec", preds, targets, protocol="rec/iou"))
            one = timed(partial(_adapt_score, family, answers, targets, preds, 1))
            two = timed(partial(_adapt_score, family, answers, targets, preds, 2))
            report, results = two[2]
            cells = " ".join(f"{w:>6.2f} ({c:>5.2f})" for w, c, _ in (e, a, one, two))
            print(
                f"{family:<11} {cells} {two[0] / e[0]:>5.2f}x {len(report.parse_failures):>8,} "
                f"{results[0]['metrics']['prec@0.5']:>8.2f}"
            )


if __name__ == "__main__":
    main()
