"""InstanceVG, the reference model of vgbench (Dai et al., "Improving Generalized Visual Grounding with
Instance-aware Joint Learning", TPAMI 2025), re-implemented in pure PyTorch from the official code's behaviour.

Public API: configs and presets, the tokenizer, input transforms, the model and its builders (``build_model``,
``build_criterion``, ``build_postprocessor``, ``build``; run-time switches ``ModelRuntime``), its criterion, the
post-processing to predictions records, the BEiT-3 checkpoint loader, the loader of the authors' released
checkpoints (``load_official``), and the trainer / predictor
(`train`, `predict`, `RunOptions`, `load_trained` from `instancevg.training`). Heavy modules (torch) are imported
lazily so that ``import instancevg`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PRESETS",
    "InstanceVG",
    "InstanceVGConfig",
    "InstanceVGCriterion",
    "ModelRuntime",
    "RunOptions",
    "Tokenizer",
    "TrainConfig",
    "boxes_xywh_to_cxcywh_norm",
    "build",
    "build_criterion",
    "build_model",
    "build_postprocessor",
    "config_from_dict",
    "config_to_dict",
    "load_beit3_checkpoint",
    "load_config",
    "load_official",
    "load_trained",
    "postprocess",
    "predict",
    "preprocess_image",
    "resize_mask",
    "train",
]

_WHERE = {
    "PRESETS": "instancevg.config",
    "InstanceVGConfig": "instancevg.config",
    "TrainConfig": "instancevg.config",
    "config_from_dict": "instancevg.config",
    "config_to_dict": "instancevg.config",
    "load_config": "instancevg.config",
    "InstanceVG": "instancevg.model",
    "build": "instancevg.build",
    "build_model": "instancevg.build",
    "build_criterion": "instancevg.build",
    "build_postprocessor": "instancevg.build",
    "ModelRuntime": "instancevg.runtime",
    "InstanceVGCriterion": "instancevg.losses",
    "Tokenizer": "instancevg.tokenizer",
    "boxes_xywh_to_cxcywh_norm": "instancevg.transforms",
    "preprocess_image": "instancevg.transforms",
    "resize_mask": "instancevg.transforms",
    "load_beit3_checkpoint": "instancevg.checkpoint",
    "load_official": "instancevg.official",
    "postprocess": "instancevg.postprocess",
    "train": "instancevg.training",
    "predict": "instancevg.training",
    "RunOptions": "instancevg.training",
    "load_trained": "instancevg.training",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'instancevg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
