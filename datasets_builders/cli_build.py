"""``vgbench build``: official source files -> Parquet shards + dataset card (docs/formats.md#the-built-dataset)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source", required=True, help="folder with the source files (any layout of --format; detected)"
    )
    parser.add_argument(
        "--format",
        dest="layout",
        help="source layout: official, zip, instancevg, jxu124, lmms-lab, jxu124-benchmark "
        "(default: detected from the files; see docs/datasets_builders.md)",
    )
    parser.add_argument("--images", help="folder holding train2014/ and val2014/ (default: SOURCE/images)")
    parser.add_argument("--out", required=True, help="output folder (replaced atomically)")
    parser.add_argument("--configs", help="comma-separated configs (default: every config whose files exist)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--embed-images", action="store_true", help="store image bytes in an `image` column")


def run(args: argparse.Namespace) -> int:
    from datasets_builders.build import build_dataset
    from datasets_builders.reading import read_manifest
    from evaluators.errors import InputError

    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    configs = [c.strip() for c in args.configs.split(",") if c.strip()] if args.configs else None
    out = build_dataset(
        args.source,
        args.out,
        configs=configs,
        workers=args.workers,
        embed_images=args.embed_images,
        quiet=args.quiet,
        layout=args.layout,
        images=args.images,
    )
    manifest = read_manifest(out)
    for config, info in manifest["configs"].items():
        sizes = ", ".join(f"{s} {v['rows']}" for s, v in info["splits"].items())
        print(f"{config}: {sizes}")
    print(f"wrote {out}")
    return 0
