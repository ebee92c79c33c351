"""The ``vgbench`` entry point: a thin dispatcher over the commands each package owns.

Each command lives in the package that does the work and exposes two functions in its CLI module:
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only for the command that
runs, so ``vgbench eval`` never imports torch or datasets.

Exit codes (docs/cli.md): 0 success, 2 bad input or usage (one ``error:`` line on stderr, no traceback),
1 an internal failure.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from evaluators.errors import InputError

# command -> (module, one-line summary, example)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "synth": (
        "datasets_builders.cli_synth",
        "write synthetic source files for all ten configs (and in every layout build reads)",
        "vgbench synth --out src --images 40 --seed 0",
    ),
    "build": (
        "datasets_builders.cli_build",
        "build Parquet + dataset card from the official files, the zips, InstanceVG's or the Hub copies",
        "vgbench build --source src --out data --workers 2",
    ),
    "export-targets": (
        "datasets_builders.cli_export",
        "write the evaluator's targets file from a built dataset",
        "vgbench export-targets --data data --config grefcoco_unc --split val --out targets.jsonl",
    ),
    "eval": (
        "evaluators.cli_eval",
        "score a predictions file",
        "vgbench eval --task gres --predictions preds.jsonl --targets targets.jsonl --out results.json",
    ),
    "compare": (
        "evaluators.cli_compare",
        "paired bootstrap difference of two predictions files",
        "vgbench compare --task grec --targets targets.jsonl a.jsonl b.jsonl",
    ),
    "protocols": (
        "evaluators.cli_protocols",
        "list the scoring protocols with versions and sources",
        "vgbench protocols",
    ),
    "baseline": (
        "baselines.cli",
        "write a reference predictor's predictions file",
        "vgbench baseline empty --data data --config grefcoco_unc --split val --out preds.jsonl",
    ),
    "adapt": (
        "baselines.cli_adapt",
        "turn multimodal-LLM text answers or harness logs into a predictions file",
        "vgbench adapt text --family qwen-vl --answers answers.jsonl --targets data --config refcoco_unc "
        "--split val --out preds.jsonl --task rec",
    ),
    "train": (
        "instancevg.cli_train",
        "train InstanceVG",
        "vgbench train --config tiny-cpu --data data --out run",
    ),
    "predict": (
        "instancevg.cli_predict",
        "write predictions with a trained or released InstanceVG checkpoint",
        "vgbench predict --checkpoint run/last.pt --data data --config grefcoco_unc --split val --out p.jsonl",
    ),
    "reproduce": (
        "vgbench.cli_reproduce",
        "the InstanceVG paper's tables from its released checkpoints",
        "vgbench reproduce --table gres,grec --checkpoint InstanceVG-grefcoco.pth --spm beit3.spm --data data --out r",
    ),
    "leaderboard": (
        "leaderboards.cli",
        "render a leaderboard table",
        "vgbench leaderboard --table gres --out tables --format md,tex",
    ),
    "report": (
        "vgbench.report.cli",
        "write a static HTML error-analysis report (metrics, breakdowns, gallery)",
        "vgbench report --predictions p.jsonl --targets data --config grefcoco_unc --split val --out report",
    ),
    "demo": (
        "vgbench.demo",
        "the main job end to end on synthetic data",
        "vgbench demo --out demo_out --steps 5000",
    ),
}


def _top_help() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: vgbench <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary, _) in COMMANDS.items()]
    lines += ["", "Run `vgbench <command> --help` for the options of one command."]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are `InputError` (exit 2, one line)."""

    def error(self, message: str):  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")


def build_parser(command: str) -> tuple[argparse.ArgumentParser, object]:
    """Return the parser of one command and its module (imported lazily)."""
    module_name, summary, example = COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise InputError(f"command {command!r} is not available in this installation") from None
        raise InputError(
            f"command {command!r} needs the package {exc.name!r}; install vgbench with its extras "
            "(pip install 'vgbench[all]')"
        ) from None
    parser = _Parser(
        prog=f"vgbench {command}",
        description=summary,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or info logs")
    module.add_arguments(parser)
    return parser, module


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_top_help())
        return 0 if argv else 2
    if argv[0] == "--version":
        from vgbench import __version__

        print(__version__)
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(command, COMMANDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"unknown command {command!r}{hint} (see `vgbench --help`)")
        parser, module = build_parser(command)
        args = parser.parse_args(rest)
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        return int(module.run(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `vgbench leaderboard --list | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
