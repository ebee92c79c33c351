"""`predict`: a checkpoint + a built dataset split -> a predictions file (docs/formats.md#predictions-file).

Two kinds of checkpoint: a vgbench training checkpoint (model config and tokenizer inside), or one of the
authors' released InstanceVG checkpoints (detected from its layout, `instancevg.official`; sizes from the
tensor shapes, the BEiT-3 SentencePiece model ``beit3.spm`` given separately, the official test-time input
pipeline and post-processing). The rows are predicted in the order of the built dataset, one record per
expression (``expr_id``, ``instances`` with ``bbox`` COCO xywh in original pixels, ``score`` and
``segmentation``, ``mask``, ``no_target``, ``no_target_score``, ``points``), written as JSON lines (gzip when the
name ends in ``.gz``), atomically. Under ``torchrun`` each process predicts every ``world_size``-th row and rank 0
writes the one merged file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NamedTuple

import torch

from evaluators.errors import InputError
from evaluators.predictions_writer import write_predictions
from instancevg.runtime import ModelRuntime
from instancevg.training.checkpoint_io import load_checkpoint
from instancevg.training.data import GroundingDataset
from instancevg.training.distributed import barrier, cleanup, setup
from instancevg.training.inference import predict_dataset
from instancevg.training.rows import PREDICT_COLUMNS, load_rows
from instancevg.training.run_setup import torch_threads

__all__ = ["LoadedModel", "load_for_prediction", "load_trained", "predict"]

logger = logging.getLogger(__name__)


def load_trained(
    checkpoint: str | Path, device: str | torch.device = "cpu", runtime: ModelRuntime | None = None
):
    """``(model in eval mode, config, tokenizer)`` from a training checkpoint (its config in the nested form, or
    the flat form of older versions); ``runtime``: the model's run-time switches (default `ModelRuntime()`)."""
    from instancevg.build import build_model
    from instancevg.config import config_from_dict
    from instancevg.tokenizer import Tokenizer

    ckpt = load_checkpoint(checkpoint)
    cfg = config_from_dict(ckpt["config"], source=f"{checkpoint}: config")
    if not ckpt.get("tokenizer"):
        raise InputError(f"{checkpoint}: field 'tokenizer': the checkpoint carries no tokenizer model")
    tokenizer = Tokenizer(ckpt["tokenizer"])
    model = build_model(cfg, runtime)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise InputError(f"{checkpoint}: field 'model': weights do not fit the config: {exc}") from None
    return model.to(device).eval(), cfg, tokenizer


class LoadedModel(NamedTuple):
    """What `load_for_prediction` returns; `predict` also takes it in place of a checkpoint path, so that a
    caller predicting several splits (``vgbench reproduce``) reads the checkpoint once."""

    model: torch.nn.Module
    cfg: Any
    tokenizer: Any
    official: bool


def load_for_prediction(
    checkpoint: str | Path,
    device: str | torch.device = "cpu",
    spm: str | Path | None = None,
    overrides: dict | None = None,
    runtime: ModelRuntime | None = None,
):
    """`LoadedModel` ``(model in eval mode on device, config, tokenizer, official)`` from either kind of checkpoint.

    An official checkpoint needs ``spm`` (BEiT-3's ``beit3.spm``); ``overrides`` are config fields for it
    (`instancevg.official.load_official`). A vgbench checkpoint takes neither. ``runtime``: the model's run-time
    switches (`instancevg.runtime.ModelRuntime`), for either kind.
    """
    from instancevg.official import load_official, looks_official
    from instancevg.tokenizer import Tokenizer

    if looks_official(checkpoint):
        if spm is None:
            raise InputError(
                f"{checkpoint}: an official InstanceVG checkpoint carries no tokenizer: pass --spm beit3.spm "
                "(BEiT-3's SentencePiece model)"
            )
        model = load_official(checkpoint, runtime=runtime, **(overrides or {}))
        return LoadedModel(model.to(device), model.cfg, Tokenizer.from_file(spm), True)
    if spm is not None or overrides:
        raise InputError(f"{checkpoint}: --spm and --set apply to official InstanceVG checkpoints only")
    model, cfg, tokenizer = load_trained(checkpoint, device, runtime)
    return LoadedModel(model, cfg, tokenizer, False)


def predict(
    checkpoint: str | Path | LoadedModel,
    data_dir: str | Path,
    config: str,
    split: str,
    out_path: str | Path,
    batch_size: int = 16,
    images_dir: str | Path | None = None,
    device: str | None = None,
    num_workers: int = 0,
    quiet: bool = False,
    threads: int = 0,
    bf16: bool = False,
    fp16: bool = False,
    spm: str | Path | None = None,
    overrides: dict | None = None,
    runtime: ModelRuntime | None = None,
) -> Path:
    """Predict every row of ``config``/``split`` of the built dataset ``data_dir``; return ``out_path``.

    ``device`` defaults to CUDA when available (``cuda:LOCAL_RANK`` under torchrun); inference runs in fp32
    (fp16 autocast on CUDA when a vgbench checkpoint's config has ``train.amp``, or with ``fp16``); ``bf16`` opts
    into bfloat16 autocast on any device (faster on CPUs with bf16 instructions; numerics differ slightly).
    ``threads`` > 0 sets torch's intra-op threads for the call (restored afterwards). ``spm`` and ``overrides``:
    ``runtime``: see `load_for_prediction`; with a `LoadedModel` in place of the checkpoint path they are not used.
    """
    if fp16 and bf16:
        raise InputError("--fp16 and --bf16: choose one precision")
    with torch_threads(threads):
        info = setup(device)
        try:
            return _predict(
                checkpoint, data_dir, config, split, out_path, batch_size, images_dir, info, num_workers,
                quiet, bf16, fp16, spm, overrides, runtime,
            )  # fmt: skip
        finally:
            cleanup(info)


def _predict(
    checkpoint, data_dir, config, split, out_path, batch_size, images_dir, info, num_workers, quiet, bf16, fp16,
    spm, overrides, runtime,
):  # fmt: skip
    dev = info.device
    if fp16 and dev.type != "cuda":
        raise InputError(f"--fp16: float16 autocast needs a CUDA device, not {dev}")
    if isinstance(checkpoint, LoadedModel):
        model, cfg, tokenizer, official = checkpoint
        model = model.to(dev)
    else:
        model, cfg, tokenizer, official = load_for_prediction(checkpoint, dev, spm, overrides, runtime)
    rows = load_rows(data_dir, config, split, PREDICT_COLUMNS)
    image_loader = None
    if official:
        from instancevg.official.inputs import official_image_loader

        image_loader = official_image_loader(data_dir, images_dir, cfg.input.img_size)
    dataset = GroundingDataset(
        rows,
        data_dir,
        tokenizer,
        cfg.input.img_size,
        cfg.input.max_tokens,
        images_dir,
        with_targets=False,
        image_loader=image_loader,
    )
    records = predict_dataset(
        model,
        dataset,
        cfg,
        dev,
        batch_size,
        info=info,
        num_workers=num_workers,
        amp=bool(cfg.train.amp) or fp16,
        quiet=quiet,
        desc=f"predict {config}/{split}",
        bf16=bf16,
    )
    path = Path(out_path)
    if info.is_main:
        write_predictions(path, records)
        logger.info("wrote %d predictions to %s", len(records), path)
    barrier(info)
    return path
