"""``vgbench adapt KIND``: other models' outputs -> a predictions file.

- ``text``: multimodal-LLM text answers (``--family``), an lmms-eval ``--log_samples`` file or a
  VLMEvalKit result file (detected); ``lmms-eval`` and ``vlmevalkit`` name the harness formats
  explicitly (their parse rule is the default family).
- ``png-masks``, ``coco-results``, ``vg-dump``: the adapters of ``vgbench baseline`` under this name
  (``--input``, ``--data``, ``--config``, ``--split``; docs/baselines.md).

Optionally scores the written file right away under one or more protocols (``--task``, ``--protocol``)
so that a harness's number and the official one are printed side by side from the same answers; each
results JSON carries the adapter's report (parse failures by expr_id, convention warnings) under
``notes.adapter``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from evaluators.cli_options import add_data_argument, add_targets_arguments
from evaluators.errors import InputError

log = logging.getLogger(__name__)

TEXT_KINDS = ("text", "lmms-eval", "vlmevalkit")
OTHER_KINDS = ("png-masks", "coco-results", "vg-dump")
KINDS = TEXT_KINDS + OTHER_KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from baselines.adapters import OUTMASK_TYPES
    from baselines.adapters.text import ANSWER_FORMATS, CONVENTIONS, FAMILIES, PARSE_FAILURE_MODES
    from baselines.adapters.text.conventions import QWEN_MAX_PIXELS, QWEN_MIN_PIXELS

    parser.add_argument(
        "kind",
        choices=KINDS,
        help="text (answers of multimodal LLMs), lmms-eval, vlmevalkit (harness files), png-masks, "
        "coco-results, vg-dump (as `vgbench baseline NAME`)",
    )
    parser.add_argument(
        "--family",
        help=f"answer family: {', '.join(FAMILIES)} (default for harness logs: the harness's rule)",
    )
    parser.add_argument("--answers", help="answers file (.jsonl/.json), lmms-eval log or VLMEvalKit result")
    parser.add_argument("--answers-format", choices=ANSWER_FORMATS, default="auto", help="default: detected")
    add_targets_arguments(parser, required=False)
    parser.add_argument("--out", required=True, help="predictions file to write (.jsonl or .json[.gz])")
    parser.add_argument(
        "--coords", choices=tuple(CONVENTIONS), help="generic family: the coordinate convention"
    )
    parser.add_argument(
        "--on-parse-failure",
        choices=PARSE_FAILURE_MODES,
        default="miss",
        help="miss (default): write an unparsable answer as a miss and list it; error: stop with exit 2",
    )
    parser.add_argument(
        "--masks", help="seg / ref-vlm: folder of per-expression PNG masks (expr_id, / -> __)"
    )
    parser.add_argument(
        "--allow-missing", action="store_true", help="write expressions without an answer as misses"
    )
    parser.add_argument(
        "--id-template", help="VLMEvalKit results: expr_id from columns, e.g. 'refcoco_unc/val/{index}'"
    )
    parser.add_argument(
        "--min-pixels", type=int, default=QWEN_MIN_PIXELS, help="qwen2.5-vl smart_resize min_pixels"
    )
    parser.add_argument(
        "--max-pixels", type=int, default=QWEN_MAX_PIXELS, help="qwen2.5-vl smart_resize max_pixels"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes to adapt and score with (default 1)"
    )
    o = parser.add_argument_group("png-masks, coco-results, vg-dump")
    o.add_argument("--input", help="png-masks: folder; coco-results: results JSON; vg-dump: dump file")
    add_data_argument(o, required=False)
    o.add_argument("--mapping", help="coco-results: sidecar JSON mapping results to expr_id")
    o.add_argument(
        "--instances", choices=("bbox", "none"), default="bbox", help="png-masks: add the mask's box"
    )
    o.add_argument(
        "--score-threshold", type=float, default=0.7, help="vg-dump: no-target threshold (strict >)"
    )
    o.add_argument("--outmask-type", choices=OUTMASK_TYPES, default="merge", help="vg-dump: mask rule")
    s = parser.add_argument_group("scoring the written file (optional)")
    s.add_argument("--task", choices=("rec", "res", "grec", "gres"), help="score under this task")
    s.add_argument(
        "--protocol",
        action="append",
        help="protocol(s) to score with, repeatable (default: the task's default; rec: rec/iou, rec/lmms-eval, rec/vlmevalkit)",
    )
    s.add_argument(
        "--results-dir", help="write one results JSON per protocol here (<protocol with / as _>.json)"
    )


def run(args: argparse.Namespace) -> int:
    from baselines.adapters.text import adapt_and_score, report_path
    from evaluators.atomic import write_json_atomic
    from evaluators.results import format_table

    if args.kind in OTHER_KINDS:
        return _run_other(args)
    missing = [opt for opt in ("answers", "targets") if not getattr(args, opt)]
    if missing:
        raise InputError(f"vgbench adapt {args.kind}: --{missing[0]} is required")
    answers_format = args.answers_format if args.kind == "text" else args.kind
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    protocols = _protocols(args)
    report, all_results = adapt_and_score(
        args.family,
        args.answers,
        args.targets,
        args.out,
        task=args.task,
        protocols=protocols,
        config=args.config,
        split=args.split,
        answers_format=answers_format,
        id_template=args.id_template,
        coords=args.coords,
        on_parse_failure=args.on_parse_failure,
        masks=args.masks,
        allow_missing=args.allow_missing,
        min_pixels=args.min_pixels,
        max_pixels=args.max_pixels,
        workers=args.workers,
        quiet=args.quiet,
    )
    print(
        f"wrote {report.expressions} predictions to {args.out} ({report.family}, {report.convention}); "
        f"parse failures: {len(report.parse_failures)} (written as misses, listed in {report_path(args.out)})"
    )
    for warning in report.convention_warnings:
        print(f"convention warning: {warning}")
    for results in all_results:
        title = f"{results['protocol']} (v{results['protocol_version']}), {results['counts']['expressions']} expressions"
        print(format_table(results["metrics"], title))
    if len(all_results) > 1:
        cells = []
        for results in all_results:
            metrics = results["metrics"]
            key = next((k for k in ("prec@0.5", "acc@0.5", "prec@1") if k in metrics), next(iter(metrics)))
            value = metrics[key]
            cells.append(f"{results['protocol']} {key} = {'-' if value is None else f'{value:.2f}'}")
        print("side by side, same answers: " + " | ".join(cells))
    if args.results_dir:
        folder = Path(args.results_dir)
        for results in all_results:
            write_json_atomic(folder / (results["protocol"].replace("/", "_") + ".json"), results)
        print(f"wrote {len(all_results)} results files to {folder}")
    return 0


def _protocols(args: argparse.Namespace) -> list[str]:
    from evaluators.protocols import DEFAULTS, get_protocol

    if not args.task:
        if args.protocol or args.results_dir:
            raise InputError("--protocol and --results-dir need --task")
        return []
    names = args.protocol or (
        ["rec/iou", "rec/lmms-eval", "rec/vlmevalkit"] if args.task == "rec" else [DEFAULTS[args.task]]
    )
    for name in names:
        get_protocol(args.task, name)  # fail early on a wrong name
    return names


def _run_other(args: argparse.Namespace) -> int:
    """``vgbench adapt png-masks | coco-results | vg-dump``: the `vgbench baseline` adapters."""
    from baselines.cli import _run_adapter

    for opt in ("input", "data", "config", "split"):
        if not getattr(args, opt):
            raise InputError(f"vgbench adapt {args.kind}: --{opt} is required")
    args.name = args.kind
    n = _run_adapter(args)
    print(f"wrote {n} predictions to {args.out}")
    return 0
