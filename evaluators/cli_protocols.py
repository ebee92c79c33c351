"""``vgbench protocols``: list the scoring protocols with versions, defaults and sources, the installed
plugins' (``vgbench.protocols`` entry points) included; a plugin that fails to load is a warning."""

from __future__ import annotations

import argparse
import json
import logging

from evaluators.protocols import DEFAULTS, available_protocols, load_plugins

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    for why in load_plugins().values():
        log.warning("a protocol plugin failed to load and is not listed: %s", why)
    entries = [
        {
            "name": name,
            "task": cls.task,
            "version": cls.version,
            "default": DEFAULTS[cls.task] == name,
            "metrics": list(cls.metric_keys),
            "summary": cls.summary,
            "sources": list(cls.sources),
        }
        for name, cls in available_protocols().items()
    ]
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for e in entries:
        star = " (default)" if e["default"] else ""
        print(
            f"{e['name']} v{e['version']}{star}\n    {e['summary']}\n    metrics: {', '.join(e['metrics'])}"
        )
        print(f"    sources: {'; '.join(e['sources'])}")
    return 0
