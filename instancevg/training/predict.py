"""`predict`: a trained checkpoint + a built dataset split -> a predictions file (PREDICTIONS.md).

The model config and the tokenizer come from the checkpoint; the rows are predicted in the order of
the built dataset, one record per expression (``expr_id``, ``instances`` with ``bbox`` COCO xywh in
original pixels, ``score`` and ``segmentation``, ``mask``, ``no_target``, ``no_target_score``,
``points``), written as JSON lines (gzip when the name ends in ``.gz``), atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from evaluators.errors import InputError
from instancevg.training.checkpoint_io import load_checkpoint
from instancevg.training.data import GroundingDataset
from instancevg.training.inference import predict_dataset, write_predictions
from instancevg.training.rows import PREDICT_COLUMNS, load_rows
from instancevg.training.run_setup import torch_threads

__all__ = ["load_trained", "predict"]

logger = logging.getLogger(__name__)


def load_trained(checkpoint: str | Path, device: str | torch.device = "cpu"):
    """``(model in eval mode, config, tokenizer)`` from a training checkpoint."""
    from instancevg.config import config_from_dict
    from instancevg.model import InstanceVG
    from instancevg.tokenizer import Tokenizer

    ckpt = load_checkpoint(checkpoint)
    cfg = config_from_dict(ckpt["config"], source=f"{checkpoint}: config")
    if not ckpt.get("tokenizer"):
        raise InputError(f"{checkpoint}: field 'tokenizer': the checkpoint carries no tokenizer model")
    tokenizer = Tokenizer(ckpt["tokenizer"])
    model = InstanceVG(cfg)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise InputError(f"{checkpoint}: field 'model': weights do not fit the config: {exc}") from None
    return model.to(device).eval(), cfg, tokenizer


def predict(
    checkpoint: str | Path,
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
) -> Path:
    """Predict every row of ``config``/``split`` of the built dataset ``data_dir``; return ``out_path``.

    ``device`` defaults to CUDA when available; inference runs in fp32 (fp16 autocast on CUDA when
    the checkpoint's config has ``train.amp``); ``bf16`` opts into bfloat16 autocast on any device
    (faster on CPUs with bf16 instructions; numerics differ slightly). ``threads`` > 0 sets torch's
    intra-op threads for the call (restored afterwards).
    """
    with torch_threads(threads):
        return _predict(
            checkpoint,
            data_dir,
            config,
            split,
            out_path,
            batch_size,
            images_dir,
            device,
            num_workers,
            quiet,
            bf16,
        )


def _predict(
    checkpoint, data_dir, config, split, out_path, batch_size, images_dir, device, num_workers, quiet, bf16
):
    dev = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, cfg, tokenizer = load_trained(checkpoint, dev)
    rows = load_rows(data_dir, config, split, PREDICT_COLUMNS)
    dataset = GroundingDataset(
        rows, data_dir, tokenizer, cfg.img_size, cfg.max_tokens, images_dir, with_targets=False
    )
    records = predict_dataset(
        model,
        dataset,
        cfg,
        dev,
        batch_size,
        num_workers=num_workers,
        amp=bool(cfg.train.amp),
        quiet=quiet,
        desc=f"predict {config}/{split}",
        bf16=bf16,
    )
    path = write_predictions(records, out_path)
    logger.info("wrote %d predictions to %s", len(records), path)
    return path
