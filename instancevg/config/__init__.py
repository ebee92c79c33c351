"""Typed configuration of InstanceVG: nested groups (input, encoder, head, decoder, matcher, loss, postprocess,
quirks, ablation, train), the presets, and loading from files, dicts and ``key=value`` overrides.

``load_config`` takes a preset name or a ``.json``/``.yaml``/``.toml`` file and then overrides with dotted keys
(``encoder.dim=64``, ``train.lr=1e-4``); the old flat keys (``img_size=160``) are aliases (`LEGACY_KEYS`).
Run-time speed switches are not part of the config (`instancevg.runtime.ModelRuntime`).
"""

from instancevg.config.legacy import DROPPED_KEYS, LEGACY_KEYS, nest_flat_dict
from instancevg.config.loading import (
    all_keys,
    apply_overrides,
    canonical_key,
    config_from_dict,
    config_to_dict,
    list_keys,
    load_config,
    parse_overrides,
    replace_values,
)
from instancevg.config.presets import PRESETS
from instancevg.config.schema import (
    GROUPS,
    AblationConfig,
    DecoderConfig,
    EncoderConfig,
    HeadConfig,
    InputConfig,
    InstanceVGConfig,
    LossConfig,
    MatcherConfig,
    PostprocessConfig,
    QuirkConfig,
    TrainConfig,
    literal_choices,
    validate,
)

__all__ = [
    "DROPPED_KEYS",
    "GROUPS",
    "LEGACY_KEYS",
    "PRESETS",
    "AblationConfig",
    "DecoderConfig",
    "EncoderConfig",
    "HeadConfig",
    "InputConfig",
    "InstanceVGConfig",
    "LossConfig",
    "MatcherConfig",
    "PostprocessConfig",
    "QuirkConfig",
    "TrainConfig",
    "all_keys",
    "apply_overrides",
    "canonical_key",
    "config_from_dict",
    "config_to_dict",
    "list_keys",
    "literal_choices",
    "load_config",
    "nest_flat_dict",
    "parse_overrides",
    "replace_values",
    "validate",
]
