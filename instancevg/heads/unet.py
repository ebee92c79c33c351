"""U-Net decoder over the SimFPN levels, the global mask head and the existence (no-target) head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from instancevg.heads.common import MLP

__all__ = ["ExistenceHead", "UNetDecoder"]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNetDecoder(nn.Module):
    """Three up-stages: upsample (bilinear, align_corners=True), concat the finer level, two conv-BN-ReLU.

    ``forward([c1, c2, c3, c4])`` (strides 4..32, C channels each) -> pixel map P ``[B, C, S/4, S/4]``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.stages = nn.ModuleList(_block(2 * channels, channels) for _ in range(3))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = feats[3]
        for stage, skip in zip(self.stages, (feats[2], feats[1], feats[0])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=True)
            x = stage(torch.cat([x, skip], dim=1))
        return x


class ExistenceHead(nn.Module):
    """MLP(C, C, 2, 3 layers) per pixel of P, averaged over pixels: logits ``[B, 2]``, index 1 = "empty"."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.mlp = MLP(channels, channels, 2, 3)

    def forward(self, pixel_map: torch.Tensor) -> torch.Tensor:
        b, c = pixel_map.shape[:2]
        pixels = pixel_map.permute(0, 2, 3, 1).reshape(b, -1, c)
        return self.mlp(pixels).mean(1)
