"""Speed of `instancevg.training` on the synthetic benchmark: training steps, per-epoch evaluation, predict.

Synthesises and builds the default synthetic benchmark (``--images`` scenes), trains the ``tiny-cpu`` preset on
``grefcoco_unc`` for ``--epochs`` epochs with evaluation on ``val`` after each, then predicts ``val`` again with
`instancevg.training.predict`. Prints seconds per epoch, samples per second, the evaluation and prediction
times and the metrics after each epoch (GREC F1score, GRES gIoU), read from ``RUN/log.jsonl``.

    python benchmarks/bench_training.py [--images 40] [--epochs 3] [--threads 1] [--set train.batch_size=8 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datasets_builders.build import build_dataset
from datasets_builders.synth import write_synth
from instancevg.config import load_config
from instancevg.training import RunOptions, predict, read_log, train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--config", default="tiny-cpu")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = write_synth(tmp / "src", images=args.images, seed=0)
        data = build_dataset(source, tmp / "data", quiet=True)
        cfg = load_config(args.config, [f"train.epochs={args.epochs}", *args.overrides])
        t0 = time.perf_counter()
        summary = train(
            cfg, data, tmp / "run", quiet=True, options=RunOptions(log_every=0, threads=args.threads)
        )
        train_s = time.perf_counter() - t0
        log = read_log(tmp / "run" / "log.jsonl")
        t0 = time.perf_counter()
        preds = predict(
            tmp / "run" / "last.pt",
            data,
            "grefcoco_unc",
            "val",
            tmp / "p.jsonl",
            quiet=True,
            threads=args.threads,
        )
        predict_s = time.perf_counter() - t0
        n_val = sum(1 for _ in preds.open())

    epochs = [r for r in log if r["event"] == "epoch"]
    evals = [r for r in log if r["event"] == "eval"]
    n = summary["train_samples"]
    print(
        f"{cfg.name}: img {cfg.input.img_size}, batch {cfg.train.batch_size}, {n} train / {n_val} val expressions, "
        f"threads {args.threads or 'default'}"
    )
    print("epoch  train_s  samples/s  loss    eval_s  grec_f1  gres_giou")
    figures = []
    for e, ev in zip(epochs, evals + [None] * (len(epochs) - len(evals))):
        eval_s = ev["time"] - e["time"] if ev else None
        f1 = ev["metrics"]["grec"]["f1_score"] if ev else None
        giou = ev["metrics"]["gres"]["giou"] if ev else None
        figures.append(
            {
                "epoch": e["epoch"],
                "train_s": e["seconds"],
                "samples_per_s": n / e["seconds"],
                "mean_loss": e["mean_loss"],
                "eval_s": eval_s,
                "grec_f1_score": f1,
                "gres_giou": giou,
            }
        )
        print(
            f"{e['epoch']:>5}  {e['seconds']:7.1f}  {n / e['seconds']:9.1f}  {e['mean_loss']:.3f}  "
            f"{eval_s or 0:6.1f}  {f1 or 0:7.2f}  {giou or 0:9.2f}"
        )
    print(
        f"train() total {train_s:.1f} s; predict {n_val} expressions {predict_s:.1f} s "
        f"({n_val / predict_s:.1f}/s, model load included)"
    )
    if args.out:
        Path(args.out).write_text(
            json.dumps(
                {
                    "config": cfg.name,
                    "epochs": figures,
                    "train_s": train_s,
                    "predict_s": predict_s,
                    "val_expressions": n_val,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
