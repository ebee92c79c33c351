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
from evaluators.records import Prediction, Target

__all__ = ["AdaptReport", "PARSE_FAILURE_MODES", "adapt_answers", "convert_text_answers", "report_path"]

log = logging.getLogger(__name__)

PARSE_FAILURE_MODES = ("miss", "error")
SCORE_STEP = 2.0**-20
PARALLEL_MIN = 2000  # fewer targets are adapted in-process: forking costs more than it saves


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
    ax, bx, ay, by = conv.scale(size)
    harness = family.name == "vlmevalkit"
    for k, unit in enumerate(units):
        box = (
            family.to_pixels(unit, size, conv)
            if harness
            else (ax * unit[0] + bx, ay * unit[1] + by, ax * unit[2] + bx, ay * unit[3] + by)
        )
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
    """A callable giving the unified rows (expr_id, sentence, ref_id, targets) for joins (lmms-eval)."""

    def load() -> list[dict]:
        path = Path(targets)
        if path.is_dir():
            from baselines.rows import iter_rows

            return list(iter_rows(path, config, split, columns=["expr_id", "sentence", "ref_id", "targets"]))
        return _read_rows_file(path)

    return load


def _read_rows_file(path: Path) -> list[dict]:
    """Rows of a targets file (.parquet, .json list, .jsonl, optionally .gz); `InputError` if unreadable."""
    import gzip

    from evaluators import jsonio

    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            if name.endswith(".json"):
                data = jsonio.loads(f.read())
                return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
            return [r for r in (jsonio.loads(line) for line in f if line.strip()) if isinstance(r, dict)]
    except Exception as exc:  # pyarrow, gzip and JSON raise several types for a bad file
        raise InputError(f"{path}: cannot read the targets rows: {exc}") from None


@dataclass
class _Job:
    """What adapting a chunk of targets needs (shared with forked workers, never pickled)."""

    family: Family
    conv: Convention
    got: dict[str, Answer]
    masks_dir: Path | None
    on_parse_failure: str
    min_pixels: int
    max_pixels: int
    quiet: bool = True
    protocols: tuple[tuple[str, str], ...] = ()  # (task, protocol) pairs scored on the fly


@dataclass
class _Part:
    """The result of one chunk: records in order, report counters, observations, scoring states."""

    records: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0
    boxes: int = 0
    multi_box_answers: int = 0
    no_target_answers: int = 0
    parse_failures: dict[str, str] = field(default_factory=dict)
    parse_failures_on_no_target: int = 0
    observations: list[Observation] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)


def _adapt_chunk(job: _Job, targets: list[Target]) -> _Part:
    family, conv = job.family, job.conv
    part = _Part()
    evaluators = []
    if job.protocols:
        from evaluators.api import Evaluator

        evaluators = [Evaluator(task, name) for task, name in job.protocols]
    for t in progress(targets, len(targets), f"adapt {family.name}", job.quiet):
        a = job.got.get(t.expr_id)
        if a is None:
            record = {"expr_id": t.expr_id, "instances": [], "no_target": False}
        else:
            part.answered += 1
            iw, ih = a.input_width, a.input_height
            if conv.name == "resized" and not (iw and ih):
                ih, iw = smart_resize(t.height, t.width, min_pixels=job.min_pixels, max_pixels=job.max_pixels)
            size = ImageSize(t.width, t.height, iw, ih)
            outcome = adapt_answer(family, conv, a, size, job.masks_dir)
            if outcome.failure is not None:
                if job.on_parse_failure == "error":
                    raise InputError(
                        f"{locate(a.where, None, a.expr_id, 'text')}: cannot parse the {family.name} answer: "
                        f"{outcome.failure} (text {a.text[:80]!r}); --on-parse-failure miss scores it as a miss"
                    )
                part.parse_failures[a.expr_id] = outcome.failure
                part.parse_failures_on_no_target += int(t.no_target)
            part.no_target_answers += int(outcome.no_target)
            n = len(outcome.record.get("instances", []))
            part.boxes += n
            part.multi_box_answers += int(n > 1)
            if outcome.units:
                gt = [(b[0], b[1], b[0] + b[2], b[1] + b[3]) for b in t.boxes.tolist()]
                part.observations.append(Observation(outcome.units, size, gt))
            record = outcome.record
        part.records.append(record)
        if evaluators:
            pred = _as_prediction(record)
            for ev in evaluators:
                ev.update(pred, t)
    part.states = [ev.state for ev in evaluators]
    return part


def _as_prediction(record: dict[str, Any]) -> Prediction:
    """The evaluator's `Prediction` of a record this module built (valid by construction: finite boxes
    with w, h >= 0, scores in [0, 1], RLEs from `evaluators.rle`), without re-validating it."""
    instances = record.get("instances", [])
    return Prediction(
        expr_id=record["expr_id"],
        boxes=np.asarray([i["bbox"] for i in instances], dtype=np.float64).reshape(-1, 4),
        scores=np.asarray([i["score"] for i in instances], dtype=np.float64),
        segmentations=tuple(i.get("segmentation") for i in instances),
        has_instances="instances" in record,
        mask=record.get("mask"),
        no_target=record.get("no_target"),
        where=f"<adapted {record['expr_id']}>",
    )


_SHARED: dict[str, Any] = {}  # the job and chunks of a parallel run, inherited by forked workers


def _run_shared_chunk(index: int) -> _Part:
    return _adapt_chunk(_SHARED["job"], _SHARED["chunks"][index])


def _run_chunks(job: _Job, targets: list[Target], workers: int) -> list[_Part]:
    """Adapt (and score) ``targets`` in ``workers`` forked processes (chunks in order), or in-process."""
    import multiprocessing as mp

    if workers <= 1 or len(targets) < max(PARALLEL_MIN, workers) or "fork" not in mp.get_all_start_methods():
        return [_adapt_chunk(job, targets)]
    size = -(-len(targets) // workers)
    chunks = [targets[k : k + size] for k in range(0, len(targets), size)]
    _SHARED.update(job=job, chunks=chunks)
    try:
        with mp.get_context("fork").Pool(len(chunks)) as pool:
            return pool.map(_run_shared_chunk, range(len(chunks)))
    finally:
        _SHARED.clear()


def _prepare(
    family_name: str,
    answers: Iterable[Answer],
    targets: list[Target],
    *,
    coords: str | None,
    on_parse_failure: str,
    masks: str | Path | None,
    allow_missing: bool,
    min_pixels: int,
    max_pixels: int,
    answers_label: str,
    answers_format: str,
    quiet: bool,
) -> tuple[_Job, AdaptReport]:
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
    by_id = {t.expr_id for t in targets}
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
    job = _Job(family, conv, got, masks_dir, on_parse_failure, min_pixels, max_pixels, quiet)
    return job, report


def _merge(job: _Job, report: AdaptReport, parts: list[_Part]) -> list[dict[str, Any]]:
    """Fold the parts into ``report`` (counters, failures, convention check); the records in order."""
    records, observations = [], []
    for part in parts:
        records += part.records
        observations += part.observations
        report.answered += part.answered
        report.boxes += part.boxes
        report.multi_box_answers += part.multi_box_answers
        report.no_target_answers += part.no_target_answers
        report.parse_failures.update(part.parse_failures)
        report.parse_failures_on_no_target += part.parse_failures_on_no_target
    family, conv = job.family, job.conv
    if family.name == "vlmevalkit":
        from baselines.adapters.text.check import _agreement_warnings

        report.convention_warnings = _agreement_warnings(
            conv, observations, lambda b, s: family.to_pixels(b, s, conv)
        )
    else:
        report.convention_warnings = check_convention(conv, observations)
    return records


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
    workers: int = 1,
) -> tuple[list[dict[str, Any]], AdaptReport]:
    """Answers + targets -> (records in target order, report). Raises `InputError` on bad input.

    ``workers > 1`` adapts chunks of the targets in that many forked processes (same result)."""
    job, report = _prepare(
        family_name,
        answers,
        targets,
        coords=coords,
        on_parse_failure=on_parse_failure,
        masks=masks,
        allow_missing=allow_missing,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        answers_label=answers_label,
        answers_format=answers_format,
        quiet=quiet,
    )
    return _merge(job, report, _run_chunks(job, targets, workers)), report


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
    workers: int = 1,
    quiet: bool = False,
) -> AdaptReport:
    """Read ``answers``, adapt them against ``targets`` (a targets file, or a built dataset with
    ``config``/``split``), write the predictions file ``out`` and its report ``<stem>.adapt.json``
    (both atomically, nothing on error). ``family`` defaults to the harness's own parse rule for
    ``lmms-eval`` / ``vlmevalkit`` answer files."""
    report, _ = adapt_and_score(
        family,
        answers,
        targets,
        out,
        config=config,
        split=split,
        answers_format=answers_format,
        id_template=id_template,
        coords=coords,
        on_parse_failure=on_parse_failure,
        masks=masks,
        allow_missing=allow_missing,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        workers=workers,
        quiet=quiet,
    )
    return report


def adapt_and_score(
    family: str | None,
    answers: str | Path,
    targets: str | Path,
    out: str | Path,
    *,
    task: str | None = None,
    protocols: Iterable[str] = (),
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
    workers: int = 1,
    quiet: bool = False,
) -> tuple[AdaptReport, list[dict[str, Any]]]:
    """`convert_text_answers`, and the written records scored in the same pass under ``protocols``
    of ``task``: (report, one results dict per protocol, with the report under ``notes.adapter``).

    Scoring reuses the targets read for adapting (no second read); the results equal those of
    ``vgbench eval`` on the written file (tested)."""
    from evaluators.protocols import get_protocol
    from evaluators.readers import iter_targets

    protocols = tuple(protocols)
    if protocols and not task:
        raise InputError("scoring needs a task (--task)")
    if protocols and task not in ("rec", "grec") and family and get_family(family).masks == "none":
        raise InputError(
            f"family {family} answers with boxes only: score it on rec or grec, not {task} "
            "(masks come from florence-2-seg polygons or from --masks with seg / ref-vlm)"
        )
    for name in protocols:
        get_protocol(task, name)  # an unknown or mismatched protocol fails before any work
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
    job, report = _prepare(
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
    job.protocols = tuple((task, name) for name in protocols)
    parts = _run_chunks(job, target_list, workers)
    records = _merge(job, report, parts)
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
    results = [
        _results(task, name, [p.states[k] for p in parts], report, targets, config, split, out)
        for k, name in enumerate(protocols)
    ]
    return report, results


def _results(task, name, states, report, targets, config, split, out) -> dict[str, Any]:
    """The results dict (PREDICTIONS.md section 4) of merged scoring states, as `vgbench eval` writes it."""
    from evaluators.api import Evaluator
    from evaluators.readers import sha256_file, target_files
    from evaluators.results import now_iso

    ev = Evaluator(task, name)
    for state in states:
        ev.state.merge(state)
    results = ev.compute()
    results["notes"] = {**results.get("notes", {}), "adapter": report.as_dict()}
    files = target_files(targets, config, split)
    results["targets"] = str(targets) if not (config and split) else f"{targets}:{config}/{split}"
    if len(files) == 1:
        results["targets_sha256"] = sha256_file(files[0])
    else:
        import hashlib

        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.name}:{sha256_file(f)}\n".encode())
        results["targets_sha256"] = h.hexdigest()
    results["predictions"] = str(out)
    results["predictions_sha256"] = sha256_file(out)
    results["vgbench_version"] = _version()
    results["created"] = now_iso()
    return results


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vgbench")
    except Exception:  # not installed: running from a source tree
        return "0.0.0+local"


def load_report(path: str | Path) -> dict[str, Any]:
    """Read an ``.adapt.json`` report (plain JSON, no code)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
