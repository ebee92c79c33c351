"""Shared builders for the InstanceVG model tests: a micro config and random targets."""

from __future__ import annotations

import torch

from instancevg.config import InstanceVGConfig, load_config

MICRO = [
    "img_size=64",
    "max_tokens=12",
    "vocab_size=64",
    "encoder_dim=32",
    "encoder_heads=2",
    "encoder_ffn_dim=64",
    "encoder_layers=1",
    "hidden_dim=32",
    "t2i_heads=2",
    "t2i_ffn_dim=32",
    "decoder_heads=2",
    "decoder_ffn_dim=64",
    "num_queries=5",
    "nms_threshold=0.0",  # the official post-processing (tiny-cpu itself uses NMS 0.1 and one box)
    "postprocess.max_instances=0",
]


def micro_config(*overrides: str) -> InstanceVGConfig:
    """A very small tiny-cpu variant (64 px, 32-wide) for fast CPU tests."""
    return load_config("tiny-cpu", [*MICRO, *overrides])


def random_batch(cfg: InstanceVGConfig, batch: int, seed: int = 0, counts: list[int] | None = None):
    """``(images, ids, pad_mask, targets)`` with ``counts[b]`` box-shaped instances in sample b."""
    g = torch.Generator().manual_seed(seed)
    s, length = cfg.img_size, cfg.max_tokens
    images = torch.randn(batch, 3, s, s, generator=g)
    ids = torch.randint(4, cfg.vocab_size, (batch, length), generator=g)
    ids[:, 0] = 0
    pad = torch.zeros(batch, length, dtype=torch.bool)
    for b in range(batch):
        n_valid = 3 + b % (length - 3)
        ids[b, n_valid - 1] = 2
        ids[b, n_valid:] = 1
        pad[b, n_valid:] = True
    counts = counts if counts is not None else [b % 3 for b in range(batch)]
    targets = []
    for n in counts:
        xy = torch.rand(n, 2, generator=g) * 0.5
        wh = torch.rand(n, 2, generator=g) * 0.4 + 0.1
        boxes = torch.cat([xy + wh / 2, wh], dim=-1)
        masks = torch.zeros(n, s, s)
        for k in range(n):
            x0, y0 = (xy[k] * s).long().tolist()
            x1, y1 = ((xy[k] + wh[k]) * s).long().tolist()
            masks[k, y0:y1, x0:x1] = 1
        merged = masks.amax(0) if n else torch.zeros(s, s)
        targets.append({"boxes": boxes, "masks": masks, "mask": merged, "no_target": n == 0})
    return images, ids, pad, targets
