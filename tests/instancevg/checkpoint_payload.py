"""A small valid training-checkpoint payload, shared by the checkpoint safety and fuzzing tests."""

from __future__ import annotations

import torch

from instancevg.training.checkpoint_io import get_rng_state


def checkpoint_payload(seed: int = 0) -> dict:
    """Every field `save_checkpoint` writes, with small tensors (``a.weight`` 32x8 float32 first)."""
    gen = torch.Generator().manual_seed(seed)
    return {
        "config": {"img_size": 32, "name": "tiny", "heads": [1, 2]},
        "options": {"data_config": "grefcoco_unc"},
        "model": {
            "a.weight": torch.randn(32, 8, generator=gen),
            "a.bias": torch.zeros(8, dtype=torch.bfloat16),
        },
        "optimizer": {
            "state": {0: {"step": torch.tensor(3.0)}},
            "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.99)}],
        },
        "epoch": 1,
        "step_in_epoch": 0,
        "global_step": 3,
        "rng": [get_rng_state()],
        "tokenizer": b"\x00spm-model",
        "metrics": {"grec": {"f1_score": 12.5, "n_acc": None}},
    }
