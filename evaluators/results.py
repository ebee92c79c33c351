"""The results JSON of docs/formats.md#results-file and the small stdout table."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# the atomic writers live in evaluators.atomic / evaluators.jsonl; re-exported here for old imports
from evaluators.atomic import (
    check_output_path,
    check_output_paths,
    dump_json,
    write_atomic_group,
    write_json_atomic,
)
from evaluators.hashing import sha256_file, sha256_files
from evaluators.jsonl import dump_jsonl, write_jsonl_atomic
from evaluators.version import package_version

__all__ = [
    "HEADLINE",
    "check_output_path",
    "check_output_paths",
    "clean_metrics",
    "format_table",
    "now_iso",
    "provenance",
    "write_atomic_group",
    "write_json_atomic",
    "write_jsonl_atomic",
    "write_results",
]

# The headline metric of each task: what one-number summaries show (the demo's table and verdict, the
# report's cards) and what ranks a training run's epochs (``RUN/best.pt``).
HEADLINE: dict[str, str] = {
    "rec": "prec@0.5",
    "res": "miou",
    "grec": "f1_score",
    "gres": "giou",
    "refzom": "acc",
    "rrefcoco": "riou",
}

# Display names live only in rendering code ("gIoU" here is mean IoU, not generalized IoU).
DISPLAY = {
    "miou": "mIoU",
    "oiou": "oIoU",
    "giou": "gIoU",
    "ciou": "cIoU",
    "n_acc": "N-acc",
    "t_acc": "T-acc",
    "f1_score": "F1score",
    "acc": "Acc",
    "mrr": "mRR",
    "riou": "rIoU",
    "cover_acc": "CoverAcc",
}


def clean_metrics(metrics: dict[str, float | None]) -> tuple[dict[str, float | None], list[str]]:
    """Replace NaN (propagated as officially) by ``None``; return the names that were NaN."""
    out, nan = {}, []
    for key, value in metrics.items():
        if value is not None and math.isnan(value):
            nan.append(key)
            value = None
        out[key] = value
    return out, nan


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def provenance(
    predictions: str | Path,
    targets: str | Path,
    target_files: list[Path],
    config: str | None = None,
    split: str | None = None,
    predictions_sha256: str | None = None,
) -> dict[str, str]:
    """The provenance fields of a results file: ``targets`` (``path`` or ``path:config/split``),
    ``targets_sha256`` (of ``target_files``, `sha256_files`), ``predictions``, ``predictions_sha256``,
    ``vgbench_version`` and ``created`` (UTC, seconds). ``predictions_sha256``: the digest when the caller
    already has it (hashed while reading the file), else the file is hashed here."""
    return {
        "targets": str(targets) if not (config and split) else f"{targets}:{config}/{split}",
        "targets_sha256": sha256_files(target_files),
        "predictions": str(predictions),
        "predictions_sha256": predictions_sha256 or sha256_file(predictions),
        "vgbench_version": package_version(),
        "created": now_iso(),
    }


def format_table(metrics: dict[str, float | None], title: str = "") -> str:
    """A two-row fixed-width table of metric display names and values (2 decimals; ``-`` for null)."""
    names = [DISPLAY.get(k, k) for k in metrics]
    values = ["-" if v is None else f"{v:.2f}" for v in metrics.values()]
    widths = [max(len(n), len(v)) for n, v in zip(names, values)]
    head = "  ".join(n.rjust(w) for n, w in zip(names, widths))
    body = "  ".join(v.rjust(w) for v, w in zip(values, widths))
    return "\n".join(([title] if title else []) + [head, body])


def write_results(out: str | Path | None, results: Any, per_sample: str | Path | None, rows) -> None:
    """The results JSON and the per-sample JSON lines, committed together (`write_atomic_group`)."""
    items = []
    if per_sample:
        items.append((per_sample, dump_jsonl(rows)))
    if out:
        items.append((out, dump_json(results)))
    if items:
        write_atomic_group(items)
