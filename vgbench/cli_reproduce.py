"""``vgbench reproduce``: the paper's tables from the released InstanceVG checkpoints (`vgbench.reproduce`)."""

from __future__ import annotations

import argparse

from evaluators.cli_options import add_data_argument
from instancevg.cli_predict import add_model_arguments

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        required=True,
        help="comma-separated InstanceVG tables: rec, res (RefCOCO checkpoints), gres, grec, refzom, rrefcoco",
    )
    parser.add_argument("--checkpoint", required=True, help="a released InstanceVG-*.pth")
    add_data_argument(parser)
    parser.add_argument("--out", required=True, help="output folder: predictions/, results/, tables/")
    add_model_arguments(parser)
    parser.add_argument(
        "--resize", type=int, help="score masks nearest-resized to N x N (the official frame: 320)"
    )
    parser.add_argument(
        "--format", default="md,csv", help="table formats: md, tex, csv, png (default md,csv)"
    )
    parser.add_argument(
        "--backbone",
        help="published row to compare with (default from the checkpoint: BEiT3-ViT-B or BEiT3-ViT-L)",
    )


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import InputError
    from instancevg.config import parse_overrides
    from instancevg.runtime import split_runtime_overrides
    from leaderboards.api import parse_formats
    from vgbench.reproduce import reproduce

    runtime, config_items = split_runtime_overrides(args.overrides)
    if args.spm is None:
        raise InputError("vgbench reproduce: the following arguments are required: --spm")
    if args.batch_size < 1:
        raise InputError(f"--batch-size: must be >= 1, got {args.batch_size}")
    tables = [t.strip() for t in args.table.split(",") if t.strip()]
    done = reproduce(
        tables,
        args.checkpoint,
        args.data,
        args.out,
        args.spm,
        images_dir=args.images,
        device=args.device,
        batch_size=args.batch_size,
        resize=args.resize,
        formats=parse_formats(args.format),
        quiet=args.quiet,
        overrides=parse_overrides(config_items),
        runtime=runtime,
        bf16=args.bf16,
        fp16=args.fp16,
        backbone=args.backbone,
    )
    for item in done:
        shown = ", ".join(f"{k} {v:.2f}" for k, v in item.metrics.items() if isinstance(v, float))
        print(f"{item.table}\t{item.dataset}/{item.split}\t{shown}")
    print(f"tables: {args.out}/tables")
    return 0
