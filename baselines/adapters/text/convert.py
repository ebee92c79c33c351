"""Text answers -> a predictions file (PREDICTIONS.md section 1), with a report of what was read.

Per expression of the targets, in target order:

- boxes found: one instance per box, in answer order, ``bbox`` COCO ``[x, y, w, h]`` pixels of the
  original image, ``score = 1 - k * 2**-20`` for the k-th box (0-based), so the answer's first box is
  the top-scoring one (REC) and every box is kept by the 0.7 rule (GREC); ``no_target: false``;
  Florence-2 polygons also give the instance ``segmentation`` and the record ``mask``; PNG masks
  (``seg``, ``ref-vlm`` with ``--masks``) give ``mask`` and, for ``seg``, the mask's box.
- an explicit no-target answer: ``instances: []``, ``no_target: true`` (mask families: an empty mask).
- a parse failure (malformed, no box and no no-target phrase, an inverted box, a missing mask file):
  with ``on_parse_failure="miss"`` (default) ``instances: []``, ``no_target: false`` (mask families: an
  empty mask), counted and listed by ``expr_id``; with ``"error"`` an `InputError` and nothing written.

Never a silent zero box. The report (``AdaptReport.as_dict()``) goes to ``<out stem>.adapt.json`` and
into the results ``notes.adapter`` when ``vgbench adapt text`` also scores.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from baselines.adapters.text.answers import Answer, read_answers
from baselines.adapters.text.check import Observation, check_convention
from baselines.adapters.text.conventions import (
    QWEN_MAX_PIXELS,
    QWEN_MIN_PIXELS,
    Convention,
    ImageSize,
    smart_resize,
)
from baselines.adapters.text.families import Family, get_family, resolve_convention
from baselines.writer import progress, write_predictions
from evaluators import rle
from evaluators.errors import InputError, locate
from evaluators.records import Target

__all__ = ["AdaptReport", "PARSE_FAILURE_MODES", "adapt_answers", "convert_text_answers", "report_path"]

log = logging.getLogger(__name__)

PARSE_FAILURE_MODES = ("miss", "error")
SCORE_STEP = 2.0**-20


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


def _xywh(b: tuple[float, ...]) -> list[float]:
    return [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]


def _polygon_mask(
    rings: list[list[float]], family: Family, conv: Convention, size: ImageSize
) -> tuple[rle.RLE, list[float]]:
    """Rings in family units -> (RLE at the image size, tight pixel box x1, y1, x2, y2)."""
    from pycocotools import mask as mask_utils

    ax, bx, ay, by = conv.scale(size)
    pixel_rings = []
    for ring in rings:
        r = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
        r = np.stack([ax * r[:, 0] + bx, ay * r[:, 1] + by], axis=1)
        pixel_rings.append(r.reshape(-1).tolist())
    encoded = mask_utils.merge(mask_utils.frPyObjects(pixel_rings, size.height, size.width))
    counts = encoded["counts"]
    mask = {
        "size": [size.height, size.width],
        "counts": counts.decode() if isinstance(counts, bytes) else counts,
    }
    allp = np.concatenate([np.asarray(r).reshape(-1, 2) for r in pixel_rings])
    box = [float(allp[:, 0].min()), float(allp[:, 1].min()), float(allp[:, 0].max()), float(allp[:, 1].max())]
    return mask, box


@dataclass
class _Outcome:
    record: dict[str, Any]
    failure: str | None = None
    units: list[tuple[float, ...]] = field(default_factory=list)
    no_target: bool = False


def adapt_answer(
    family: Family,
    conv: Convention,
    answer: Answer,
    size: ImageSize,
    masks_dir: Path | None = None,
) -> _Outcome:
    """One answer -> its predictions record (or a parse failure with its reason)."""
    mask_family = family.masks != "none"
    record: dict[str, Any] = {"expr_id": answer.expr_id}

    def miss(reason: str) -> _Outcome:
        rec = {"expr_id": answer.expr_id, "instances": [], "no_target": False}
        if mask_family:
            rec["mask"] = rle.empty(size.height, size.width)
        return _Outcome(rec, failure=reason)

    parsed = family.parse(answer.text)
    if parsed.error:
        return miss(parsed.error)
    if parsed.no_target:
        record.update(instances=[], no_target=True)
        if mask_family:
            record["mask"] = rle.empty(size.height, size.width)
        return _Outcome(record, no_target=True)
    units = list(parsed.boxes)
    if family.name == "ref-vlm":
        if answer.boxes is None and masks_dir is None:
            return miss("ref-vlm answer without decoder boxes ('boxes') or a mask file (--masks)")
        if answer.boxes is not None:
            if len(answer.boxes) != parsed.refs:
                return miss(f"{parsed.refs} <REF> in the text but {len(answer.boxes)} decoder boxes")
            units = list(answer.boxes)
    instances: list[dict[str, Any]] = []
    for k, unit in enumerate(units):
        box = family.to_pixels(unit, size, conv)
        if box[2] < box[0] or box[3] < box[1]:
            return miss(f"inverted box {list(unit)} (x2 < x1 or y2 < y1)")
        instances.append({"bbox": _xywh(box), "score": 1.0 - k * SCORE_STEP})
    masks_union = None
    if parsed.polygons:
        polygon_masks = []
        for rings in parsed.polygons:
            mask, box = _polygon_mask(rings, family, conv, size)
            polygon_masks.append(mask)
            k = len(instances)
            instances.append({"bbox": _xywh(box), "score": 1.0 - k * SCORE_STEP, "segmentation": mask})
        masks_union = rle.union(polygon_masks, size.height, size.width)
    if family.masks == "png" and masks_dir is not None:
        from baselines.adapters.png_masks import png_name, read_png_mask
        from baselines.masks import bbox_of_mask

        path = masks_dir / png_name(answer.expr_id)
        if not path.is_file():
            return miss(f"no mask file {path.name}")
        dense = read_png_mask(path, (size.height, size.width))
        masks_union = rle.encode(dense)
        if family.name == "seg":
            xywh = bbox_of_mask(dense)
            instances = [] if xywh is None else [{"bbox": xywh, "score": 1.0, "segmentation": masks_union}]
    elif family.name == "seg":
        return miss("[SEG] answer needs its mask file (--masks)")
    if family.name == "seg" and not instances:
        record.update(instances=[], no_target=True, mask=masks_union)
        return _Outcome(record, no_target=True)
    record["instances"] = instances
    if masks_union is not None:
        record["mask"] = masks_union
    record["no_target"] = False
    return _Outcome(record, units=units if family.name != "seg" else [])


def _target_rows_loader(targets: str | Path, config: str | None, split: str | None):
    """A callable giving the unified rows (expr_id, sentence, ref_id, targets.ann_id) for joins."""

    def load() -> list[dict]:
        path = Path(targets)
        if path.is_dir():
            from baselines.rows import iter_rows

            return list(iter_rows(path, config, split, columns=["expr_id", "sentence", "ref_id", "targets"]))
        from evaluators.readers import _iter_rows  # the evaluator's own targets-file reader

        return [row for _, row in _iter_rows(path) if isinstance(row, dict)]

    return load


def adapt_answers(
    family_name: str,
    answers: Iterable[Answer],
    targets: list[Target],
    *,
    coords: str | None = None,
    on_parse_failure: str = "miss",
    masks: str | Path | None = None,
    allow_missing: bool = False,
    min_pixels: int = QWEN_MIN_PIXELS,
    max_pixels: int = QWEN_MAX_PIXELS,
    answers_label: str = "<answers>",
    answers_format: str = "jsonl",
    quiet: bool = True,
) -> tuple[list[dict[str, Any]], AdaptReport]:
    """Answers + targets -> (records in target order, report). Raises `InputError` on bad input."""
    family = get_family(family_name)
    conv = resolve_convention(family, coords)
    if on_parse_failure not in PARSE_FAILURE_MODES:
        raise InputError(f"--on-parse-failure must be 'miss' or 'error', got {on_parse_failure!r}")
    masks_dir = Path(masks) if masks else None
    if masks_dir is not None and not masks_dir.is_dir():
        raise InputError(f"{masks_dir}: mask folder not found")
    if masks_dir is not None and family.masks != "png":
        raise InputError(f"--masks joins PNG masks for the seg and ref-vlm families, not {family.name}")
    report = AdaptReport(
        family.name,
        conv.name if family.name != "vlmevalkit" else "auto (VLMEvalKit)",
        answers_label,
        answers_format,
        on_parse_failure,
    )
    by_id = {t.expr_id: t for t in targets}
    got: dict[str, Answer] = {}
    for a in answers:
        if a.expr_id not in by_id:
            raise InputError(
                f"{locate(a.where, None, a.expr_id, 'expr_id')}: unknown expr_id, not in the targets"
            )
        if a.expr_id in got:
            raise InputError(
                f"{locate(a.where, None, a.expr_id, 'expr_id')}: duplicate answer (first at {got[a.expr_id].where})"
            )
        got[a.expr_id] = a
    report.expressions = len(targets)
    report.missing_answers = [t.expr_id for t in targets if t.expr_id not in got]
    if report.missing_answers and not allow_missing:
        listed = ", ".join(repr(i) for i in report.missing_answers[:5])
        raise InputError(
            f"{answers_label}: {len(report.missing_answers)} expression(s) have no answer (e.g. {listed}); "
            "pass --allow-missing to write them as misses"
        )
    records: list[dict[str, Any]] = []
    observations: list[Observation] = []
    for t in progress(targets, len(targets), f"adapt {family.name}", quiet):
        a = got.get(t.expr_id)
        if a is None:
            records.append({"expr_id": t.expr_id, "instances": [], "no_target": False})
            continue
        report.answered += 1
        iw, ih = a.input_width, a.input_height
        if conv.name == "resized" and not (iw and ih):
            ih, iw = smart_resize(t.height, t.width, min_pixels=min_pixels, max_pixels=max_pixels)
        size = ImageSize(t.width, t.height, iw, ih)
        outcome = adapt_answer(family, conv, a, size, masks_dir)
        if outcome.failure is not None:
            if on_parse_failure == "error":
                raise InputError(
                    f"{locate(a.where, None, a.expr_id, 'text')}: cannot parse the {family.name} answer: "
                    f"{outcome.failure} (text {a.text[:80]!r}); --on-parse-failure miss scores it as a miss"
                )
            report.parse_failures[a.expr_id] = outcome.failure
            report.parse_failures_on_no_target += int(t.no_target)
        report.no_target_answers += int(outcome.no_target)
        n = len(outcome.record.get("instances", []))
        report.boxes += n
        report.multi_box_answers += int(n > 1)
        if outcome.units:
            gt = [(b[0], b[1], b[0] + b[2], b[1] + b[3]) for b in t.boxes.tolist()]
            observations.append(Observation(outcome.units, size, gt))
        records.append(outcome.record)
    to_pixels = (lambda b, s: family.to_pixels(b, s, conv)) if family.name == "vlmevalkit" else None
    if family.name == "vlmevalkit":
        from baselines.adapters.text.check import _agreement_warnings

        report.convention_warnings = _agreement_warnings(conv, observations, to_pixels)
    else:
        report.convention_warnings = check_convention(conv, observations)
    return records, report


def convert_text_answers(
    family: str | None,
    answers: str | Path,
    targets: str | Path,
    out: str | Path,
    *,
    config: str | None = None,
    split: str | None = None,
    answers_format: str = "auto",
    id_template: str | None = None,
    coords: str | None = None,
    on_parse_failure: str = "miss",
    masks: str | Path | None = None,
    allow_missing: bool = False,
    min_pixels: int = QWEN_MIN_PIXELS,
    max_pixels: int = QWEN_MAX_PIXELS,
    quiet: bool = False,
) -> AdaptReport:
    """Read ``answers``, adapt them against ``targets`` (a targets file, or a built dataset with
    ``config``/``split``), write the predictions file ``out`` and its report ``<stem>.adapt.json``
    (both atomically, nothing on error). ``family`` defaults to the harness's own parse rule for
    ``lmms-eval`` / ``vlmevalkit`` answer files."""
    from evaluators.readers import iter_targets

    target_list = list(iter_targets(targets, config, split))
    fmt, answer_list = read_answers(
        answers, answers_format, rows=_target_rows_loader(targets, config, split), id_template=id_template
    )
    if family is None:
        if fmt not in ("lmms-eval", "vlmevalkit"):
            raise InputError(
                "--family is required for a vgbench answers file (see `vgbench adapt text --help`)"
            )
        family = fmt
    records, report = adapt_answers(
        family,
        answer_list,
        target_list,
        coords=coords,
        on_parse_failure=on_parse_failure,
        masks=masks,
        allow_missing=allow_missing,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        answers_label=str(answers),
        answers_format=fmt,
        quiet=quiet,
    )
    write_predictions(out, records)
    from evaluators.results import write_json_atomic

    write_json_atomic(report_path(out), report.as_dict())
    for warning in report.convention_warnings:
        log.warning("convention check (%s): %s", report.family, warning)
    if report.parse_failures:
        log.warning(
            "%d of %d answers could not be parsed and were written as misses (listed in %s)",
            len(report.parse_failures),
            report.answered,
            report_path(out),
        )
    log.info("adapt text %s: wrote %d predictions to %s", report.family, len(records), out)
    return report


def load_report(path: str | Path) -> dict[str, Any]:
    """Read an ``.adapt.json`` report (plain JSON, no code)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
