"""``vgbench export-targets``: the evaluator's targets file from a built dataset."""

from __future__ import annotations

import argparse

from evaluators.cli_options import add_dataset_arguments

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--out", required=True, help="targets file to write (.jsonl)")


def run(args: argparse.Namespace) -> int:
    from datasets_builders.export import export_targets

    n = export_targets(args.data, args.config, args.split, args.out)
    print(f"wrote {n} targets to {args.out}")
    return 0
