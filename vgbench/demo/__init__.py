"""``vgbench demo``: the main job end to end on synthetic data, offline, on a CPU.

synth -> build -> ``datasets.load_dataset`` check -> baselines -> train the tiny InstanceVG for
``--steps`` optimizer steps -> predict -> score every task -> synthetic leaderboard tables -> plots -> summary.
Everything goes under ``--out``; ``OUT/summary.json`` holds the key numbers (see `run_demo`).
"""

from __future__ import annotations

import argparse

from vgbench.demo.pipeline import run_demo
from vgbench.demo.settings import DEFAULT_IMAGES, DEFAULT_STEPS, EVALS, MODEL_NAME

__all__ = ["EVALS", "MODEL_NAME", "add_arguments", "run", "run_demo"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        required=True,
        help="demo folder: new, empty, or an earlier demo's folder (its outputs are replaced)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        help=f"training budget in optimizer steps, the same on every machine (default {DEFAULT_STEPS}; "
        "about 10 minutes for the whole demo on an idle 2-core CPU)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="optional cap on the training's wall-clock minutes; when it stops training before --steps, "
        "the summary says so and the numbers are not the default demo's (default: no cap)",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=DEFAULT_IMAGES,
        help=f"synthetic train2014 scenes per dataset (default {DEFAULT_IMAGES}: about 400 grefcoco_unc "
        "val expressions)",
    )
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
        steps=args.steps,
        minutes=args.minutes,
        images=args.images,
        seed=args.seed,
        overrides=args.overrides,
        quiet=args.quiet,
    )
    print(format_summary(summary))
    return 0
