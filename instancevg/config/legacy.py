"""The old flat config keys and where they live now.

Before the config was split into groups, every model field sat at the top level (``img_size``, ``loss_neg``,
``decoder_type``); checkpoints written then store that flat dict (plus ``train``), and docs and scripts use the
flat names in ``--set``. Each flat name is an alias of exactly one nested key; `LEGACY_KEYS` is that map.
``onednn_linear`` was a speed switch, not a model choice: it now lives in the run-time options
(`instancevg.runtime.ModelRuntime`); in a stored flat config it is ignored (`DROPPED_KEYS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DROPPED_KEYS", "LEGACY_KEYS", "nest_flat_dict"]

LEGACY_KEYS: dict[str, str] = {
    # input
    "img_size": "input.img_size",
    "max_tokens": "input.max_tokens",
    # encoder
    "vocab_size": "encoder.vocab_size",
    "patch_size": "encoder.patch_size",
    "encoder_dim": "encoder.dim",
    "encoder_layers": "encoder.layers",
    "encoder_heads": "encoder.heads",
    "encoder_ffn_dim": "encoder.ffn_dim",
    "encoder_drop_path": "encoder.drop_path",
    "encoder_max_text_positions": "encoder.max_text_positions",
    "encoder_layernorm_eps": "encoder.layernorm_eps",
    # head
    "hidden_dim": "head.hidden_dim",
    "num_queries": "head.num_queries",
    "t2i_heads": "head.t2i_heads",
    "t2i_ffn_dim": "head.t2i_ffn_dim",
    "t2i_dropout": "head.t2i_dropout",
    "w_dist": "head.w_dist",
    # decoder
    "decoder_type": "decoder.type",
    "decoder_layers": "decoder.layers",
    "decoder_heads": "decoder.heads",
    "decoder_ffn_dim": "decoder.ffn_dim",
    "decoder_dropout": "decoder.dropout",
    "msda_levels": "decoder.msda_levels",
    "msda_points": "decoder.msda_points",
    # matcher
    "cost_class": "matcher.cost_class",
    "cost_bbox": "matcher.cost_bbox",
    "cost_giou": "matcher.cost_giou",
    "cost_point": "matcher.cost_point",
    # loss
    "loss_class": "loss.cls",
    "loss_bbox": "loss.bbox",
    "loss_giou": "loss.giou",
    "eos_coef": "loss.eos_coef",
    "loss_detr": "loss.detr",
    "loss_dice": "loss.dice",
    "loss_bce": "loss.bce",
    "loss_global": "loss.global_mask",
    "loss_instance": "loss.instance",
    "loss_neg": "loss.neg",
    "loss_exist": "loss.exist",
    "exist_class_weights": "loss.exist_class_weights",
    "loss_attn": "loss.attn",
    # postprocess
    "score_threshold": "postprocess.score_threshold",
    "mask_threshold": "postprocess.mask_threshold",
    "score_weighted": "postprocess.score_weighted",
    "mask_output": "postprocess.mask_output",
    "mask_resize": "postprocess.mask_resize",
    "nms_threshold": "postprocess.nms_threshold",
    "instances_written": "postprocess.instances_written",
    "drop_empty_boxes": "postprocess.drop_empty_boxes",
    "empty_mask_on_no_target": "postprocess.empty_mask_on_no_target",
    # quirks
    "text_filter_score": "quirks.text_filter_score",
    "attn_map_pool": "quirks.attn_map_pool",
    "reference_point": "quirks.reference_point",
    "aux_loss_weighting": "quirks.aux_loss_weighting",
    "share_heads": "quirks.share_heads",
    "exist_score": "quirks.exist_score",
    "no_target_rule": "quirks.no_target_rule",
    # ablation
    "tasks": "ablation.tasks",
    "use_apd": "ablation.use_apd",
    "use_piph": "ablation.use_piph",
    "use_text_filter": "ablation.use_text_filter",
    "use_dps": "ablation.use_dps",
    "use_tiq": "ablation.use_tiq",
}

# flat keys of old configs that are no model field any more (read and ignored)
DROPPED_KEYS: frozenset[str] = frozenset({"onednn_linear"})


def nest_flat_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict that may use flat keys (an old checkpoint's, a config file's) -> the nested form.

    Flat keys go into their group (a value given both flat and nested: the flat one wins, as it was written
    later in the old layout's single namespace); group mappings, ``name`` and unknown keys pass through (the
    caller reports unknown keys); `DROPPED_KEYS` are removed.
    """
    out: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in DROPPED_KEYS:
            continue
        if key in LEGACY_KEYS:
            flat[key] = value
        elif isinstance(value, Mapping):
            out[key] = dict(value)
        else:
            out[key] = value
    for key, value in flat.items():
        group, leaf = LEGACY_KEYS[key].split(".")
        target = out.setdefault(group, {})
        if isinstance(target, dict):
            target[leaf] = value
    return out
