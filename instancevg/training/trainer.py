"""The training loop: `train(cfg, data_dir, out_dir, ...)` (also `vgbench train`).

One call trains ``cfg.train.epochs`` epochs of the official recipe (INSTANCEVG.md section 3) on
``options.data_config`` / ``options.train_split`` of a built dataset:

- Adam (amsgrad) with the encoder at ``train.lr_encoder`` and the head at ``train.lr``;
  `MultiStepLRWarmUp` stepped once per epoch; gradient norm clipped at ``train.grad_clip``.
- Seeds: ``train.seed`` before the model is built (same initial weights on every rank), then
  ``seed + rank`` for dropout; the sampler shuffles with ``seed`` and the epoch number.
- fp16 autocast + gradient scaling when ``train.amp`` and the device is CUDA; fp32 elsewhere.
- DistributedDataParallel when launched by ``torchrun`` (gloo on CPU, NCCL on CUDA), with a
  `DistributedSampler`; ``batch_size`` is per process.
- After each epoch: predict ``options.val_split`` and score it with `evaluators` (default protocol
  of each task of the data config), then write ``RUN/last.pt`` and ``RUN/epoch_{k}.pt``.
- ``RUN/log.jsonl``: losses and metrics (see `instancevg.training.logs`); tqdm progress on stderr.
- ``resume=True`` continues from ``RUN/last.pt``: model, optimizer, scheduler, scaler and every
  rank's RNG states are restored and the sampler skips the batches already done, so a run killed
  and resumed ends with the same weights as an uninterrupted one (bit-identical on the CPU).
- ``time_budget_s`` stops at the first step boundary past the budget (seconds since the call) and
  saves ``RUN/last.pt`` (mid-epoch when needed: ``step_in_epoch`` > 0); ``--resume`` continues it.
"""

from __future__ import annotations

import logging
import math
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from evaluators.errors import InputError
from instancevg.training import distributed as D
from instancevg.training.checkpoint_io import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from instancevg.training.data import GroundingDataset, collate
from instancevg.training.evaluation import score_predictions, tasks_for_config
from instancevg.training.inference import autocast, predict_dataset, write_predictions
from instancevg.training.logs import JsonlLog
from instancevg.training.optim import MultiStepLRWarmUp, build_optimizer
from instancevg.training.options import RunOptions
from instancevg.training.rows import list_splits, load_rows

__all__ = ["RESUMABLE_CHANGES", "seed_everything", "train"]

logger = logging.getLogger(__name__)

# Config fields that may differ between a checkpoint and the config given to a resumed run.
RESUMABLE_CHANGES = {"train.epochs", "train.num_workers"}
_OPTION_CHANGES = {
    "evaluate",
    "log_every",
    "keep_epoch_checkpoints",
    "eval_batch_size",
    "device",
    "images_dir",
}


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _check_resumable(ckpt: dict, cfg_dict: dict, options: RunOptions, path: Path) -> None:
    old, new = _flat(ckpt["config"]), _flat(cfg_dict)
    changed = sorted(
        k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES
    )
    old_opts = ckpt.get("options", {})
    changed += sorted(
        f"run.{k}"
        for k, v in options.to_dict().items()
        if k not in _OPTION_CHANGES and old_opts.get(k, v) != v
    )
    if changed:
        raise InputError(
            f"{path}: field 'config': the run was started with a different config ({', '.join(changed[:6])}); "
            f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change on --resume"
        )


def _val_split(data_dir: Path, options: RunOptions) -> str | None:
    if not options.evaluate:
        return None
    if options.val_split:
        return options.val_split
    splits = list_splits(data_dir, options.data_config)
    return next((s for s in ("val", "test") if s in splits), None)


def _tokenizer(cfg, options: RunOptions, rows, out_dir: Path, info: D.DistInfo, ckpt: dict | None):
    """The run's tokenizer: from the checkpoint, ``options.spm``, or trained on the train sentences."""
    from instancevg.tokenizer import Tokenizer

    if ckpt is not None and ckpt.get("tokenizer"):
        tok = Tokenizer(ckpt["tokenizer"])
    elif options.spm:
        tok = Tokenizer.from_file(options.spm)
    else:
        path = out_dir / "tokenizer.model"
        if info.is_main:
            try:
                Tokenizer.train((r["sentence"] for r in rows), out_dir / "tokenizer", cfg.vocab_size)
            except RuntimeError as exc:  # sentencepiece: e.g. fewer pieces allowed than characters seen
                raise InputError(
                    f"field 'vocab_size': cannot train a tokenizer of {cfg.vocab_size} ids: {exc}"
                ) from None
        D.barrier(info)
        tok = Tokenizer.from_file(path)
    if tok.vocab_size > cfg.vocab_size:
        raise InputError(
            f"field 'vocab_size': the tokenizer has {tok.vocab_size} ids but the model config only "
            f"{cfg.vocab_size}; raise vocab_size (--set vocab_size={tok.vocab_size})"
        )
    return tok


def _to_device(target: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in target.items()}


def _float32(obj: Any) -> Any:
    """Cast floating tensors (nested in dicts / lists) to fp32, so the loss runs outside autocast."""
    if torch.is_tensor(obj):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, dict):
        return {k: _float32(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_float32(v) for v in obj)
    return obj


def _copy_atomic(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Stop(Exception):
    """Raised inside the step loop when the time budget or ``max_steps`` is reached."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
        ``{"run_dir", "checkpoint", "epochs_completed", "global_step", "step_in_epoch",
        "stopped": "done" | "time_budget" | "max_steps", "metrics": {task: {key: value}} of the last
        evaluation or {}, "elapsed_s", "train_samples", "world_size"}``.
    """
    from instancevg.config import config_to_dict
    from instancevg.losses import InstanceVGCriterion
    from instancevg.model import InstanceVG

    t0 = time.monotonic()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    options = options or RunOptions()
    cfg_dict = config_to_dict(cfg)
    tc = cfg.train
    if tc.batch_size < 1 or tc.epochs < 0:
        raise InputError("field 'train.batch_size'/'train.epochs': batch_size must be >= 1 and epochs >= 0")
    last_path = out_dir / "last.pt"
    ckpt = None
    if resume:
        ckpt = load_checkpoint(last_path)
        _check_resumable(ckpt, cfg_dict, options, last_path)
    elif last_path.exists():
        raise InputError(
            f"{last_path}: the run folder already holds a checkpoint; pass --resume or a new --out"
        )

    info = D.setup(options.device or None)
    try:
        return _run(
            cfg,
            cfg_dict,
            data_dir,
            out_dir,
            options,
            info,
            ckpt,
            t0,
            time_budget_s,
            max_steps,
            quiet,
            InstanceVG,
            InstanceVGCriterion,
        )
    finally:
        D.cleanup(info)


def _run(
    cfg,
    cfg_dict,
    data_dir,
    out_dir,
    options,
    info,
    ckpt,
    t0,
    time_budget_s,
    max_steps,
    quiet,
    model_cls,
    criterion_cls,
) -> dict[str, Any]:
    tc = cfg.train
    device = info.device
    use_amp = bool(tc.amp) and device.type == "cuda"
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    D.barrier(info)
    log = JsonlLog(out_dir / "log.jsonl", enabled=info.is_main)
    try:
        train_rows = load_rows(data_dir, options.data_config, options.train_split)
        if not train_rows:
            raise InputError(
                f"{data_dir}: {options.data_config}/{options.train_split} has no rows to train on"
            )
        val_split = _val_split(data_dir, options)
        val_rows = load_rows(data_dir, options.data_config, val_split) if val_split else []
        tok = _tokenizer(cfg, options, train_rows, out_dir, info, ckpt)
        images_dir = options.images_dir or None
        train_set = GroundingDataset(train_rows, data_dir, tok, cfg.img_size, cfg.max_tokens, images_dir)
        val_set = (
            GroundingDataset(
                val_rows, data_dir, tok, cfg.img_size, cfg.max_tokens, images_dir, with_targets=False
            )
            if val_rows
            else None
        )
        tasks = tasks_for_config(options.data_config) if val_set is not None else ()

        seed_everything(tc.seed)
        model = model_cls(cfg).to(device)
        criterion = criterion_cls(cfg)
        optimizer = build_optimizer(model, tc)
        scheduler = MultiStepLRWarmUp(optimizer, tc.warmup_epochs, tc.decay_epochs, tc.decay_factor)
        scaler = torch.amp.GradScaler("cuda") if use_amp else None
        seed_everything(tc.seed + info.rank)
        epoch, step_in_epoch, global_step, metrics = 0, 0, 0, {}
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            if scaler is not None and ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
            epoch, step_in_epoch, global_step = ckpt["epoch"], ckpt["step_in_epoch"], ckpt["global_step"]
            metrics = ckpt.get("metrics") or {}
            rngs = ckpt["rng"]
            set_rng_state(rngs[info.rank] if len(rngs) == info.world_size else rngs[0])
            if len(rngs) != info.world_size:
                logger.warning(
                    "resuming on %d processes a run saved on %d: RNG streams differ",
                    info.world_size,
                    len(rngs),
                )
            log.write("resume", epoch=epoch, step_in_epoch=step_in_epoch, global_step=global_step)
        else:
            log.write(
                "start",
                config=cfg_dict,
                options=options.to_dict(),
                world_size=info.world_size,
                train_samples=len(train_set),
                val_split=val_split,
                tasks=list(tasks),
            )
        net = model
        if info.distributed:
            net = torch.nn.parallel.DistributedDataParallel(
                model,
                device_ids=[device.index] if device.type == "cuda" else None,
                find_unused_parameters=True,
            )
        tok_bytes = (
            (out_dir / "tokenizer.model").read_bytes() if (out_dir / "tokenizer.model").is_file() else None
        )
        if tok_bytes is None:
            tok_bytes = ckpt.get("tokenizer") if ckpt else Path(options.spm).read_bytes()
        deadline = t0 + time_budget_s if time_budget_s is not None else None

        def out_of_time() -> bool:
            late = deadline is not None and time.monotonic() >= deadline
            return bool(D.broadcast_object(late, info)) if info.distributed else late

        def checkpoint(path: Path) -> None:
            rngs = D.all_gather_objects(get_rng_state(), info)
            if info.is_main:
                save_checkpoint(
                    path,
                    {
                        "config": cfg_dict,
                        "options": options.to_dict(),
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict() if scaler is not None else None,
                        "epoch": epoch,
                        "step_in_epoch": step_in_epoch,
                        "global_step": global_step,
                        "rng": rngs,
                        "tokenizer": tok_bytes,
                        "metrics": metrics,
                        "world_size": info.world_size,
                    },
                )
            D.barrier(info)

        stopped = "done"
        params = [p for p in model.parameters() if p.requires_grad]
        while epoch < tc.epochs:
            sampler = DistributedSampler(
                train_set, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=tc.seed
            )
            sampler.set_epoch(epoch)
            order = list(sampler)
            loader = DataLoader(
                train_set,
                batch_size=tc.batch_size,
                sampler=order[step_in_epoch * tc.batch_size :],
                collate_fn=collate,
                num_workers=tc.num_workers,
                generator=torch.Generator().manual_seed(tc.seed * 1000 + epoch),
            )
            n_batches = math.ceil(len(order) / tc.batch_size)
            sums: dict[str, float] = {}
            n_done = 0
            t_epoch = time.monotonic()
            bar = None
            if not quiet and info.is_main:
                from tqdm import tqdm

                bar = tqdm(
                    total=n_batches,
                    initial=step_in_epoch,
                    desc=f"epoch {epoch + 1}/{tc.epochs}",
                    leave=False,
                    dynamic_ncols=True,
                )
            net.train()
            try:
                for batch in loader:
                    images = batch["images"].to(device, non_blocking=True)
                    text_ids = batch["text_ids"].to(device, non_blocking=True)
                    pad = batch["text_pad_mask"].to(device, non_blocking=True)
                    targets = [_to_device(t, device) for t in batch["targets"]]
                    with autocast(device, use_amp):
                        outputs = net(images, text_ids, pad)
                    losses = criterion(_float32(outputs), targets)
                    loss = losses["loss"]
                    if not torch.isfinite(loss):
                        ids = [m["expr_id"] for m in batch["metas"]][:4]
                        raise FloatingPointError(
                            f"epoch {epoch + 1} step {step_in_epoch + 1}: loss is {loss.item()} (batch {ids}...)"
                        )
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        scaler.unscale_(optimizer)
                        if tc.grad_clip > 0:
                            torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        loss.backward()
                        if tc.grad_clip > 0:
                            torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
                        optimizer.step()
                    step_in_epoch += 1
                    global_step += 1
                    n_done += 1
                    values = {
                        k: float(v.detach())
                        for k, v in losses.items()
                        if torch.is_tensor(v) and v.numel() == 1
                    }
                    for k, v in values.items():
                        sums[k] = sums.get(k, 0.0) + v
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{values['loss']:.3f}")
                    if options.log_every > 0 and global_step % options.log_every == 0:
                        log.write(
                            "step",
                            epoch=epoch + 1,
                            step=global_step,
                            step_in_epoch=step_in_epoch,
                            lr=[g["lr"] for g in optimizer.param_groups],
                            **values,
                        )
                    if max_steps is not None and global_step >= max_steps:
                        raise _Stop("max_steps")
                    if step_in_epoch < n_batches and out_of_time():
                        raise _Stop("time_budget")
            except _Stop as stop:
                stopped = stop.reason
            finally:
                if bar is not None:
                    bar.close()
            means = _epoch_means(sums, n_done, info)
            if stopped != "done" and step_in_epoch < n_batches:
                log.write(
                    "partial_epoch",
                    epoch=epoch + 1,
                    step_in_epoch=step_in_epoch,
                    batches=n_done,
                    seconds=round(time.monotonic() - t_epoch, 3),
                    **{f"mean_{k}": v for k, v in means.items()},
                )
                checkpoint(out_dir / "last.pt")
                break
            scheduler.step()
            epoch += 1
            step_in_epoch = 0
            log.write(
                "epoch",
                epoch=epoch,
                batches=n_done,
                seconds=round(time.monotonic() - t_epoch, 3),
                **{f"mean_{k}": v for k, v in means.items()},
            )
            logger.info("epoch %d/%d: loss %.4f", epoch, tc.epochs, means.get("loss", float("nan")))
            if val_set is not None and stopped == "done" and not out_of_time():
                metrics = _evaluate(
                    model,
                    val_set,
                    cfg,
                    options,
                    val_split,
                    data_dir,
                    out_dir,
                    epoch,
                    info,
                    use_amp,
                    quiet,
                    log,
                )
            checkpoint(out_dir / "last.pt")
            if options.keep_epoch_checkpoints and info.is_main:
                _copy_atomic(out_dir / "last.pt", out_dir / f"epoch_{epoch}.pt")
            if stopped != "done":
                break
            if epoch < tc.epochs and out_of_time():
                stopped = "time_budget"
                break
        if ckpt is None and global_step == 0 and not (out_dir / "last.pt").exists():
            checkpoint(out_dir / "last.pt")  # zero epochs asked: still leave a loadable checkpoint
        elapsed = round(time.monotonic() - t0, 3)
        log.write(
            "stop",
            reason=stopped,
            epoch=epoch,
            step_in_epoch=step_in_epoch,
            global_step=global_step,
            elapsed_s=elapsed,
        )
        return {
            "run_dir": str(out_dir),
            "checkpoint": str(out_dir / "last.pt"),
            "epochs_completed": epoch,
            "global_step": global_step,
            "step_in_epoch": step_in_epoch,
            "stopped": stopped,
            "metrics": metrics,
            "elapsed_s": elapsed,
            "train_samples": len(train_set),
            "world_size": info.world_size,
        }
    finally:
        log.close()


def _epoch_means(sums: dict[str, float], n: int, info: D.DistInfo) -> dict[str, float]:
    """Mean of each loss term over the batches of this epoch, over all ranks."""
    keys = sorted(sums)
    if info.distributed:
        gathered = D.all_gather_objects((sums, n), info)
        n = sum(c for _, c in gathered)
        sums = {k: sum(s.get(k, 0.0) for s, _ in gathered) for k in keys}
    return {k: sums[k] / n for k in keys} if n else {}


def _evaluate(model, val_set, cfg, options, split, data_dir, out_dir, epoch, info, use_amp, quiet, log):
    """Predict ``split`` with the bare model, score it on the main rank, share the metrics."""
    from evaluators.results import write_json_atomic

    batch = options.eval_batch_size or cfg.train.batch_size
    records = predict_dataset(
        model, val_set, cfg, info.device, batch, info, amp=use_amp, quiet=quiet, desc=f"eval {split}"
    )
    metrics: dict[str, Any] = {}
    if info.is_main:
        preds = write_predictions(records, out_dir / "eval" / f"epoch_{epoch}_{split}.jsonl")
        results = score_predictions(preds, data_dir, options.data_config, split)
        write_json_atomic(out_dir / "eval" / f"epoch_{epoch}_{split}.json", results)
        metrics = {task: r["metrics"] for task, r in results.items()}
        log.write("eval", epoch=epoch, split=split, metrics=metrics, predictions=str(preds))
        for task, m in metrics.items():
            shown = ", ".join(f"{k} {v:.2f}" for k, v in m.items() if isinstance(v, (int, float)))
            logger.info("epoch %d %s/%s: %s", epoch, split, task, shown)
    return D.broadcast_object(metrics, info)
