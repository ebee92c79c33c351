"""``vgbench report``: a static HTML error-analysis report of a predictions file (see docs/report.md)."""

from __future__ import annotations

import argparse

from evaluators import TASKS, InputError
from evaluators.cli_options import add_predictions_argument, add_targets_arguments

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_predictions_argument(parser)
    add_targets_arguments(parser)
    parser.add_argument("--images", help="images folder: IMAGES/<file_name> (default: blank canvases)")
    parser.add_argument("--compare", metavar="P2", help="a second predictions file shown side by side")
    parser.add_argument("--out", required=True, help="report folder (new, empty, or an earlier report)")
    parser.add_argument(
        "--task",
        help=f"comma list of tasks ({', '.join(TASKS)}); default: those of the config that the records support",
    )
    parser.add_argument("--name", help="display name of --predictions (default: its file name)")
    parser.add_argument("--compare-name", help="display name of --compare (default: its file name)")
    parser.add_argument("--allow-missing", action="store_true", help="score missing records as empty")
    parser.add_argument("--ci", type=float, default=0.95, help="bootstrap confidence level (default 0.95)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--thumb-size", type=int, default=256, help="thumbnail longer side in pixels (256)")
    parser.add_argument("--page-size", type=int, default=48, help="cards per gallery page (48)")
    parser.add_argument("--workers", type=int, help="processes drawing thumbnails (default min(2, CPUs))")


def run(args: argparse.Namespace) -> int:
    from vgbench.report.build import build_report

    tasks = None
    if args.task:
        tasks = [t.strip() for t in args.task.split(",") if t.strip()]
        bad = [t for t in tasks if t not in TASKS]
        if bad or not tasks:
            raise InputError(
                f"--task: unknown task {bad[0] if bad else args.task!r} (tasks: {', '.join(TASKS)})"
            )
    if args.compare is None and args.compare_name:
        raise InputError("--compare-name: needs --compare")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    from pathlib import Path

    names = None
    if args.name or args.compare_name:
        names = (
            args.name or Path(args.predictions).name,
            args.compare_name or (Path(args.compare).name if args.compare else ""),
        )
    summary = build_report(
        args.predictions,
        args.targets,
        args.out,
        config=args.config,
        split=args.split,
        images=args.images,
        compare=args.compare,
        tasks=tasks,
        allow_missing=args.allow_missing,
        ci=args.ci,
        resamples=args.resamples,
        seed=args.seed,
        thumb_size=args.thumb_size,
        page_size=args.page_size,
        workers=args.workers,
        names=names,
        quiet=args.quiet,
    )
    thumbs = summary["thumbnails"]
    print(
        f"report: {summary['out']}/index.html ({summary['expressions']} expressions, tasks "
        f"{', '.join(summary['tasks'])}; {thumbs['drawn']} thumbnails drawn, {thumbs['reused']} reused; "
        f"{summary['seconds']:.1f} s)"
    )
    return 0
