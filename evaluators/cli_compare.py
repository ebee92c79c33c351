"""``vgbench compare``: paired bootstrap difference of two predictions files on the same targets."""

from __future__ import annotations

import argparse

from evaluators.atomic import check_output_path, write_json_atomic
from evaluators.cli_options import add_targets_arguments
from evaluators.compare import compare_predictions
from evaluators.errors import InputError
from evaluators.protocols import TASKS
from evaluators.results import DISPLAY, now_iso


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, choices=TASKS, help="the task both files are scored on")
    add_targets_arguments(parser)
    parser.add_argument("predictions_a", metavar="A", help="predictions file A")
    parser.add_argument("predictions_b", metavar="B", help="predictions file B")
    parser.add_argument("--protocol", help="protocol name (default: the task's default)")
    parser.add_argument("--resize", type=int, help="compare masks nearest-resized to N x N")
    parser.add_argument(
        "--allow-missing", action="store_true", help="score targets without a record as empty predictions"
    )
    parser.add_argument("--ci", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling (default 0)")
    parser.add_argument("--out", help="write the comparison JSON here")


def run(args: argparse.Namespace) -> int:
    if not 0.0 < args.ci < 1.0:
        raise InputError(f"--ci must be in (0, 1), got {args.ci}")
    if args.resamples < 1:
        raise InputError(f"--resamples must be >= 1, got {args.resamples}")
    if args.out:
        check_output_path(args.out, "--out")
    result = compare_predictions(
        args.task,
        args.predictions_a,
        args.predictions_b,
        args.targets,
        config=args.config,
        split=args.split,
        protocol=args.protocol,
        resize=args.resize,
        allow_missing=args.allow_missing,
        ci=args.ci,
        resamples=args.resamples,
        seed=args.seed,
    )
    a, b = result.results_a, result.results_b
    comparison = result.to_dict()
    out = {
        "task": args.task,
        "protocol": result.protocol,
        "protocol_version": result.protocol_version,
        "a": {"predictions": str(args.predictions_a), "sha256": a["predictions_sha256"]},
        "b": {"predictions": str(args.predictions_b), "sha256": b["predictions_sha256"]},
        "targets": a["targets"],
        "targets_sha256": a["targets_sha256"],
        **comparison,
        "created": now_iso(),
    }
    if args.out:
        write_json_atomic(args.out, out)
    print(f"A = {args.predictions_a}")
    print(f"B = {args.predictions_b}")
    print(
        f"{result.protocol}: A - B with {args.ci:.0%} paired bootstrap CI ({comparison['n_units']} {comparison['unit']}); "
        "P(A <= B) = share of resamples where A does not beat B"
    )
    for key, m in comparison["metrics"].items():
        fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        ci = m["ci"]
        ci_text = f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "-"
        diff = "-" if m["diff"] is None else f"{m['diff']:+.2f}"
        p = m.get("p_a_not_better")
        p_text = "-" if p is None else f"{p:.3f}"
        print(
            f"  {DISPLAY.get(key, key):>10}  A {fmt(m['a']):>6}  B {fmt(m['b']):>6}  A-B {diff:>7}  CI {ci_text}"
            f"  P(A<=B) {p_text}"
        )
    return 0
