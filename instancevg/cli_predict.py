"""``vgbench predict``: a checkpoint -> a predictions file (docs/evaluators.md, the predictions format).

``--config`` here is the built dataset's config (``grefcoco_unc``), not a model preset: the model
config travels inside a vgbench checkpoint, and is read off the tensor shapes of an official one
(``InstanceVG-*.pth``, detected from its layout; it needs ``--spm beit3.spm``).
"""

from __future__ import annotations

import argparse

from evaluators.cli_options import add_dataset_arguments

__all__ = ["add_arguments", "add_model_arguments", "run"]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of running a checkpoint, shared with ``vgbench reproduce``: ``--spm``, ``--set``,
    ``--images``, ``--device``, ``--batch-size``, ``--bf16``, ``--fp16``."""
    parser.add_argument(
        "--spm", help="BEiT-3's SentencePiece model beit3.spm (required with a released checkpoint)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config field for a released checkpoint, e.g. input.max_tokens=40 (or max_tokens=40), or a run-time "
        "switch for any checkpoint, e.g. onednn_linear=false (repeatable)",
    )
    parser.add_argument(
        "--images", help="images folder (default: embedded images or the build's images_root)"
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when available)")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="expressions per forward pass (default 16)"
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 autocast (faster on CPUs with bf16; numerics differ slightly)",
    )
    parser.add_argument("--fp16", action="store_true", help="float16 autocast (CUDA only)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="RUN/last.pt, RUN/epoch_{k}.pt, or a released InstanceVG-*.pth (detected from its layout)",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--out", required=True, help="predictions file (.jsonl or .jsonl.gz)")
    add_model_arguments(parser)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import InputError
    from instancevg.config import parse_overrides
    from instancevg.runtime import split_runtime_overrides
    from instancevg.training import predict

    runtime, config_items = split_runtime_overrides(args.overrides)
    if args.batch_size < 1:
        raise InputError(f"--batch-size: must be >= 1, got {args.batch_size}")
    path = predict(
        args.checkpoint,
        args.data,
        args.config,
        args.split,
        args.out,
        batch_size=args.batch_size,
        images_dir=args.images,
        device=args.device,
        num_workers=args.workers,
        quiet=args.quiet,
        threads=args.threads,
        bf16=args.bf16,
        fp16=args.fp16,
        spm=args.spm,
        overrides=parse_overrides(config_items),
        runtime=runtime,
    )
    print(path)
    return 0
