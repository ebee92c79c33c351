"""Computed results: read the results JSON files of `vgbench eval` (docs/formats.md#results-file).

Which model, dataset and split a results file is about, in order of precedence:

- **model**: a top-level ``"model"`` key, else ``meta.model``, else the name of the folder that holds
  the file when it sits below the ``--results`` root (``DIR/<model>/<file>.json``); otherwise an error.
- **dataset / split**: top-level ``"dataset"`` and ``"split"`` keys (or ``meta.*``), else the
  ``targets`` field when it ends in ``:<config>/<split>`` (what ``vgbench eval --targets OUT --config C
  --split S`` writes), else a file name ``<config>_<split>_<task>.json`` (``grefcoco_unc_val_gres.json``);
  otherwise an error.
- optional ``backbone`` (or ``meta.backbone``) picks among published rows of the same model, and
  ``synthetic: true`` (or ``meta.synthetic``, or a ``benchmark`` naming "synthetic", as the demo's
  ``"benchmark": "vgbench-synthetic"``) marks results on synthetic data: they are rendered only in
  computed-only tables (`render_results_table`), never next to published numbers.

A JSON file under the folder without ``task`` and ``metrics`` is not a results file: it is skipped
with a warning naming it. A results file with a defect is an `InputError` naming the file and field.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.errors import InputError
from leaderboards.schema import DATASETS, METRICS

__all__ = ["ComputedResult", "load_results", "load_results_dir"]

log = logging.getLogger(__name__)

_TARGETS_SUFFIX = re.compile(r":([A-Za-z0-9_]+)/([A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class ComputedResult:
    """One results file: what was scored, how, and the metrics (percent; ``None`` = empty denominator)."""

    path: Path
    model: str
    backbone: str
    dataset: str
    split: str
    task: str
    protocol: str
    protocol_version: int | None
    protocol_params: str  # canonical JSON of the protocol parameters (sorted keys)
    metrics: dict[str, float | None]
    synthetic: bool

    @property
    def row_key(self) -> tuple[str, str, str, int | None, str]:
        """Results with the same key form one rendered row; a different protocol is another row."""
        return (self.model, self.backbone, self.protocol, self.protocol_version, self.protocol_params)

    @property
    def protocol_label(self) -> str:
        """``gres/rela v1`` plus ``resize=N`` when masks were resized (the resolution shown)."""
        label = (
            f"{self.protocol} v{self.protocol_version}"
            if self.protocol_version is not None
            else self.protocol
        )
        resize = json.loads(self.protocol_params).get("resize")
        return f"{label}, resize={resize}" if resize is not None else label

    @property
    def params_digest(self) -> str:
        return hashlib.sha256(self.protocol_params.encode()).hexdigest()[:6]


def _field(data: dict[str, Any], name: str) -> Any:
    meta = data.get("meta")
    if name in data:
        return data[name]
    if isinstance(meta, dict) and name in meta:
        return meta[name]
    return None


def _dataset_split(data: dict[str, Any], path: Path) -> tuple[str, str]:
    dataset, split = _field(data, "dataset"), _field(data, "split")
    if dataset is not None or split is not None:
        if not isinstance(dataset, str) or not isinstance(split, str):
            raise InputError(f"{path}: dataset: give both 'dataset' and 'split' as strings")
        return dataset, split
    targets = data.get("targets")
    if isinstance(targets, str):
        m = _TARGETS_SUFFIX.search(targets)
        if m:
            return m.group(1), m.group(2)
    task = data.get("task")
    stem = path.stem
    for config in sorted(DATASETS, key=len, reverse=True):
        prefix, suffix = f"{config}_", f"_{task}"
        if stem.startswith(prefix) and stem.endswith(suffix) and len(stem) > len(prefix) + len(suffix):
            return config, stem[len(prefix) : -len(suffix)]
    raise InputError(
        f'{path}: targets: cannot tell the dataset and split; add "dataset" and "split" keys, score with '
        "--targets OUT --config C --split S, or name the file <config>_<split>_<task>.json"
    )


def load_results(
    path: str | Path, root: str | Path | None = None, model: str | None = None
) -> ComputedResult:
    """Read one results JSON (see the module docstring for the model / dataset conventions).

    ``model`` overrides whatever the file says; ``root`` is the folder whose subfolders name models.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object (a results file of `vgbench eval`)")
    for name in ("task", "protocol", "metrics"):
        if name not in data:
            raise InputError(f"{path}: {name}: missing (not a results file of `vgbench eval`?)")
    metrics = data["metrics"]
    if not isinstance(metrics, dict):
        raise InputError(f"{path}: metrics: expected an object")
    for key, value in metrics.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(f"{path}: metrics.{key}: expected a number or null, got {value!r}")
    model = model if model is not None else _field(data, "model")
    if model is None and root is not None:
        rel = path.resolve().relative_to(Path(root).resolve())
        if len(rel.parts) >= 2:
            model = rel.parts[-2]
    if not isinstance(model, str) or not model:
        raise InputError(
            f'{path}: model: unknown; add a "model" key or put the file in a folder named after the model'
        )
    dataset, split = _dataset_split(data, path)
    backbone = _field(data, "backbone") or ""
    version = data.get("protocol_version")
    params = data.get("protocol_params", {})
    if not isinstance(params, dict):
        raise InputError(f"{path}: protocol_params: expected an object")
    return ComputedResult(
        path=path,
        model=model,
        backbone=str(backbone),
        dataset=dataset,
        split=split,
        task=str(data["task"]),
        protocol=str(data["protocol"]),
        protocol_version=int(version) if isinstance(version, int) else None,
        protocol_params=json.dumps(params, sort_keys=True, separators=(",", ":")),
        metrics={k: (None if v is None else float(v)) for k, v in metrics.items() if k in METRICS},
        synthetic=bool(_field(data, "synthetic")) or "synthetic" in str(_field(data, "benchmark") or ""),
    )


def load_results_dir(root: str | Path) -> list[ComputedResult]:
    """Every results JSON below ``root`` (recursively, sorted by path); other JSON files are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"--results: {root} is not a folder")
    out = []
    for path in sorted(root.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not (isinstance(data, dict) and "task" in data and "metrics" in data):
            log.warning("skipping %s: not a results file (no 'task' and 'metrics')", path)
            continue
        out.append(load_results(path, root))
    log.info("read %d results files from %s", len(out), root)
    return out
