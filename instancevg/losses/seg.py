"""Mask losses on logits: dice (sigmoid inside, +1 smoothing, per mask) and mean binary cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["bce_loss", "dice_loss"]


def dice_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``1 - (2 sum(p t) + 1) / (sum(p) + sum(t) + 1)`` per mask, averaged over masks.

    ``logits``, ``targets``: ``[N, ...]`` (any trailing shape); ``p = sigmoid(logits)``. N must be > 0.
    """
    p = logits.sigmoid().flatten(1)
    t = targets.flatten(1).to(p.dtype)
    return (1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)).mean()


def bce_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy with logits over every element."""
    return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))
