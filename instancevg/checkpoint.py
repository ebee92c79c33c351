"""Loading official BEiT-3 weights (``beit3_base_patch16_224.zip`` etc.) into ``BEiT3Encoder``.

The official files are ``torch.save`` archives (the ``.zip`` is the archive itself) holding a state dict under
``model`` or ``module`` (or at the top level), with keys of torchscale's ``BEiT3`` optionally prefixed by
``beit3.`` (the fine-tuning wrapper). The vision position table (``encoder.embed_positions.A.weight``, rows
``[2 fairseq-offset rows, CLS, g*g patches]``) is bicubically interpolated from the checkpoint's grid to ours.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from evaluators.errors import InputError
from instancevg.encoders.beit3 import BEiT3Encoder

__all__ = ["interpolate_vision_positions", "load_beit3_checkpoint"]

logger = logging.getLogger(__name__)

_POS_KEY = "encoder.embed_positions.A.weight"
_EXTRA_ROWS = 3  # two fairseq-offset rows + CLS


def interpolate_vision_positions(table: torch.Tensor, grid: int) -> torch.Tensor:
    """Resize a ``[3 + g0*g0, D]`` vision position table to ``[3 + grid*grid, D]`` (bicubic on the patch part)."""
    n = table.shape[0] - _EXTRA_ROWS
    g0 = round(math.sqrt(n))
    if g0 * g0 != n:
        raise ValueError(f"vision position table has {n} patch rows, not a square grid")
    if g0 == grid:
        return table
    extra, patches = table[:_EXTRA_ROWS], table[_EXTRA_ROWS:]
    d = table.shape[1]
    patches = patches.reshape(1, g0, g0, d).permute(0, 3, 1, 2).float()
    patches = F.interpolate(patches, size=(grid, grid), mode="bicubic", align_corners=False)
    patches = patches.permute(0, 2, 3, 1).reshape(grid * grid, d).to(table.dtype)
    return torch.cat([extra, patches], dim=0)


def _state_dict(obj: object, path: Path) -> dict[str, torch.Tensor]:
    def tensors_only(d: dict) -> bool:
        return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in d.items())

    if isinstance(obj, dict):
        for key in ("model", "module", "state_dict"):
            if key in obj and isinstance(obj[key], dict):
                if not tensors_only(obj[key]):
                    raise InputError(f"{path}: checkpoint: field {key!r}: must map names to tensors")
                return obj[key]
        if tensors_only(obj):
            return obj
    raise InputError(f"{path}: checkpoint: no state dict found (expected keys 'model' or 'module')")


def load_beit3_checkpoint(
    encoder: BEiT3Encoder, path: str | Path, strict: bool = True
) -> tuple[list[str], list[str]]:
    """Load BEiT-3 weights into ``encoder``; returns ``(missing_keys, unexpected_keys)``.

    The file is read with ``torch.load(weights_only=True)``, allowing beyond tensors and plain values only
    ``argparse.Namespace`` (the training arguments some releases store beside the weights; it only holds
    attributes). A file needing anything else is refused with `InputError`: no code from it ever runs.

    Keys that are not encoder keys (heads of fine-tuned models) are reported as unexpected and skipped. With
    ``strict`` a missing encoder key or a shape mismatch (other than the interpolated position table) raises
    InputError; otherwise those parameters keep their initialisation and are listed as missing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint: file not found")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, foreign, or needing globals beyond tensors and plain values
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(
            f"{path}: checkpoint: cannot read with torch.load(weights_only=True) "
            f"(only tensors, plain values and argparse.Namespace are accepted): {reason}"
        ) from None
    raw = _state_dict(obj, path)
    state = {}
    for key, value in raw.items():
        key = key[len("beit3.") :] if key.startswith("beit3.") else key
        state[key] = value
    own = encoder.state_dict()
    if _POS_KEY in state:
        state[_POS_KEY] = interpolate_vision_positions(state[_POS_KEY], encoder.grid_size)
    unexpected = sorted(k for k in state if k not in own)
    missing, load = [], {}
    for key, target in own.items():
        value = state.get(key)
        if value is None:
            missing.append(key)
        elif tuple(value.shape) != tuple(target.shape):
            if strict:
                raise InputError(
                    f"{path}: checkpoint: {key}: shape {tuple(value.shape)} does not fit {tuple(target.shape)}"
                )
            missing.append(key)
        else:
            load[key] = value
    if missing and strict:
        raise InputError(f"{path}: checkpoint: {len(missing)} encoder keys missing, first {missing[0]}")
    encoder.load_state_dict(load, strict=False)
    logger.info(
        "loaded %d BEiT-3 tensors from %s (%d missing, %d skipped)",
        len(load),
        path,
        len(missing),
        len(unexpected),
    )
    return missing, unexpected
