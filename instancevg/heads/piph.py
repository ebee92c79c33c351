"""Point-guided Instance-aware Perception Head pieces (paper 3.3): class/box heads and the query-mask aligner."""

from __future__ import annotations

import torch
from torch import nn

from instancevg.heads.common import MLP
from instancevg.ops.box_ops import inverse_sigmoid

__all__ = ["BoxClassHead", "query_masks"]


class BoxClassHead(nn.Module):
    """``Linear(C, 2)`` class logits (index 0 = object) and ``MLP(C, C, 4, 3)`` box deltas.

    Boxes: ``sigmoid(mlp(h) + [inverse_sigmoid(ref), 0, 0])``, normalised ``(cx, cy, w, h)``; the last box
    layer's bias for (w, h) starts at -2. ``forward(h [B,Q,C], ref [B,Q,2]) -> (logits [B,Q,2], boxes [B,Q,4])``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.class_embed = nn.Linear(dim, 2)
        self.bbox_embed = MLP(dim, dim, 4, 3)
        with torch.no_grad():  # as the official head: only the (w, h) bias is set, nothing is zeroed
            self.bbox_embed.layers[-1].bias[2:] = -2.0

    def forward(self, h: torch.Tensor, ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        delta = self.bbox_embed(h)
        offset = torch.cat([inverse_sigmoid(ref), torch.zeros_like(ref)], dim=-1)
        return self.class_embed(h), (delta + offset).sigmoid()


def query_masks(queries: torch.Tensor, pixel_map: torch.Tensor) -> torch.Tensor:
    """Query-mask aligner: dot product of each query with every pixel, ``[B,Q,C] x [B,C,H,W] -> [B,Q,H,W]``."""
    return torch.einsum("bqc,bchw->bqhw", queries, pixel_map)
