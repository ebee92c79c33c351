"""Adapting (and scoring) the targets in chunks, in-process or in forked workers.

A `Job` holds what every chunk needs; a chunk gives a `Part` (records in order, report counters,
convention-check observations, scoring states). Forked workers inherit the job and the chunks (never
pickled); their parts come back pickled and are merged in order, and scoring states are exact sums,
so ``workers=N`` gives the same file, report and numbers as one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baselines.adapters.text.answers import Answer
from baselines.adapters.text.check import Observation
from baselines.adapters.text.conventions import Convention, ImageSize, smart_resize
from baselines.adapters.text.families import Family
from baselines.adapters.text.record import adapt_answer, as_prediction
from evaluators import rle
from evaluators.errors import InputError, locate
from evaluators.progress import progress
from evaluators.records import Target

__all__ = ["PARALLEL_MIN", "Job", "Part", "adapt_chunk", "run_chunks"]

PARALLEL_MIN = 2000  # fewer targets are adapted in-process: forking costs more than it saves


@dataclass
class Job:
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
class Part:
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


def adapt_chunk(job: Job, targets: list[Target]) -> Part:
    family, conv = job.family, job.conv
    part = Part()
    evaluators = []
    if job.protocols:
        from evaluators.api import Evaluator

        evaluators = [Evaluator(task, name) for task, name in job.protocols]
    for t in progress(targets, len(targets), f"adapt {family.name}", quiet=job.quiet, unit="expr"):
        a = job.got.get(t.expr_id)
        if a is None:
            record = {"expr_id": t.expr_id, "instances": [], "no_target": False}
            if family.masks != "none":  # a mask task's record needs a mask: the empty one
                record["mask"] = rle.empty(t.height, t.width)
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
            pred = as_prediction(record)
            for ev in evaluators:
                ev.update(pred, t)
    part.states = [ev.state for ev in evaluators]
    return part


_SHARED: dict[str, Any] = {}  # the job and chunks of a parallel run, inherited by forked workers


def _run_shared_chunk(index: int) -> Part:
    return adapt_chunk(_SHARED["job"], _SHARED["chunks"][index])


def run_chunks(job: Job, targets: list[Target], workers: int) -> list[Part]:
    """Adapt (and score) ``targets`` in ``workers`` forked processes (chunks in order), or in-process."""
    import multiprocessing as mp

    if workers <= 1 or len(targets) < max(PARALLEL_MIN, workers) or "fork" not in mp.get_all_start_methods():
        return [adapt_chunk(job, targets)]
    size = -(-len(targets) // workers)
    chunks = [targets[k : k + size] for k in range(0, len(targets), size)]
    _SHARED.update(job=job, chunks=chunks)
    try:
        with mp.get_context("fork").Pool(len(chunks)) as pool:
            return pool.map(_run_shared_chunk, range(len(chunks)))
    finally:
        _SHARED.clear()
