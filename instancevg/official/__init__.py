"""The authors' released InstanceVG checkpoints in vgbench: their key layout, the loader and the test-time pipeline.

Public API: ``load_official(path, **overrides)`` (a checkpoint file -> ``InstanceVG`` in eval mode),
``build_official`` (the same from a state dict), ``infer_official_config``, ``read_official_state_dict``,
``is_official_state_dict``, ``looks_official`` (a safe test of a file's layout), ``OFFICIAL_POSTPROCESS`` and the key mapping ``official_to_vgbench`` /
``vgbench_to_official`` with ``UNUSED_KEYS``.
"""

from __future__ import annotations

from instancevg.official.layout import UNUSED_KEYS, official_to_vgbench, vgbench_to_official
from instancevg.official.load import (
    OFFICIAL_POSTPROCESS,
    build_official,
    infer_official_config,
    is_official_state_dict,
    load_official,
    looks_official,
    read_official_state_dict,
)

__all__ = [
    "OFFICIAL_POSTPROCESS",
    "UNUSED_KEYS",
    "build_official",
    "infer_official_config",
    "is_official_state_dict",
    "load_official",
    "looks_official",
    "official_to_vgbench",
    "read_official_state_dict",
    "vgbench_to_official",
]
