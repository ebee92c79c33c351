"""``vgbench eval``: score a predictions file (docs/formats.md#predictions-file, docs/formats.md#scoring-protocols)."""

from __future__ import annotations

import argparse
import logging
import sys

from evaluators.api import score_files, validate_files
from evaluators.atomic import check_output_paths
from evaluators.cli_options import add_predictions_argument, add_targets_arguments
from evaluators.protocols import TASKS
from evaluators.results import format_table, write_results

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task",
        required=True,
        choices=TASKS,
        help="what the predictions are scored as (its protocols: vgbench protocols)",
    )
    add_predictions_argument(parser)
    add_targets_arguments(parser)
    parser.add_argument(
        "--protocol", help="protocol name (default: the task's default; see `vgbench protocols`)"
    )
    parser.add_argument("--out", help="write the results JSON here")
    parser.add_argument("--per-sample", dest="per_sample", help="write one JSON line per expression here")
    parser.add_argument(
        "--allow-missing", action="store_true", help="score missing records as empty predictions"
    )
    parser.add_argument("--validate-only", action="store_true", help="check the file without scoring it")
    parser.add_argument("--resize", type=int, help="compare masks nearest-resized to N x N")
    parser.add_argument("--ci", type=float, help="bootstrap confidence level, e.g. 0.95 (seeded)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import InputError

    if args.ci is not None and not 0.0 < args.ci < 1.0:
        raise InputError(f"--ci must be in (0, 1), got {args.ci}")
    check_output_paths({"--out": args.out, "--per-sample": args.per_sample})
    files = (args.task, args.predictions, args.targets, args.config, args.split, args.protocol)
    if args.validate_only:
        counts = validate_files(*files, allow_missing=args.allow_missing)
        print(
            f"ok: {args.predictions}: {counts['predictions']} records valid for {counts['expressions']} "
            f"expressions ({counts['missing']} missing)"
        )
        return 0
    evaluation = score_files(
        *files,
        resize=args.resize,
        allow_missing=args.allow_missing,
        keep_rows=bool(args.per_sample),
        ci=args.ci,
        seed=args.seed,
    )
    results = evaluation.results
    if results["counts"]["missing"]:
        log.warning("%d expressions had no prediction and were scored as empty", results["counts"]["missing"])
    try:
        write_results(
            args.out, results, args.per_sample, evaluation.evaluator.rows if args.per_sample else ()
        )
    except OSError as exc:
        raise InputError(f"{args.out or args.per_sample}: cannot write: {exc}") from None
    title = f"{results['protocol']} (v{results['protocol_version']}), {results['counts']['expressions']} expressions"
    print(format_table(results["metrics"], title))
    if "ci" in results:
        for key, interval in results["ci"]["intervals"].items():
            if interval:
                print(f"  {key}: {args.ci:.0%} CI [{interval[0]:.2f}, {interval[1]:.2f}]")
    sys.stdout.flush()
    return 0
