"""``vgbench export-targets``: the evaluator's targets file from a built dataset."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="built dataset folder (vgbench build --out)")
    parser.add_argument("--config", required=True, help="config name, e.g. grefcoco_unc")
    parser.add_argument("--split", required=True, help="split name, e.g. val")
    parser.add_argument("--out", required=True, help="targets file to write (.jsonl)")


def run(args: argparse.Namespace) -> int:
    from datasets_builders.export import export_targets

    n = export_targets(args.data, args.config, args.split, args.out)
    print(f"wrote {n} targets to {args.out}")
    return 0
