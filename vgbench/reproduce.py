"""``vgbench reproduce``: released InstanceVG checkpoints -> predictions -> scores -> the paper's tables.

For a table of the InstanceVG paper (``rec``, ``res``, ``gres``, ``grec``, ``refzom``, ``rrefcoco``) and the
released checkpoint that produced its numbers, `reproduce`:

1. predicts every (dataset, split) column of the table that the built dataset holds, with the official
   test-time pipeline (`instancevg.training.predict` on the official checkpoint), into
   ``OUT/predictions/<config>_<split>.jsonl.gz`` (kept: a re-run skips the splits already predicted);
2. scores each file with the protocol reproducing InstanceVG's own evaluation code (``TABLE_PROTOCOLS``) into
   ``OUT/results/<model>/<config>_<split>_<task>.json``, carrying ``model`` and ``backbone`` so that the rows
   join the published row of InstanceVG;
3. renders the table with the reproduced rows and their difference to the published numbers into
   ``OUT/tables`` (`leaderboards.render_table`).

The masks of the official evaluation are compared in the 320 x 320 input frame; vgbench scores them at the
original image size (the predictions format). Box metrics do not depend on the frame; mask metrics may differ
from the official ones in the last decimals (``--resize 320`` scores at 320 x 320 instead; docs/instancevg.md).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaluators.errors import InputError

if TYPE_CHECKING:
    from instancevg.runtime import ModelRuntime

__all__ = ["TABLE_PROTOCOLS", "ReproducedSplit", "reproduce"]

logger = logging.getLogger(__name__)

# table -> (task, the protocol that reproduces InstanceVG's evaluation code for it)
TABLE_PROTOCOLS: dict[str, tuple[str, str]] = {
    "rec": ("rec", "rec/iou"),
    "res": ("res", "res/lavt"),
    "gres": ("gres", "gres/instancevg"),
    "grec": ("grec", "grec/grefcoco"),
    "refzom": ("refzom", "refzom/instancevg"),
    "rrefcoco": ("rrefcoco", "rrefcoco/instancevg"),
}
MODEL_NAME = "InstanceVG"
BACKBONES = {768: "BEiT3-ViT-B", 1024: "BEiT3-ViT-L"}  # as the paper's tables print them


@dataclass(frozen=True)
class ReproducedSplit:
    """One scored (table, dataset, split): where its predictions and results are, and its metrics."""

    table: str
    dataset: str
    split: str
    predictions: Path
    results: Path
    metrics: dict


def _columns(table: str) -> list[tuple[str, str]]:
    from leaderboards.specs import load_spec

    spec = load_spec(table)
    seen: list[tuple[str, str]] = []
    for part in spec.parts:
        for col in part.columns:
            if col.dataset and (col.dataset, col.split) not in seen:
                seen.append((col.dataset, col.split))
    return seen


def reproduce(
    tables: list[str],
    checkpoint: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    spm: str | Path,
    images_dir: str | Path | None = None,
    device: str | None = None,
    batch_size: int = 16,
    resize: int | None = None,
    formats: tuple[str, ...] = ("md", "csv"),
    quiet: bool = False,
    overrides: dict | None = None,
    bf16: bool = False,
    fp16: bool = False,
    backbone: str | None = None,
    runtime: ModelRuntime | None = None,
) -> list[ReproducedSplit]:
    """Run steps 1-3 of the module docstring; return what was scored. ``backbone`` names the published row to
    compare with (default from the encoder width: ``BEiT3-ViT-B`` for 768, ``BEiT3-ViT-L`` for 1024). InputError
    when a table is unknown or the built dataset holds none of its splits."""
    from datasets_builders.reading import list_configs
    from evaluators.api import score_files
    from evaluators.atomic import write_json_atomic
    from instancevg.official import looks_official
    from instancevg.training import load_for_prediction, predict
    from leaderboards import render_table

    unknown = [t for t in tables if t not in TABLE_PROTOCOLS]
    if unknown:
        raise InputError(
            f"--table {unknown[0]!r}: not reproducible (choose from {', '.join(TABLE_PROTOCOLS)})"
        )
    if not looks_official(checkpoint):
        raise InputError(f"{checkpoint}: not an official InstanceVG checkpoint")
    loaded = load_for_prediction(
        checkpoint, "cpu", spm, overrides, runtime
    )  # read once, moved to the device per split
    cfg = loaded.cfg
    backbone = backbone or BACKBONES.get(cfg.encoder.dim, f"BEiT3-{cfg.encoder.dim}")
    available = list_configs(data_dir)
    out = Path(out_dir)
    done: list[ReproducedSplit] = []
    for table in tables:
        task, protocol = TABLE_PROTOCOLS[table]
        wanted = _columns(table)
        present = [(d, s) for d, s in wanted if s in available.get(d, [])]
        if not present:
            listed = ", ".join(f"{d}/{s}" for d, s in wanted)
            raise InputError(f"{data_dir}: holds none of the splits of table {table!r} ({listed})")
        for dataset, split in present:
            preds = out / "predictions" / f"{dataset}_{split}.jsonl.gz"
            if preds.exists():
                logger.info("%s exists: not predicted again", preds)
            else:
                predict(
                    loaded, data_dir, dataset, split, preds, batch_size=batch_size, images_dir=images_dir,
                    device=device, quiet=quiet, bf16=bf16, fp16=fp16,
                )  # fmt: skip
            evaluation = score_files(task, preds, data_dir, dataset, split, protocol=protocol, resize=resize)
            results = dict(evaluation.results)
            results.update({"model": MODEL_NAME, "backbone": backbone, "dataset": dataset, "split": split})
            results["checkpoint"] = str(checkpoint)
            path = out / "results" / MODEL_NAME / f"{dataset}_{split}_{task}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(path, results)
            done.append(ReproducedSplit(table, dataset, split, preds, path, results["metrics"]))
            logger.info("%s %s/%s %s: %s", table, dataset, split, protocol, json.dumps(results["metrics"]))
        render_table(table, out / "tables", formats, results_dir=out / "results")
    return done
