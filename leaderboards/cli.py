"""`vgbench leaderboard`: render a table from the published numbers (plus computed results), or
validate the data.

    vgbench leaderboard --table NAME [--results DIR] --out DIR [--format md,tex,csv,png]
    vgbench leaderboard --table all --out DIR            (every table)
    vgbench leaderboard --table computed --results DIR --out DIR   (computed results only)
    vgbench leaderboard --check [--data CSV] [--bibliography CSV]
    vgbench leaderboard --list
"""

from __future__ import annotations

import argparse
import logging
import sys

from evaluators.errors import InputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from leaderboards.specs import list_tables

    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--table",
        metavar="NAME",
        help=f"table to render: {', '.join(list_tables())}; all (every one); computed (the --results only)",
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="validate the published-numbers CSV and bibliography (schema, duplicates, metrics, "
        "numbers, sources; exit 2 on any problem) and list the cross-source conflicts (same model, "
        "dataset, split and metric printed differently by two sources; reported, not an error)",
    )
    mode.add_argument("--list", action="store_true", help="list the table names with their titles")
    parser.add_argument("--results", metavar="DIR", help="folder of `vgbench eval` results JSON to join")
    parser.add_argument("--out", metavar="DIR", help="output folder (required with --table)")
    parser.add_argument(
        "--format", default="md,tex,csv,png", help="comma list of md,tex,csv,png (default all)"
    )
    parser.add_argument("--data", metavar="CSV", help="published-numbers CSV (default: the packaged one)")
    parser.add_argument("--bibliography", metavar="CSV", help="bibliography CSV (default: the packaged one)")


def run(args: argparse.Namespace) -> int:
    if args.check:
        from leaderboards.check import check_published, summary

        problems = check_published(args.data, args.bibliography)
        for p in problems:
            log.error("%s", p)
        if problems:
            raise InputError(f"{len(problems)} problem(s) in the published data; first: {problems[0]}")
        from leaderboards.conflicts import find_conflicts
        from leaderboards.schema import load_published

        conflicts = find_conflicts(load_published(args.data))
        print(f"ok: {summary(args.data)}")
        print(
            f"{len(conflicts)} cross-source conflict(s): the same model, dataset, split and metric printed "
            "differently by two sources (kept as printed; footnoted in the rendered tables)"
        )
        for conflict in conflicts:
            print(f"conflict: {conflict.describe()}")
        return 0
    if args.list:
        from leaderboards.specs import list_tables, load_spec

        for name in list_tables():
            print(f"{name:<12} {load_spec(name).title}")
        return 0
    from leaderboards.api import parse_formats, render_table

    if not args.out:
        raise InputError("--out: required with --table")
    formats = parse_formats(args.format)
    if args.table == "computed":
        from leaderboards.api import render_results_table
        from leaderboards.computed import load_results_dir

        if not args.results:
            raise InputError("--results: required with --table computed")
        results = load_results_dir(args.results)
        if not results:
            raise InputError(f"--results: no results files under {args.results}")
        title = f"Computed results ({args.results})"
        written = render_results_table(results, args.out, formats, title=title, name="computed")
        for path in written:
            print(path)
        return 0
    written = render_table(args.table, args.out, formats, results_dir=args.results, published=args.data)
    for path in written:
        print(path, file=sys.stdout)
    return 0
