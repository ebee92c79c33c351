"""``vgbench train``: train InstanceVG on a built dataset (`instancevg.training.train`).

Model keys and run keys share ``--set``: ``--set train.epochs=3 img_size=160`` changes the model
config, ``--set run.data_config=refzom_final run.evaluate=false`` the run (see
`instancevg.training.RunOptions`). Under ``torchrun --nproc_per_node N -m vgbench train ...`` the run
is distributed (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import json
import sys

from instancevg.training.options import RunOptions, split_overrides

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="preset name (e.g. tiny-cpu) or a .json/.yaml/.toml file"
    )
    parser.add_argument("--data", required=True, help="built dataset folder (vgbench build --out)")
    parser.add_argument("--out", required=True, help="run folder: log.jsonl, last.pt, epoch_{k}.pt, eval/")
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides (train.lr=1e-4) and run options (run.data_config=refcoco_unc)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    parser.add_argument(
        "--time-budget", type=float, help="stop cleanly after this many seconds (checkpointed)"
    )


def run(args: argparse.Namespace) -> int:
    from instancevg.config import load_config
    from instancevg.training import train

    model_overrides, run_overrides = split_overrides(args.overrides)
    cfg = load_config(args.config, model_overrides)
    options = RunOptions().with_overrides(run_overrides)
    summary = train(
        cfg,
        args.data,
        args.out,
        time_budget_s=args.time_budget,
        resume=args.resume,
        quiet=args.quiet,
        options=options,
    )
    if summary["world_size"] == 1 or _is_main():
        print(json.dumps(summary, indent=2, sort_keys=True), file=sys.stdout)
    return 0


def _is_main() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"
