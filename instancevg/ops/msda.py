"""Multi-scale deformable attention (Zhu et al., Deformable DETR), pure PyTorch with ``grid_sample``.

Coordinates: sampling locations are normalised ``(x, y)`` in [0, 1] of each level (0 = left/top edge of the
first pixel, 1 = right/bottom edge of the last); bilinear sampling with zero padding outside, i.e.
``grid_sample(align_corners=False, padding_mode="zeros")`` on ``grid = 2 * loc - 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MSDeformAttn", "ms_deform_attn"]


def ms_deform_attn(
    value: torch.Tensor,
    spatial_shapes: Sequence[tuple[int, int]],
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
) -> torch.Tensor:
    """Core MSDA sum.

    Args:
        value: ``[B, S, M, Dh]`` values of all levels flattened row-major and concatenated (S = sum of h*w).
        spatial_shapes: ``[(h_l, w_l)]`` for the L levels, in the order of ``value``.
        sampling_locations: ``[B, Q, M, L, P, 2]`` normalised (x, y).
        attention_weights: ``[B, Q, M, L, P]`` (already softmax-normalised over L*P).

    Returns:
        ``[B, Q, M * Dh]``.
    """
    b, _, m, dh = value.shape
    _, q, _, n_levels, n_points, _ = sampling_locations.shape
    sizes = [h * w for h, w in spatial_shapes]
    grids = 2 * sampling_locations - 1
    sampled = []
    for lvl, (v, (h, w)) in enumerate(zip(value.split(sizes, dim=1), spatial_shapes)):
        v = v.permute(0, 2, 3, 1).reshape(b * m, dh, h, w)
        g = grids[:, :, :, lvl].permute(0, 2, 1, 3, 4).reshape(b * m, q, n_points, 2)
        sampled.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    # [B*M, Dh, Q, L*P] weighted by [B*M, 1, Q, L*P]
    stacked = torch.cat(sampled, dim=-1)
    weights = attention_weights.permute(0, 2, 1, 3, 4).reshape(b * m, 1, q, n_levels * n_points)
    out = (stacked * weights).sum(-1).view(b, m * dh, q)
    return out.transpose(1, 2).contiguous()


class MSDeformAttn(nn.Module):
    """Deformable attention module: offsets and weights predicted from the query, values projected per token.

    ``forward(query [B,Q,C], reference_points [B,Q,2] or [B,Q,L,2] normalised (x, y), value [B,S,C],
    spatial_shapes) -> [B,Q,C]``. The residual, dropout and norm belong to the caller (the decoder layer).
    Initialisation as Deformable DETR: zero offset weights with ring-shaped biases (radius i+1 for point i),
    zero attention weights (uniform attention), xavier value/output projections.
    """

    def __init__(self, dim: int, num_heads: int = 8, num_levels: int = 4, num_points: int = 4) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"MSDeformAttn: dim {dim} not divisible by num_heads {num_heads}")
        self.dim, self.num_heads, self.num_levels, self.num_points = dim, num_heads, num_levels, num_points
        self.sampling_offsets = nn.Linear(dim, num_heads * num_levels * num_points * 2)
        self.attention_weights = nn.Linear(dim, num_heads * num_levels * num_points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.sampling_offsets.weight)
        thetas = torch.arange(self.num_heads, dtype=torch.float32) * (2.0 * math.pi / self.num_heads)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid = grid / grid.abs().max(-1, keepdim=True)[0]
        grid = grid[:, None, None, :].repeat(1, self.num_levels, self.num_points, 1)
        grid = grid * torch.arange(1, self.num_points + 1, dtype=torch.float32)[None, None, :, None]
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.flatten())
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for lin in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(
        self,
        query: torch.Tensor,
        reference_points: torch.Tensor,
        value: torch.Tensor,
        spatial_shapes: Sequence[tuple[int, int]],
    ) -> torch.Tensor:
        b, q, _ = query.shape
        m, n_l, n_p = self.num_heads, self.num_levels, self.num_points
        if len(spatial_shapes) != n_l:
            raise ValueError(f"MSDeformAttn: got {len(spatial_shapes)} levels, built for {n_l}")
        v = self.value_proj(value).view(b, value.shape[1], m, self.dim // m)
        offsets = self.sampling_offsets(query).view(b, q, m, n_l, n_p, 2)
        weights = self.attention_weights(query).view(b, q, m, n_l * n_p).softmax(-1).view(b, q, m, n_l, n_p)
        normalizer = torch.tensor([[w, h] for h, w in spatial_shapes], dtype=query.dtype, device=query.device)
        if reference_points.dim() == 3:
            reference_points = reference_points[:, :, None, :].expand(b, q, n_l, 2)
        locations = (
            reference_points[:, :, None, :, None, :] + offsets / normalizer[None, None, None, :, None, :]
        )
        return self.output_proj(ms_deform_attn(v, spatial_shapes, locations, weights))
