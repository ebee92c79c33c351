"""Training checkpoints: ``RUN/last.pt`` and ``RUN/epoch_{k}.pt`` (k = completed epochs, 1-based).

A checkpoint is a dict (``torch.save``, loaded with ``weights_only=False`` because it holds the RNG
states and plain config dicts; load only checkpoints you trust):

- ``format``: ``"vgbench-instancevg-train"``, ``format_version``: 1
- ``config``: the model config as a plain dict (`instancevg.config.config_to_dict`)
- ``options``: the run options dict (data config, splits; `RunOptions`)
- ``model``: the model ``state_dict`` (unwrapped from DDP)
- ``optimizer``, ``scheduler``, ``scaler`` (``None`` without AMP): their ``state_dict``
- ``epoch``: completed epochs; ``step_in_epoch``: batches already done in epoch ``epoch`` (0 at an
  epoch boundary, > 0 when a time budget stopped the run mid-epoch); ``global_step``
- ``rng``: python, numpy, torch CPU (and CUDA when present) generator states
- ``tokenizer``: the SentencePiece model bytes (``None`` when the model needs no tokenizer file)
- ``metrics``: the last evaluation's metrics, ``{task: {key: value}}``
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.errors import InputError

__all__ = ["FORMAT", "get_rng_state", "load_checkpoint", "save_checkpoint", "set_rng_state"]

FORMAT = "vgbench-instancevg-train"
FORMAT_VERSION = 1


def get_rng_state() -> dict[str, Any]:
    """Python, numpy and torch generator states (CUDA too when available)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `get_rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) to ``path`` atomically: temp file, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; `InputError` if missing or not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # torch raises several types for truncated or foreign files
        raise InputError(f"{path}: cannot read checkpoint: {exc}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"{path}: field 'format': not a vgbench InstanceVG training checkpoint")
    if ckpt.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(
            f"{path}: field 'format_version': {ckpt['format_version']} is newer than this vgbench "
            f"understands ({FORMAT_VERSION})"
        )
    for key in ("config", "model"):
        if key not in ckpt:
            raise InputError(f"{path}: field {key!r}: missing from the checkpoint")
    return ckpt
