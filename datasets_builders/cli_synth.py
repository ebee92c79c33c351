"""``vgbench synth``: synthetic source files for all ten configs (docs/datasets_builders.md, synthetic data)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write the source layout into")
    parser.add_argument("--images", type=int, default=40, help="number of scenes (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from datasets_builders.synth import write_synth
    from evaluators.errors import InputError

    if args.images < 10:
        raise InputError(f"--images must be >= 10 (every split needs images), got {args.images}")
    out = write_synth(args.out, images=args.images, seed=args.seed, quiet=args.quiet)
    print(f"wrote synthetic sources to {out}")
    return 0
