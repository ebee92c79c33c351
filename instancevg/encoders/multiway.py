"""Multiway ("mixture of modality experts") wrapper as in torchscale: expert A for vision, B for text.

A sequence ``[B, N, ...]`` is split along dim 1 at ``split`` (the number of vision tokens, CLS included): the
first part goes through ``A``, the rest through ``B``, and the results are concatenated back. The attribute
names ``A`` and ``B`` are the torchscale parameter names (``...q_proj.A.weight``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["Multiway"]


class Multiway(nn.Module):
    """Two independent copies of ``module`` applied to the vision and text parts of a sequence."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.A = module
        self.B = copy.deepcopy(module)
        if hasattr(self.B, "reset_parameters"):
            self.B.reset_parameters()

    def forward(self, x: torch.Tensor, split: int) -> torch.Tensor:
        """``x [B, N, ...]``; tokens ``< split`` use A, the others B. ``split`` may be 0 or N."""
        if split >= x.shape[1]:
            return self.A(x)
        if split <= 0:
            return self.B(x)
        return torch.cat([self.A(x[:, :split]), self.B(x[:, split:])], dim=1)

    def pair(self, vision: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the experts to the two parts kept apart: ``(A(vision), B(text))`` (no concatenation)."""
        return self.A(vision), self.B(text)
