"""The adapter's report: what was read, parse failures by ``expr_id``, convention warnings.

Written next to the predictions (``preds.jsonl`` -> ``preds.adapt.json``) and copied into every
results JSON of ``vgbench adapt text --task`` under ``notes.adapter``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AdaptReport", "load_report", "report_path"]


@dataclass
class AdaptReport:
    """What the adapter read: counts, parse failures by ``expr_id``, convention warnings."""

    family: str
    convention: str
    answers: str
    answers_format: str
    on_parse_failure: str
    expressions: int = 0
    answered: int = 0
    boxes: int = 0
    multi_box_answers: int = 0
    no_target_answers: int = 0
    missing_answers: list[str] = field(default_factory=list)
    parse_failures: dict[str, str] = field(default_factory=dict)  # expr_id -> reason
    parse_failures_on_no_target: int = 0
    convention_warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        reasons = Counter(r.split(":")[0][:60] for r in self.parse_failures.values())
        return {
            "family": self.family,
            "convention": self.convention,
            "answers": self.answers,
            "answers_format": self.answers_format,
            "on_parse_failure": self.on_parse_failure,
            "parse_failure_rule": (
                "a parse failure is written as a miss: no box, no_target false"
                if self.on_parse_failure == "miss"
                else "a parse failure is an error"
            ),
            "expressions": self.expressions,
            "answered": self.answered,
            "boxes": self.boxes,
            "multi_box_answers": self.multi_box_answers,
            "no_target_answers": self.no_target_answers,
            "missing_answers": len(self.missing_answers),
            "missing_answer_ids": list(self.missing_answers),
            "parse_failures": len(self.parse_failures),
            "parse_failure_ids": list(self.parse_failures),
            "parse_failure_reasons": dict(reasons.most_common()),
            "parse_failures_on_no_target": self.parse_failures_on_no_target,
            "convention_warnings": list(self.convention_warnings),
        }


def report_path(out: str | Path) -> Path:
    """``preds.jsonl`` -> ``preds.adapt.json`` (next to the predictions)."""
    out = Path(out)
    name = out.name
    for ext in (".gz", ".jsonl", ".json"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return out.with_name(name + ".adapt.json")


def load_report(path: str | Path) -> dict[str, Any]:
    """Read an ``.adapt.json`` report (plain JSON, no code)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
