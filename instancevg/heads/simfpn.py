"""SimFPN (ViTDet's simple feature pyramid) over the stride-16 projected image features.

Input ``[B, C, S/16, S/16]``; outputs four ``[B, C, h, w]`` maps at strides 4, 8, 16, 32 (c1..c4).
Each level: its scale branch, a lateral 1x1 conv + LN2d, an output 3x3 conv + LN2d (no activation, no bias).
"""

from __future__ import annotations

import torch
from torch import nn

from instancevg.heads.common import LayerNorm2d

__all__ = ["SimFPN"]


def _conv_ln(cin: int, cout: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), LayerNorm2d(cout))


class SimFPN(nn.Module):
    """Strides 4 (2 transposed convs), 8 (1 transposed conv), 16 (identity), 32 (max-pool)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
        self.fpn1 = nn.Sequential(
            nn.ConvTranspose2d(c, c // 2, 2, stride=2),
            LayerNorm2d(c // 2),
            nn.GELU(),
            nn.ConvTranspose2d(c // 2, c // 4, 2, stride=2),
        )
        self.fpn2 = nn.ConvTranspose2d(c, c // 2, 2, stride=2)
        self.fpn3 = nn.Identity()
        self.fpn4 = nn.MaxPool2d(2)
        self.lateral = nn.ModuleList(_conv_ln(cin, c, 1) for cin in (c // 4, c // 2, c, c))
        self.output = nn.ModuleList(_conv_ln(c, c, 3) for _ in range(4))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x [B, C, h, w]`` (stride 16) -> ``[c1 (4h x 4w), c2 (2h), c3 (h), c4 (h/2)]``, each C channels."""
        feats = [self.fpn1(x), self.fpn2(x), self.fpn3(x), self.fpn4(x)]
        return [out(lat(f)) for f, lat, out in zip(feats, self.lateral, self.output)]
