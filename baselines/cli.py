"""``vgbench baseline NAME``: write a reference predictor's or an adapter's predictions file.

Baselines (``empty``, ``full-image``, ``center-box``, ``largest-object``, ``oracle-jitter``) need only
the built dataset; adapters (``png-masks``, ``coco-results``, ``vg-dump``) convert ``--input`` (and
``--mapping`` for COCO results) for the expressions of ``--config``/``--split``.
"""

from __future__ import annotations

import argparse

from baselines.adapters import ADAPTERS, OUTMASK_TYPES
from baselines.predictors import BASELINES
from evaluators.cli_options import add_dataset_arguments
from evaluators.errors import InputError

NAMES = (*BASELINES, *ADAPTERS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help=f"one of: {', '.join(NAMES)}")
    add_dataset_arguments(parser)
    parser.add_argument("--out", required=True, help="predictions file to write (.jsonl or .json[.gz])")
    g = parser.add_argument_group("baselines")
    g.add_argument("--seed", type=int, default=0, help="oracle-jitter: random seed (default 0)")
    g.add_argument(
        "--jitter", type=float, default=0.1, help="oracle-jitter: relative magnitude (default 0.1)"
    )
    g.add_argument(
        "--source",
        default=None,
        help="largest-object: the source folder (instances.json); default: all targets of the built dataset",
    )
    a = parser.add_argument_group("adapters")
    a.add_argument(
        "--input", default=None, help="png-masks: folder; coco-results: results JSON; vg-dump: dump file"
    )
    a.add_argument("--mapping", default=None, help="coco-results: sidecar JSON mapping results to expr_id")
    a.add_argument("--allow-missing", action="store_true", help="write expressions without output as empty")
    a.add_argument(
        "--instances", choices=("bbox", "none"), default="bbox", help="png-masks: add the mask's box"
    )
    a.add_argument(
        "--score-threshold", type=float, default=0.7, help="vg-dump: no-target threshold (strict >)"
    )
    a.add_argument(
        "--outmask-type", choices=OUTMASK_TYPES, default="merge", help="vg-dump: expression mask rule"
    )


def run(args: argparse.Namespace) -> int:
    name = args.name
    if name in BASELINES:
        from baselines.run import run_baseline

        n = run_baseline(
            name,
            args.data,
            args.config,
            args.split,
            args.out,
            seed=args.seed,
            jitter=args.jitter,
            source=args.source,
            quiet=args.quiet,
        )
    elif name in ADAPTERS:
        if not args.input:
            raise InputError(f"vgbench baseline {name}: --input is required for an adapter")
        n = _run_adapter(args)
    else:
        import difflib

        close = difflib.get_close_matches(name, NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown baseline or adapter {name!r}{hint} (known: {', '.join(NAMES)})")
    print(f"wrote {n} predictions to {args.out}")
    return 0


def _run_adapter(args: argparse.Namespace) -> int:
    from baselines import adapters

    common = dict(data_dir=args.data, config=args.config, split=args.split, out=args.out, quiet=args.quiet)
    if args.name == "png-masks":
        return adapters.convert_png_masks(
            args.input, instances=args.instances, allow_missing=args.allow_missing, **common
        )
    if args.name == "coco-results":
        if not args.mapping:
            raise InputError("vgbench baseline coco-results: --mapping (the sidecar JSON) is required")
        return adapters.convert_coco_results(args.input, args.mapping, **common)
    return adapters.convert_vg_dump(
        args.input,
        score_threshold=args.score_threshold,
        outmask_type=args.outmask_type,
        allow_missing=args.allow_missing,
        **common,
    )
