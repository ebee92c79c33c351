"""The steps of ``vgbench demo``, in order; `run_demo` runs them and returns the summary dict.

Layout of ``OUT``::

    source/                      synthetic sources (docs/formats.md#source-files) + images/
    data/                        the built dataset (Parquet + card + vgbench_build.json)
    run/                         the training run (log.jsonl, tokenizer.model, last.pt, best.pt, eval/)
    predictions/{model}/{config}-{split}.jsonl
    results/{model}/{task}.json  one results JSON per model and task (docs/formats.md#results-file)
    leaderboard/                 tables of the synthetic benchmark (never mixed with published numbers)
    plots/                       training_curves.png, examples.png
    report/                      `vgbench report` of the model on grefcoco_unc val, vs largest-object
    summary.json

The model trains on ``grefcoco_unc`` train (it has single, multi and no-target expressions) and is
scored, like every baseline, on the six evaluation splits of `EVALS`.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluators.atomic import write_json_atomic
from evaluators.errors import InputError
from vgbench.demo.settings import (
    DEFAULT_IMAGES,
    DEFAULT_STEPS,
    EVALS,
    MODEL_NAME,
    PRESET,
    THREADS,
    TRAIN_CONFIG,
    VERDICT_SPLIT,
)

__all__ = ["EVALS", "MODEL_NAME", "TRAIN_CONFIG", "run_demo", "training_plan"]

log = logging.getLogger(__name__)


def _splits() -> list[tuple[str, str]]:
    """The distinct (config, split) pairs of `EVALS`, in order."""
    return list(dict.fromkeys((c, s) for _, c, s in EVALS))


MARKER = ".vgbench-demo"
# what a demo writes under OUT; a re-run into a folder holding MARKER replaces exactly these
_OWNED = (
    "source",
    "data",
    "run",
    "predictions",
    "results",
    "leaderboard",
    "plots",
    "report",
    "hf_cache",
    "summary.json",
)


def _prepare_out(out: Path) -> None:
    """Create ``out``; a folder of an earlier demo (it holds `MARKER`) is cleared of what the demo
    wrote; any other non-empty folder is refused."""
    import shutil

    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise InputError(
                f"{out}: --out must be an empty or new folder, or the folder of an earlier vgbench demo"
            )
        log.info("demo: clearing the earlier demo in %s", out)
        for name in _OWNED:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by vgbench demo; a re-run replaces this folder's demo outputs\n")


def _check_extras() -> None:
    """The demo needs every extra; say which install is missing before doing any work."""
    import importlib.util

    missing = [m for m in ("torch", "datasets", "PIL", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"vgbench demo needs {', '.join(missing)}: install vgbench with its extras (pip install 'vgbench[all]')"
        )


class _Timer:
    """Seconds spent per step, for the summary."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn, *args, **kwargs):
        log.info("demo: %s ...", name)
        t0 = time.monotonic()
        result = fn(*args, **kwargs)
        self.seconds[name] = round(time.monotonic() - t0, 2)
        log.info("demo: %s done in %.1fs", name, self.seconds[name])
        return result


def step_data(out: Path, images: int, seed: int, quiet: bool) -> tuple[Path, Path]:
    """Synthetic sources and the built dataset: ``(OUT/source, OUT/data)``."""
    from datasets_builders.build import build_dataset
    from datasets_builders.synth import write_synth

    source = write_synth(out / "source", images=images, seed=seed)
    data = build_dataset(source, out / "data", workers=min(2, os.cpu_count() or 1), quiet=quiet)
    return Path(source), Path(data)


def step_load_dataset(out: Path, data: Path, quiet: bool = False) -> dict[str, Any]:
    """Load every evaluation split with ``datasets.load_dataset`` offline; check it against pyarrow."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    datasets.disable_progress_bars()  # one line per split below says what was loaded
    from baselines.rows import count_rows, iter_rows

    checked = {}
    for config, split in _splits():
        ds = datasets.load_dataset(str(data), config, split=split, cache_dir=str(out / "hf_cache"))
        expected = count_rows(data, config, split)
        first = next(iter_rows(data, config, split, columns=["expr_id"]))["expr_id"]
        if ds.num_rows != expected or ds[0]["expr_id"] != first:
            raise RuntimeError(
                f"load_dataset({data}, {config!r}, split={split!r}) gave {ds.num_rows} rows starting at "
                f"{ds[0]['expr_id']!r}; pyarrow reads {expected} starting at {first!r}"
            )
        checked[f"{config}/{split}"] = ds.num_rows
        log.info(
            "demo: load_dataset(%s, %r, split=%r): %d rows, as pyarrow reads",
            data,
            config,
            split,
            ds.num_rows,
        )
    return checked


def step_baselines(out: Path, data: Path, seed: int, quiet: bool) -> dict[str, dict[str, Path]]:
    """Every baseline on every evaluation split -> ``{baseline: {"config/split": path}}``."""
    from baselines import BASELINES, run_baseline

    files: dict[str, dict[str, Path]] = {}
    for name in BASELINES:
        for config, split in _splits():
            path = out / "predictions" / name / f"{config}-{split}.jsonl"
            run_baseline(name, data, config, split, path, seed=seed, quiet=quiet)
            files.setdefault(name, {})[f"{config}/{split}"] = path
    return files


def training_plan(
    steps: int, train_rows: int, batch_size: int, preset_epochs: int, preset_decay: int
) -> list[str]:
    """Config overrides that plan the preset's schedule over ``steps`` optimizer steps: the epochs that
    cover them (the last one may be cut by ``max_steps``) and the learning-rate decay at the same
    fraction of the run as in the preset (tiny-cpu: 48 of 60 epochs)."""
    per_epoch = math.ceil(train_rows / batch_size)
    epochs = max(1, math.ceil(steps / per_epoch))
    decay = min(epochs, max(1, round(epochs * preset_decay / preset_epochs)))
    return [f"train.epochs={epochs}", f"train.decay_epochs=[{decay}]"]


def step_train(
    out: Path,
    data: Path,
    steps: int,
    minutes: float | None,
    seed: int,
    overrides: Sequence[str],
    quiet: bool,
) -> dict[str, Any]:
    """Train the tiny InstanceVG on ``TRAIN_CONFIG`` for ``steps`` optimizer steps (fp32, `THREADS`
    threads), evaluating on the val split after each epoch; ``minutes`` is an optional cap. Returns the
    trainer's summary dict plus ``planned_steps`` and ``cut_by_minutes``."""
    from baselines.rows import count_rows
    from instancevg.config import load_config
    from instancevg.training import RunOptions, train
    from instancevg.training.options import split_overrides

    model_overrides, run_overrides = split_overrides(overrides)
    preset = load_config(PRESET, [f"train.seed={seed}", *model_overrides])
    plan = training_plan(
        steps,
        count_rows(data, TRAIN_CONFIG, "train"),
        preset.train.batch_size,
        preset.train.epochs,
        preset.train.decay_epochs[0] if preset.train.decay_epochs else preset.train.epochs,
    )
    cfg = load_config(PRESET, [f"train.seed={seed}", *plan, *model_overrides])  # later overrides win
    options = RunOptions(data_config=TRAIN_CONFIG, device="cpu", log_every=10, threads=THREADS)
    options = options.with_overrides(run_overrides)
    budget = None if minutes is None else minutes * 60.0
    summary = train(
        cfg, data, out / "run", time_budget_s=budget, quiet=quiet, options=options, max_steps=steps
    )
    summary["planned_steps"] = steps
    summary["cut_by_minutes"] = summary["stopped"] == "time_budget"
    if summary["cut_by_minutes"]:
        log.warning(
            "demo: --minutes %g stopped training after %d of %d planned steps: the numbers below are NOT "
            "those of the default demo (drop --minutes to train the whole plan)",
            minutes,
            summary["global_step"],
            steps,
        )
    return summary


def step_predict(out: Path, data: Path, checkpoint: Path, quiet: bool) -> dict[str, Path]:
    """The trained model on every evaluation split -> ``{"config/split": path}``."""
    from instancevg.training import predict

    files = {}
    for config, split in _splits():
        path = out / "predictions" / MODEL_NAME / f"{config}-{split}.jsonl"
        predict(checkpoint, data, config, split, path, device="cpu", quiet=quiet, threads=THREADS)
        files[f"{config}/{split}"] = path
    return files


def step_score(out: Path, data: Path, predictions: dict[str, dict[str, Path]]) -> dict[str, dict[str, Path]]:
    """Score every model on every task -> ``{model: {task: results path}}``."""
    from evaluators import score_files

    results: dict[str, dict[str, Path]] = {}
    for model, files in predictions.items():
        for task, config, split in EVALS:
            evaluation = score_files(task, files[f"{config}/{split}"], data, config, split)
            payload = {"model": model, "benchmark": "vgbench-synthetic", **evaluation.results}
            path = out / "results" / model / f"{task}.json"
            write_json_atomic(path, payload)
            results.setdefault(model, {})[task] = path
    return results


def step_report(
    out: Path, data: Path, source: Path, predictions: dict[str, dict[str, Path]], quiet: bool
) -> Path:
    """The browsable report (`vgbench.report`) of the model on grefcoco_unc val, side by side with the
    best text-blind baseline of the README (largest-object) -> ``OUT/report/index.html``."""
    from vgbench.report import build_report

    config, split = VERDICT_SPLIT
    key = f"{config}/{split}"
    build_report(
        predictions[MODEL_NAME][key],
        data,
        out / "report",
        config,
        split,
        images=source / "images",
        compare=predictions["largest-object"][key],
        names=(MODEL_NAME, "largest-object"),
        quiet=quiet,
    )
    return out / "report" / "index.html"


def run_demo(
    out: str | Path,
    steps: int = DEFAULT_STEPS,
    images: int = DEFAULT_IMAGES,
    seed: int = 0,
    overrides: Sequence[str] = (),
    quiet: bool = False,
    minutes: float | None = None,
) -> dict[str, Any]:
    """Run the whole demo into ``out``; write and return the summary (see `report.build_summary`).

    ``steps``: optimizer steps of training (the budget: the same numbers on every machine);
    ``minutes``: an optional wall-clock cap on training, which makes the run machine-dependent and says
    so (``training.cut_by_minutes`` and a warning) when it stops the plan early.
    """
    from baselines import TEXT_BLIND
    from vgbench.demo import plots, report

    _check_extras()
    if steps < 1:
        raise InputError(f"--steps must be >= 1, got {steps}")
    if minutes is not None and minutes <= 0:
        raise InputError(f"--minutes must be > 0, got {minutes}")
    if images < 1:
        raise InputError(f"--images must be >= 1, got {images}")
    out = Path(out)
    _prepare_out(out)
    t = _Timer()
    t0 = time.monotonic()
    source, data = t.run("synth + build", step_data, out, images, seed, quiet)
    loaded = t.run("load_dataset check", step_load_dataset, out, data, quiet)
    predictions = t.run("baselines", step_baselines, out, data, seed, quiet)
    training = t.run("train", step_train, out, data, steps, minutes, seed, overrides, quiet)
    checkpoint = Path(training["checkpoint"])
    predictions[MODEL_NAME] = t.run("predict", step_predict, out, data, checkpoint, quiet)
    results = t.run("score", step_score, out, data, predictions)
    tables = t.run("leaderboard", report.write_leaderboard, out / "leaderboard", results)
    metrics = report.metrics_of(results)
    config, split = VERDICT_SPLIT
    figures = t.run(
        "plots",
        plots.make_plots,
        out / "plots",
        data,
        out / "run" / "log.jsonl",
        predictions[MODEL_NAME][f"{config}/{split}"],
        {b: metrics[b] for b in TEXT_BLIND},
    )
    report_page = t.run("report", step_report, out, data, source, predictions, quiet)
    comparison = report.compare(metrics, MODEL_NAME, list(TEXT_BLIND))
    intervals = t.run(
        "margin intervals", report.margin_intervals, comparison, predictions, data, MODEL_NAME, seed=seed
    )
    for name, extra in intervals.items():
        comparison[name].update(extra)
    summary = report.build_summary(
        out=out,
        settings={
            "steps": steps,
            "minutes": minutes,
            "images": images,
            "seed": seed,
            "threads": THREADS,
            "overrides": list(overrides),
        },
        source=source,
        data=data,
        loaded=loaded,
        training=training,
        results=results,
        tables=tables,
        figures=figures,
        timings={**t.seconds, "total": round(time.monotonic() - t0, 2)},
        comparison=comparison,
    )
    summary["paths"]["report"] = str(report_page)
    write_json_atomic(out / "summary.json", summary)
    return summary
