"""Which SimFPN levels the query decoder reads, and how (paper Table 9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from instancevg.ops.position import sine_position_2d

__all__ = ["DecoderMemory"]


@dataclass(frozen=True)
class DecoderMemory:
    """The decoder memory: the SimFPN levels ``levels`` (indices into c1..c4, strides 4/8/16/32) flattened
    row-major and concatenated, plus a 2-D sine position encoding when ``sine_position`` (DETR cross-attention).

    The multi-scale decoders read the coarsest ``msda_levels`` levels; the single-scale ones stride 16 only.
    """

    levels: tuple[int, ...] = (0, 1, 2, 3)
    sine_position: bool = False

    def __call__(
        self, feats: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[tuple[int, int]]]:
        """``feats``: c1..c4, each ``[B, C, h_i, w_i]`` -> (memory ``[B, sum h_i*w_i, C]``, position ``[h*w, C]``
        or None, the level shapes ``[(h_i, w_i)]``)."""
        used = [feats[i] for i in self.levels]
        shapes = [(int(f.shape[-2]), int(f.shape[-1])) for f in used]
        memory = torch.cat([f.flatten(2).transpose(1, 2) for f in used], dim=1)
        pos = None
        if self.sine_position:
            h, w = shapes[0]
            pos = sine_position_2d(h, w, memory.shape[-1], device=memory.device).to(memory.dtype)
        return memory, pos, shapes
