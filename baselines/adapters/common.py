"""Helpers shared by the adapters: the rows an adapter must cover, and masks from any container.

Masks are accepted as COCO RLE (compressed or uncompressed ``counts``), a dense 2-D array (numpy or
torch, nonzero = foreground) or a nested list of 0/1 rows; they must already be at the original image
size ``[height, width]`` (adapters never resize silently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from baselines.rows import iter_rows
from evaluators import rle
from evaluators.errors import InputError

__all__ = ["Expression", "as_array", "expressions", "to_rle"]


class Expression(NamedTuple):
    """One row an adapter must write a record for."""

    expr_id: str
    height: int
    width: int

    @property
    def size(self) -> tuple[int, int]:
        return self.height, self.width


def expressions(data_dir: str | Path, config: str, split: str) -> list[Expression]:
    """The expressions of one config/split (the records an adapter must write), in row order."""
    return [
        Expression(r["expr_id"], int(r["height"]), int(r["width"]))
        for r in iter_rows(data_dir, config, split, columns=["expr_id", "height", "width"])
    ]


def as_array(value: Any) -> np.ndarray:
    """A numpy view of a torch tensor, numpy array or nested list."""
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def to_rle(value: Any, size: tuple[int, int], where: str) -> rle.RLE:
    """Turn a mask in any accepted form into compressed RLE of ``size``; `InputError` naming ``where``."""
    if isinstance(value, dict):
        try:
            mask = rle.normalize(value)
        except ValueError as exc:
            raise InputError(f"{where}: malformed RLE: {exc}") from None
        if tuple(mask["size"]) != tuple(size):
            raise InputError(f"{where}: RLE size {mask['size']} != image [height, width] {list(size)}")
        return mask
    try:
        dense = as_array(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: not a mask: {exc}") from None
    if dense.ndim != 2 or dense.dtype.kind not in "biuf":
        raise InputError(f"{where}: a dense mask must be a 2-D numeric array, got shape {dense.shape}")
    if dense.shape != tuple(size):
        raise InputError(f"{where}: mask shape {list(dense.shape)} != image [height, width] {list(size)}")
    return rle.encode(dense)
