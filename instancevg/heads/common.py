"""Small building blocks shared by the heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "LayerNorm2d", "feed_forward"]


def feed_forward(dim: int, ffn_dim: int, dropout: float) -> nn.Sequential:
    """A decoder layer's FFN on ``[..., dim]``: Linear(dim, ffn_dim), ReLU, Dropout, Linear(ffn_dim, dim)
    (parameters ``0.*`` and ``3.*``, as the official checkpoints name them)."""
    return nn.Sequential(
        nn.Linear(dim, ffn_dim), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(ffn_dim, dim)
    )


class MLP(nn.Module):
    """``num_layers`` Linear layers with ReLU between them (none after the last), as in DETR."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, num_layers: int) -> None:
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, [*dims[1:], out_dim]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of ``[B, C, H, W]``.

    eps 1e-5: the official ``LN2d`` class defaults to 1e-6, but the SimFPN builds it through mmcv's
    ``build_norm_layer``, which sets ``eps=1e-5`` unless the config names one (measured on the official outputs).
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2).contiguous()
