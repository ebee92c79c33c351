"""``vgbench train``: train InstanceVG on a built dataset (`instancevg.training.train`).

Model keys and run keys share ``--set``: ``--set train.epochs=3 input.img_size=160`` changes the model
config (dotted keys of its groups; the old flat keys such as ``img_size=160`` are aliases), ``--set
run.data_config=refzom_final run.evaluate=false`` the run (see `instancevg.training.RunOptions`), and
``onednn_linear=false`` (or ``run.onednn_linear=false``) a run-time switch of the model. Under ``torchrun --nproc_per_node N -m vgbench train ...`` the run
is distributed (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import json
import sys

from evaluators.cli_options import add_data_argument

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="preset name (e.g. tiny-cpu) or a .json/.yaml/.toml file")
    add_data_argument(parser, required=False)
    parser.add_argument("--out", help="run folder: log.jsonl, last.pt, epoch_{k}.pt, eval/")
    parser.add_argument("--list-presets", action="store_true", help="print the preset names and exit")
    parser.add_argument(
        "--list-keys", action="store_true", help="print every --set key with its type and default, and exit"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides (train.lr=1e-4, encoder.dim=64, or old flat keys such as img_size=160) and run "
        "options (run.data_config=refcoco_unc, onednn_linear=false)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    parser.add_argument(
        "--time-budget", type=float, help="stop cleanly after this many seconds (checkpointed)"
    )


def _list_keys() -> str:
    import dataclasses

    from instancevg.config import PRESETS, list_keys
    from instancevg.training.options import PREFIX, RunOptions

    lines = ["key\tdefault (instancevg-b-grefcoco)\told flat alias (run.* keys: vgbench's run options)"]
    for key, value, aliases in list_keys(PRESETS["instancevg-b-grefcoco"]):
        lines.append(f"{key}\t{json.dumps(value)}\t{', '.join(aliases)}")
    lines += [f"{PREFIX}{f.name}\t{json.dumps(f.default)}\t" for f in dataclasses.fields(RunOptions)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import InputError

    if args.list_presets:
        from instancevg.config import PRESETS

        print("\n".join(PRESETS))
        return 0
    if args.list_keys:
        print(_list_keys())
        return 0
    missing = [name for name in ("config", "data", "out") if getattr(args, name) is None]
    if missing:
        raise InputError(f"vgbench train: the following arguments are required: --{', --'.join(missing)}")
    from instancevg.config import load_config
    from instancevg.training import train
    from instancevg.training.options import RunOptions, split_overrides

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
