"""DETR-style 2-D sine positional encoding (``normalize=True``, temperature 10000, scale 2*pi)."""

from __future__ import annotations

import math

import torch

__all__ = ["sine_position_2d"]


def sine_position_2d(
    h: int, w: int, dim: int, device: torch.device | None = None, temperature: float = 10000.0
) -> torch.Tensor:
    """Encoding of an ``h x w`` grid: FloatTensor[h * w, dim] in row-major (y, then x) order.

    The first ``dim/2`` channels encode y, the last ``dim/2`` encode x; each half interleaves sin and cos.
    """
    half = dim // 2
    eps, scale = 1e-6, 2 * math.pi
    y = torch.arange(1, h + 1, dtype=torch.float32, device=device)[:, None].expand(h, w)
    x = torch.arange(1, w + 1, dtype=torch.float32, device=device)[None, :].expand(h, w)
    y = y / (h + eps) * scale
    x = x / (w + eps) * scale
    dim_t = torch.arange(half, dtype=torch.float32, device=device)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / half)
    px, py = x[..., None] / dim_t, y[..., None] / dim_t
    px = torch.stack([px[..., 0::2].sin(), px[..., 1::2].cos()], dim=-1).flatten(-2)
    py = torch.stack([py[..., 0::2].sin(), py[..., 1::2].cos()], dim=-1).flatten(-2)
    return torch.cat([py, px], dim=-1).reshape(h * w, 2 * half)
