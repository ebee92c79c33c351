"""The training loop: `train(cfg, data_dir, out_dir, ...)` (also `vgbench train`).

One call trains ``cfg.train.epochs`` epochs of the official recipe (docs/training.md) on
``options.data_config`` / ``options.train_split`` of a built dataset:

- Adam (amsgrad) with the encoder at ``train.lr_encoder`` and the head at ``train.lr``;
  `MultiStepLRWarmUp` stepped once per epoch; gradient norm clipped at ``train.grad_clip``.
- Seeds: ``train.seed`` before the model is built (same initial weights on every rank), then
  ``seed + rank`` for dropout; the sampler shuffles with ``seed`` and the epoch number.
- fp16 autocast + gradient scaling when ``train.amp`` and the device is CUDA; bf16 autocast of the forward pass
  on any device when ``train.bf16`` (no scaling; it takes precedence over ``amp``); fp32 otherwise.
- DistributedDataParallel when launched by ``torchrun`` (gloo on CPU, NCCL on CUDA), with a
  `DistributedSampler`; ``batch_size`` is per process.
- After each epoch: predict ``options.val_split`` of ``options.eval_config`` and score it with
  `evaluators` (default protocol of each task of that config), then write ``RUN/last.pt`` and
  ``RUN/epoch_{k}.pt``.
- ``RUN/log.jsonl``: losses and metrics (see `instancevg.training.logs`); tqdm progress on stderr.
- ``resume=True`` continues from ``RUN/last.pt``: model, optimizer, scheduler, scaler and every
  rank's RNG states are restored and the sampler skips the batches already done, so a run killed
  and resumed ends with the same weights as an uninterrupted one (bit-identical on the CPU).
- ``time_budget_s`` stops at the first step boundary past the budget (seconds since the call) and
  saves ``RUN/last.pt`` (mid-epoch when needed: ``step_in_epoch`` > 0); ``--resume`` continues it.
  With ``options.fit_schedule`` the schedule is shortened to the budget after each epoch until the
  first decay (`instancevg.training.optim.fit_schedule`; a ``schedule`` record in the log says so).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler

from evaluators.atomic import copy_atomic
from evaluators.errors import InputError
from evaluators.predictions_writer import write_predictions
from evaluators.progress import progress_bar
from instancevg.training import distributed as D
from instancevg.training.checkpoint_io import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from instancevg.training.data import GroundingDataset, collate
from instancevg.training.evaluation import score_predictions, selection_value, tasks_for_config
from instancevg.training.inference import predict_dataset
from instancevg.training.logs import JsonlLog
from instancevg.training.optim import MultiStepLRWarmUp, build_optimizer, fit_schedule
from instancevg.training.options import RunOptions
from instancevg.training.rows import PREDICT_COLUMNS, load_rows
from instancevg.training.run_setup import (
    check_resumable,
    prepare_tokenizer,
    resolve_val_split,
    seed_everything,
    torch_threads,
)
from instancevg.training.steps import TrainStep

__all__ = ["Trainer", "train"]

logger = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised inside the step loop when the time budget or ``max_steps`` is reached."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Trainer:
    """One training run on one process (of ``info.world_size``); `train` is the way to use it.

    Attributes after construction: ``model`` (bare module), ``net`` (DDP wrapper or the model),
    ``optimizer``, ``scheduler``, ``scaler``, ``train_set`` / ``val_set`` and the progress counters
    ``epoch`` (completed epochs), ``step_in_epoch``, ``global_step``; ``metrics`` of the last evaluation.
    """

    def __init__(
        self,
        cfg,
        data_dir: Path,
        out_dir: Path,
        options: RunOptions,
        info: D.DistInfo,
        log: JsonlLog,
        ckpt: dict[str, Any] | None = None,
        quiet: bool = False,
    ):
        from instancevg.config import config_to_dict

        self.cfg, self.cfg_dict, self.options, self.info = cfg, config_to_dict(cfg), options, info
        self.data_dir, self.out_dir, self.log, self.quiet = data_dir, out_dir, log, quiet
        self.bf16 = bool(cfg.train.bf16)
        self.amp = bool(cfg.train.amp) and info.device.type == "cuda" and not self.bf16
        self._build_datasets(ckpt)
        # the order matters for exact reproduction: weights from train.seed, then dropout from seed + rank
        seed_everything(cfg.train.seed)
        self._build_model()
        self._build_optimization()
        seed_everything(cfg.train.seed + info.rank)
        self._restore_or_start(ckpt)
        self._build_step()

    # ------------------------------------------------------------------ construction steps
    def _build_datasets(self, ckpt: dict[str, Any] | None) -> None:
        """``train_set`` / ``val_set`` (None without evaluation), ``val_split`` and the tokenizer (from the
        checkpoint, ``options.spm``, or trained on the train sentences)."""
        cfg, options, data_dir = self.cfg, self.options, self.data_dir
        rows = load_rows(data_dir, options.data_config, options.train_split)
        if not rows:
            raise InputError(
                f"{data_dir}: {options.data_config}/{options.train_split} has no rows to train on"
            )
        self.val_split = resolve_val_split(data_dir, options)
        val_rows = (
            load_rows(data_dir, options.eval_config, self.val_split, PREDICT_COLUMNS)
            if self.val_split
            else []
        )
        tok, self.tokenizer_bytes = prepare_tokenizer(
            cfg, options, (r["sentence"] for r in rows), self.out_dir, self.info, ckpt
        )
        images = options.images_dir or None
        size, length = cfg.input.img_size, cfg.input.max_tokens
        self.train_set = GroundingDataset(
            rows, data_dir, tok, size, length, images, hflip=cfg.train.hflip, seed=cfg.train.seed
        )
        self.val_set = (
            GroundingDataset(val_rows, data_dir, tok, size, length, images, with_targets=False)
            if val_rows
            else None
        )

    def _build_model(self) -> None:
        """``model`` on the run's device, with the run-time options (`RunOptions.model_runtime`)."""
        from instancevg.build import build_model

        self.model = build_model(self.cfg, self.options.model_runtime()).to(self.info.device)

    def _build_optimization(self) -> None:
        """``optimizer`` (two learning-rate groups), the epoch ``scheduler`` and the fp16 ``scaler`` (or None)."""
        tc = self.cfg.train
        self.optimizer = build_optimizer(self.model, tc)
        self.scheduler = MultiStepLRWarmUp(self.optimizer, tc.warmup_epochs, tc.decay_epochs, tc.decay_factor)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None

    def _restore_or_start(self, ckpt: dict[str, Any] | None) -> None:
        """Progress counters: restored from ``ckpt`` (``resume``), else zero and a ``start`` log record."""
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.planned_epochs, self.schedule_fitted = self.cfg.train.epochs, False
        self.metrics: dict[str, Any] = {}
        self.best: dict[str, Any] = {}  # {"metric": "task/key", "value", "epoch"} of RUN/best.pt
        self.max_steps: int | None = None  # set by `fit`; the progress bar and ETA count towards it
        self.bar = None  # the run's tqdm bar while `fit` runs
        if ckpt is not None:
            self._restore(ckpt)
            return
        tasks = tasks_for_config(self.options.eval_config) if self.val_set is not None else ()
        self.log.write(
            "start",
            config=self.cfg_dict,
            options=self.options.to_dict(),
            world_size=self.info.world_size,
            train_samples=len(self.train_set),
            val_split=self.val_split,
            tasks=list(tasks),
        )

    def _build_step(self) -> None:
        """``net`` (the DistributedDataParallel wrapper when distributed, else the model) and the optimizer
        ``step`` with the criterion (`instancevg.build.build_criterion`)."""
        from instancevg.build import build_criterion

        info, dev = self.info, self.info.device
        self.net = self.model
        if info.distributed:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[dev.index] if dev.type == "cuda" else None,
                find_unused_parameters=self.options.ddp_find_unused,
            )
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.step = TrainStep(
            self.net,
            build_criterion(self.cfg),
            self.optimizer,
            params,
            self.cfg.train.grad_clip,
            dev,
            self.amp,
            self.scaler,
            bf16=self.bf16,
        )

    # ------------------------------------------------------------------ state
    def _restore(self, ckpt: dict[str, Any]) -> None:
        try:
            self._restore_state(ckpt)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(
                f"{self.out_dir / 'last.pt'}: checkpoint: cannot restore the training state: {reason}"
            ) from None
        self.log.write(
            "resume", epoch=self.epoch, step_in_epoch=self.step_in_epoch, global_step=self.global_step
        )

    def _restore_state(self, ckpt: dict[str, Any]) -> None:
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        if self.scaler is not None and ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        self.epoch, self.step_in_epoch = ckpt["epoch"], ckpt["step_in_epoch"]
        self.global_step, self.metrics = ckpt["global_step"], ckpt.get("metrics") or {}
        self.best = ckpt.get("best") or {}
        if ckpt.get("schedule_fitted"):
            self.schedule_fitted = True
            self.planned_epochs = min(int(ckpt["planned_epochs"]), self.cfg.train.epochs)
        rngs, world = ckpt["rng"], self.info.world_size
        set_rng_state(rngs[self.info.rank] if len(rngs) == world else rngs[0])
        if len(rngs) != world:
            logger.warning("resuming on %d processes a run saved on %d: RNG streams differ", world, len(rngs))

    def save(self, path: Path) -> None:
        """Write a checkpoint (collective: every rank calls it; the main rank writes)."""
        rngs = D.all_gather_objects(get_rng_state(), self.info)
        if self.info.is_main:
            save_checkpoint(
                path,
                {
                    "config": self.cfg_dict,
                    "options": self.options.to_dict(),
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                    "epoch": self.epoch,
                    "step_in_epoch": self.step_in_epoch,
                    "global_step": self.global_step,
                    "rng": rngs,
                    "tokenizer": self.tokenizer_bytes,
                    "metrics": self.metrics,
                    "best": self.best,
                    "world_size": self.info.world_size,
                    "planned_epochs": self.planned_epochs,
                    "schedule_fitted": self.schedule_fitted,
                },
            )
        D.barrier(self.info)

    # ------------------------------------------------------------------ one epoch
    def _loader(self) -> tuple[DataLoader, int]:
        """This rank's loader for the current epoch (minus the batches already done) and its full length."""
        tc, info = self.cfg.train, self.info
        sampler = DistributedSampler(
            self.train_set, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=tc.seed
        )
        sampler.set_epoch(self.epoch)
        self.train_set.set_epoch(self.epoch)
        order = list(sampler)
        loader = DataLoader(
            self.train_set,
            batch_size=tc.batch_size,
            sampler=order[self.step_in_epoch * tc.batch_size :],
            collate_fn=collate,
            num_workers=tc.num_workers,
            generator=torch.Generator().manual_seed(tc.seed * 1000 + self.epoch),  # not the global RNG
        )
        return loader, math.ceil(len(order) / tc.batch_size)

    def train_epoch(self, should_stop) -> tuple[dict[str, float], int, str, bool]:
        """Run the rest of the current epoch; ``should_stop(last_batch: bool) -> reason | None``.

        Returns (mean of each loss term over all ranks, batches done, stop reason or "done", whether the
        epoch is complete).
        """
        loader, n_batches = self._loader()
        sums: dict[str, float] = {}
        done, reason = 0, "done"
        bar = self.bar
        self.net.train()
        try:
            for batch in loader:
                values = self.step(batch, where=f"epoch {self.epoch + 1} step {self.step_in_epoch + 1}")
                self.step_in_epoch += 1
                self.global_step += 1
                done += 1
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=self.epoch + 1, loss=f"{values['loss']:.3f}")
                if self.options.log_every > 0 and self.global_step % self.options.log_every == 0:
                    self.log.write(
                        "step",
                        epoch=self.epoch + 1,
                        step=self.global_step,
                        step_in_epoch=self.step_in_epoch,
                        lr=[g["lr"] for g in self.optimizer.param_groups],
                        **values,
                    )
                stop = should_stop(self.step_in_epoch >= n_batches)
                if stop:
                    raise _Stop(stop)
        except _Stop as exc:
            reason = exc.reason
        return _mean_over_ranks(sums, done, self.info), done, reason, self.step_in_epoch >= n_batches

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict[str, Any]:
        """Predict the val split with the bare model, score it on the main rank, share the metrics."""
        from evaluators.atomic import write_json_atomic

        split, info = self.val_split, self.info
        batch = self.options.eval_batch_size or self.cfg.train.batch_size
        records = predict_dataset(
            self.model,
            self.val_set,
            self.cfg,
            info.device,
            batch,
            info,
            amp=self.amp,
            quiet=self.quiet,
            desc=f"eval {split}",
        )
        metrics: dict[str, Any] = {}
        if info.is_main:
            stem = self.out_dir / "eval" / f"epoch_{self.epoch}_{self.options.eval_config}_{split}"
            preds = stem.with_suffix(".jsonl")
            write_predictions(preds, records)
            results = score_predictions(preds, self.data_dir, self.options.eval_config, split)
            write_json_atomic(stem.with_suffix(".json"), results)
            metrics = {task: r["metrics"] for task, r in results.items()}
            self.log.write(
                "eval",
                epoch=self.epoch,
                config=self.options.eval_config,
                split=split,
                metrics=metrics,
                predictions=str(preds),
            )
            for task, m in metrics.items():
                shown = ", ".join(f"{k} {v:.2f}" for k, v in m.items() if isinstance(v, (int, float)))
                logger.info("epoch %d %s/%s: %s", self.epoch, split, task, shown)
        metrics = D.broadcast_object(metrics, info)
        picked = selection_value(metrics)
        if picked is not None and (not self.best or picked[1] > self.best["value"]):
            self.best = {"metric": picked[0], "value": picked[1], "epoch": self.epoch}
        return metrics

    # ------------------------------------------------------------------ the run
    def refit_schedule(self, deadline: float | None, started: float, epochs_at_start: int) -> None:
        """With ``options.fit_schedule`` and a deadline, shorten the schedule to the time left (see
        `fit_schedule`); a no-op once the next epoch is decayed. Rank 0's clock decides."""
        sched = self.scheduler
        if deadline is None or not self.options.fit_schedule or self.epoch <= epochs_at_start:
            return
        if any(s <= self.epoch + 1 for s in sched.decay_epochs):
            return
        now = time.monotonic()
        pace = (now - started) / (self.epoch - epochs_at_start)
        tc = self.cfg.train  # always planned from the configured schedule: no compounding, and a faster
        plan = fit_schedule(  # pace later on can lengthen the plan again (up to train.epochs)
            tc.epochs, tc.decay_epochs, sched.warmup_epochs, self.epoch, pace, deadline - now
        )
        epochs, decays = D.broadcast_object(plan, self.info) if self.info.distributed else plan
        if epochs == self.planned_epochs and decays == sched.decay_epochs:
            return
        self.planned_epochs, self.schedule_fitted = epochs, True
        sched.set_decay_epochs(decays)
        if self.bar is not None:
            self.bar.total = self.planned_steps()
        self.log.write(
            "schedule",
            epoch=self.epoch,
            epochs=epochs,
            decay_epochs=list(decays),
            seconds_per_epoch=round(pace, 3),
        )
        logger.info("schedule fitted to the time budget: %d epochs, decay at %s", epochs, list(decays))

    def fit(self, deadline: float | None = None, max_steps: int | None = None) -> str:
        """Train until ``train.epochs``, the ``deadline`` (``time.monotonic()``) or ``max_steps``.

        Returns the stop reason: ``"done"``, ``"time_budget"`` or ``"max_steps"``.
        """
        info = self.info

        def out_of_time() -> bool:  # rank 0's clock decides, so that every rank stops at the same step
            if deadline is None:
                return False
            late = time.monotonic() >= deadline
            return bool(D.broadcast_object(late, info)) if info.distributed else late

        def should_stop(last_batch: bool) -> str | None:
            if max_steps is not None and self.global_step >= max_steps:
                return "max_steps"
            return "time_budget" if not last_batch and out_of_time() else None

        started, epochs_at_start, steps_at_start = time.monotonic(), self.epoch, self.global_step
        self.max_steps = max_steps
        self.bar = self._progress_bar()
        try:
            return self._fit_epochs(
                out_of_time, should_stop, deadline, started, epochs_at_start, steps_at_start
            )
        finally:
            if self.bar is not None:
                self.bar.close()

    def planned_steps(self) -> int:
        """Optimizer steps of the whole run as planned now: the epochs of the schedule, capped by
        ``max_steps``."""
        per_epoch = math.ceil(len(self.train_set) / self.info.world_size / self.cfg.train.batch_size)
        total = self.planned_epochs * per_epoch
        return total if self.max_steps is None else min(total, self.max_steps)

    def _progress_bar(self):
        """One bar on stderr over the run's optimizer steps, with its ETA (`evaluators.progress`: shown
        only on a terminal and when not quiet)."""
        return progress_bar(
            self.planned_steps(),
            "train",
            quiet=self.quiet or not self.info.is_main,
            initial=self.global_step,
            unit="step",
            dynamic_ncols=True,
        )

    def _log_progress(self, started: float, steps_at_start: int) -> None:
        """An INFO line per epoch: steps done of planned, and the ETA at this run's pace so far."""
        total, done = self.planned_steps(), self.global_step - steps_at_start
        if done <= 0:
            return
        left = max(0, total - self.global_step) * (time.monotonic() - started) / done
        logger.info(
            "step %d/%d, about %dm%02ds left", self.global_step, total, int(left // 60), int(left % 60)
        )

    def _fit_epochs(
        self, out_of_time, should_stop, deadline, started, epochs_at_start, steps_at_start
    ) -> str:
        info, last = self.info, self.out_dir / "last.pt"
        reason = "done"
        while self.epoch < self.planned_epochs:
            t_epoch = time.monotonic()
            means, batches, reason, complete = self.train_epoch(should_stop)
            seconds = round(time.monotonic() - t_epoch, 3)
            mean_fields = {f"mean_{k}": v for k, v in means.items()}
            if not complete:
                self.log.write(
                    "partial_epoch",
                    epoch=self.epoch + 1,
                    step_in_epoch=self.step_in_epoch,
                    batches=batches,
                    seconds=seconds,
                    **mean_fields,
                )
                self.save(last)
                return reason
            self.scheduler.step()
            self.epoch += 1
            self.step_in_epoch = 0
            self.log.write("epoch", epoch=self.epoch, batches=batches, seconds=seconds, **mean_fields)
            logger.info(
                "epoch %d/%d: loss %.4f", self.epoch, self.planned_epochs, means.get("loss", math.nan)
            )
            best_before = self.best.get("epoch")
            if self.val_set is not None and reason == "done" and not out_of_time():
                self.metrics = self.evaluate()
            if reason == "done":
                self.refit_schedule(deadline, started, epochs_at_start)
            self._log_progress(started, steps_at_start)
            self.save(last)
            if info.is_main and self.best.get("epoch") == self.epoch and best_before != self.epoch:
                copy_atomic(last, self.out_dir / "best.pt")
            if self.options.keep_epoch_checkpoints and info.is_main:
                copy_atomic(last, self.out_dir / f"epoch_{self.epoch}.pt")
            if reason != "done":
                return reason
            if self.epoch < self.planned_epochs and out_of_time():
                return "time_budget"
        if not last.exists():  # zero epochs asked: still leave a loadable checkpoint
            self.save(last)
        return reason


def _mean_over_ranks(sums: dict[str, float], n: int, info: D.DistInfo) -> dict[str, float]:
    """Mean of each loss term over the batches of all ranks."""
    keys = sorted(sums)
    if info.distributed:
        gathered = D.all_gather_objects((sums, n), info)
        n = sum(c for _, c in gathered)
        sums = {k: sum(s.get(k, 0.0) for s, _ in gathered) for k in keys}
    return {k: sums[k] / n for k in keys} if n else {}


def train(
    cfg,
    data_dir: str | Path,
    out_dir: str | Path,
    time_budget_s: float | None = None,
    resume: bool = False,
    quiet: bool = False,
    options: RunOptions | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train InstanceVG; return a summary dict.

    Args:
        cfg: an `instancevg.config.InstanceVGConfig`.
        data_dir: a built dataset (``vgbench build --out``).
        out_dir: the run folder (``log.jsonl``, ``tokenizer.model``, ``last.pt``, ``epoch_{k}.pt``,
            ``eval/``). Must not hold a checkpoint unless ``resume``.
        time_budget_s: stop cleanly at the first step boundary after this many seconds.
        resume: continue from ``out_dir/last.pt`` (the config must match; see `RESUMABLE_CHANGES`).
        quiet: no progress bars.
        options: `RunOptions` (data config, splits, evaluation); defaults when None.
        max_steps: stop after this many optimizer steps in all (counted across resumes).

    Returns:
        ``{"run_dir", "checkpoint", "epochs_completed", "planned_epochs", "global_step", "step_in_epoch",
        "stopped": "done" | "time_budget" | "max_steps", "metrics": {task: {key: value}} of the last
        evaluation or {}, "elapsed_s", "train_samples", "world_size", "precision": "fp32" | "fp16" | "bf16"}``
        (the forward pass's precision; weights and loss are fp32).
    """
    from instancevg.config import config_to_dict

    t0 = time.monotonic()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    options = options or RunOptions()
    if cfg.train.batch_size < 1 or cfg.train.epochs < 0:
        raise InputError("field 'train.batch_size'/'train.epochs': batch_size must be >= 1 and epochs >= 0")
    last = out_dir / "last.pt"
    ckpt = None
    if resume:
        ckpt = load_checkpoint(last)
        check_resumable(ckpt, config_to_dict(cfg), options, last)
    elif last.exists():
        raise InputError(f"{last}: the run folder already holds a checkpoint; pass --resume or a new --out")

    info = D.setup(options.device or None)
    try:
        if info.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
        D.barrier(info)
        with torch_threads(options.threads), JsonlLog(out_dir / "log.jsonl", enabled=info.is_main) as log:
            trainer = Trainer(cfg, data_dir, out_dir, options, info, log, ckpt, quiet)
            deadline = t0 + time_budget_s if time_budget_s is not None else None
            stopped = trainer.fit(deadline, max_steps)
            elapsed = round(time.monotonic() - t0, 3)
            log.write(
                "stop",
                reason=stopped,
                epoch=trainer.epoch,
                step_in_epoch=trainer.step_in_epoch,
                global_step=trainer.global_step,
                elapsed_s=elapsed,
            )
        return {
            "run_dir": str(out_dir),
            "checkpoint": str(last),
            "epochs_completed": trainer.epoch,
            "planned_epochs": trainer.planned_epochs,
            "global_step": trainer.global_step,
            "step_in_epoch": trainer.step_in_epoch,
            "stopped": stopped,
            "metrics": trainer.metrics,
            "elapsed_s": elapsed,
            "train_samples": len(trainer.train_set),
            "world_size": info.world_size,
            "precision": "bf16" if trainer.bf16 else ("fp16" if trainer.amp else "fp32"),
        }
    finally:
        D.cleanup(info)
