"""Query decoders (paper 3.2.2, Table 9): the (point-prior) multi-scale deformable decoder and a DETR decoder.

Every layer is post-norm: self-attention (``query_pos`` added to q and k), residual, LN; cross-attention
(deformable over the memory levels, or plain multi-head attention for ``"detr"``), dropout, residual, LN;
FFN (ReLU), residual, LN. All layers share one set of reference points (no iterative refinement).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from instancevg.heads.common import feed_forward
from instancevg.ops.msda import MSDeformAttn

__all__ = ["QueryDecoder", "QueryDecoderLayer"]


class QueryDecoderLayer(nn.Module):
    """One decoder layer; ``cross="deformable"`` (MSDA) or ``"attention"`` (DETR cross-attention)."""

    def __init__(
        self, dim: int, heads: int, ffn_dim: int, dropout: float, levels: int, points: int, cross: str
    ) -> None:
        super().__init__()
        self.cross_type = cross
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        if cross == "deformable":
            self.cross_attn: nn.Module = MSDeformAttn(dim, heads, levels, points)
        else:
            self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ffn = feed_forward(dim, ffn_dim, dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(3))
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        tgt: torch.Tensor,
        query_pos: torch.Tensor,
        reference_points: torch.Tensor,
        memory: torch.Tensor,
        memory_pos: torch.Tensor | None,
        spatial_shapes: Sequence[tuple[int, int]],
    ) -> torch.Tensor:
        q = tgt + query_pos
        x = self.norms[0](tgt + self.dropout(self.self_attn(q, q, tgt, need_weights=False)[0]))
        if self.cross_type == "deformable":
            out = self.cross_attn(x + query_pos, reference_points, memory, spatial_shapes)
        else:
            key = memory if memory_pos is None else memory + memory_pos
            out = self.cross_attn(x + query_pos, key, memory, need_weights=False)[0]
        x = self.norms[1](x + self.dropout(out))
        return self.norms[2](x + self.dropout(self.ffn(x)))


class QueryDecoder(nn.Module):
    """Stack of layers returning every layer's output: ``[num_layers, B, Q, C]`` (``return_intermediate``).

    ``forward(tgt [B,Q,C], query_pos [B,Q,C], reference_points [B,Q,2] normalised (x, y),
    memory [B,S,C] (levels flattened row-major, concatenated), memory_pos [S,C] or None, spatial_shapes)``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        ffn_dim: int,
        dropout: float,
        num_layers: int,
        levels: int,
        points: int,
        cross: str = "deformable",
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            QueryDecoderLayer(dim, heads, ffn_dim, dropout, levels, points, cross) for _ in range(num_layers)
        )
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MSDeformAttn):
                m.reset_parameters()

    def forward(
        self,
        tgt: torch.Tensor,
        query_pos: torch.Tensor,
        reference_points: torch.Tensor,
        memory: torch.Tensor,
        memory_pos: torch.Tensor | None,
        spatial_shapes: Sequence[tuple[int, int]],
    ) -> torch.Tensor:
        outs = []
        x = tgt
        for layer in self.layers:
            x = layer(x, query_pos, reference_points, memory, memory_pos, spatial_shapes)
            outs.append(x)
        return torch.stack(outs)
