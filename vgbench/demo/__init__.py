"""``vgbench demo``: the main job end to end on synthetic data, offline, on a CPU.

synth -> build -> ``datasets.load_dataset`` check -> baselines -> train the tiny InstanceVG for
``--minutes`` -> predict -> score every task -> synthetic leaderboard tables -> plots -> summary.
Everything goes under ``--out``; ``OUT/summary.json`` holds the key numbers (see `run_demo`).
"""

from __future__ import annotations

import argparse

from vgbench.demo.pipeline import EVALS, MODEL_NAME, run_demo

__all__ = ["EVALS", "MODEL_NAME", "add_arguments", "run", "run_demo"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        required=True,
        help="demo folder: new, empty, or an earlier demo's folder (its outputs are replaced)",
    )
    parser.add_argument(
        "--minutes", type=float, default=7.0, help="training time budget in minutes (default 7)"
    )
    parser.add_argument("--images", type=int, default=40, help="synthetic images per dataset (default 40)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the synthetic data and the training (default 0)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="overrides of the tiny-cpu model config (e.g. train.lr=2e-3) and run options (run.*)",
    )


def run(args: argparse.Namespace) -> int:
    from vgbench.demo.report import format_summary

    summary = run_demo(
        args.out,
        minutes=args.minutes,
        images=args.images,
        seed=args.seed,
        overrides=args.overrides,
        quiet=args.quiet,
    )
    print(format_summary(summary))
    return 0
