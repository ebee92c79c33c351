"""Text answers -> a predictions file (docs/formats.md#predictions-file), with a report of what was read.

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

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.adapters.text.answers import Answer, read_answers
from baselines.adapters.text.check import check_convention
from baselines.adapters.text.chunks import Job, Part, run_chunks
from baselines.adapters.text.conventions import QWEN_MAX_PIXELS, QWEN_MIN_PIXELS
from baselines.adapters.text.families import get_family, resolve_convention
from baselines.adapters.text.report import AdaptReport, report_path
from evaluators.errors import InputError, locate
from evaluators.jsonl import iter_json_items, strip_gz
from evaluators.predictions_writer import write_predictions
from evaluators.records import Target

__all__ = ["PARSE_FAILURE_MODES", "AdaptOptions", "adapt_and_score", "adapt_answers", "convert_text_answers"]

log = logging.getLogger(__name__)

PARSE_FAILURE_MODES = ("miss", "error")


@dataclass(frozen=True)
class AdaptOptions:
    """How answers become records, shared by `adapt_answers`, `convert_text_answers` and
    `adapt_and_score` (keyword options of the same names; the CLI flags of ``vgbench adapt text``).

    ``coords``: a coordinate convention overriding the family's (`CONVENTIONS`); ``on_parse_failure``:
    one of `PARSE_FAILURE_MODES`; ``masks``: a folder of PNG masks (``seg``, ``ref-vlm``);
    ``allow_missing``: expressions without an answer become misses instead of an error;
    ``min_pixels`` / ``max_pixels``: the Qwen2-VL resize bounds (`smart_resize`)."""

    coords: str | None = None
    on_parse_failure: str = "miss"
    masks: str | Path | None = None
    allow_missing: bool = False
    min_pixels: int = QWEN_MIN_PIXELS
    max_pixels: int = QWEN_MAX_PIXELS


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
    if strip_gz(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(f"{path}: cannot read the targets rows: {exc}") from None
    return [row for _, row in iter_json_items(path, expected="a JSON list of rows") if isinstance(row, dict)]


def _prepare(
    family_name: str,
    answers: Iterable[Answer],
    targets: list[Target],
    options: AdaptOptions,
    *,
    answers_label: str,
    answers_format: str,
    quiet: bool,
) -> tuple[Job, AdaptReport]:
    family = get_family(family_name)
    conv = resolve_convention(family, options.coords)
    on_parse_failure, masks = options.on_parse_failure, options.masks
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
    if report.missing_answers and not options.allow_missing:
        listed = ", ".join(repr(i) for i in report.missing_answers[:5])
        raise InputError(
            f"{answers_label}: {len(report.missing_answers)} expression(s) have no answer (e.g. {listed}); "
            "pass --allow-missing to write them as misses"
        )
    job = Job(family, conv, got, masks_dir, on_parse_failure, options.min_pixels, options.max_pixels, quiet)
    return job, report


def _merge(job: Job, report: AdaptReport, parts: list[Part]) -> list[dict[str, Any]]:
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
    harness = family.name == "vlmevalkit"
    report.convention_warnings = check_convention(
        conv,
        observations,
        (lambda b, size: family.to_pixels(b, size, conv)) if harness else None,
        not harness,
    )
    return records


def adapt_answers(
    family_name: str,
    answers: Iterable[Answer],
    targets: list[Target],
    *,
    answers_label: str = "<answers>",
    answers_format: str = "jsonl",
    quiet: bool = True,
    workers: int = 1,
    **options: Any,
) -> tuple[list[dict[str, Any]], AdaptReport]:
    """Answers + targets -> (records in target order, report). Raises `InputError` on bad input.

    ``options`` are the fields of `AdaptOptions` (``coords``, ``on_parse_failure``, ``masks``,
    ``allow_missing``, ``min_pixels``, ``max_pixels``). ``workers > 1`` adapts chunks of the targets
    in that many forked processes (same result)."""
    job, report = _prepare(
        family_name,
        answers,
        targets,
        AdaptOptions(**options),
        answers_label=answers_label,
        answers_format=answers_format,
        quiet=quiet,
    )
    return _merge(job, report, run_chunks(job, targets, workers)), report


def convert_text_answers(
    family: str | None, answers: str | Path, targets: str | Path, out: str | Path, **options: Any
) -> AdaptReport:
    """Read ``answers``, adapt them against ``targets`` (a targets file, or a built dataset with
    ``config``/``split``), write the predictions file ``out`` and its report ``<stem>.adapt.json``
    (both atomically, nothing on error). ``family`` defaults to the harness's own parse rule for
    ``lmms-eval`` / ``vlmevalkit`` answer files. ``options``: the keyword options of
    `adapt_and_score` but ``task`` and ``protocols`` (nothing is scored)."""
    if "task" in options or "protocols" in options:
        raise TypeError("convert_text_answers does not score: call adapt_and_score for task/protocols")
    return adapt_and_score(family, answers, targets, out, **options)[0]


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
    workers: int = 1,
    quiet: bool = False,
    **options: Any,
) -> tuple[AdaptReport, list[dict[str, Any]]]:
    """`convert_text_answers`, and the written records scored in the same pass under ``protocols``
    of ``task``: (report, one results dict per protocol, with the report under ``notes.adapter``).
    ``options`` are the fields of `AdaptOptions`.

    Scoring reuses the targets read for adapting (no second read); the results equal those of
    ``vgbench eval`` on the written file (tested)."""
    from evaluators.protocols import get_protocol
    from evaluators.readers import iter_targets

    opts = AdaptOptions(**options)  # an unknown option fails before any work
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
        opts,
        answers_label=str(answers),
        answers_format=fmt,
        quiet=quiet,
    )
    job.protocols = tuple((task, name) for name in protocols)
    parts = run_chunks(job, target_list, workers)
    records = _merge(job, report, parts)
    write_predictions(out, records)
    from evaluators.atomic import write_json_atomic

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
    """The results dict (docs/formats.md#results-file) of merged scoring states, as `vgbench eval` writes it."""
    from evaluators.api import Evaluator
    from evaluators.readers import target_files
    from evaluators.results import provenance

    ev = Evaluator(task, name)
    for state in states:
        ev.state.merge(state)
    results = ev.compute()
    results["notes"] = {**results.get("notes", {}), "adapter": report.as_dict()}
    results.update(provenance(out, targets, target_files(targets, config, split), config, split))
    return results
