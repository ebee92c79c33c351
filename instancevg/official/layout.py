"""The state-dict layout of the official InstanceVG checkpoints and its mapping onto vgbench's module names.

The official model (``MIXGrefUniModel`` / ``MIXRefUniModel``) names its parameters ``vis_enc.beit3.*`` (torchscale's
BEiT3, which vgbench's encoder mirrors name for name) and ``head.*`` (the InstanceVG head: mmcv-style
``attentions`` / ``ffns`` / ``norms`` lists in the transformer layers, ``lateral_convs`` / ``fpn_convs`` in the
SimFPN neck, ``conv1_4`` / ``bn1_4`` ... in the U-Net). ``official_to_vgbench`` renames one key; it returns None for
a key that the official model carries but never uses at test time (``UNUSED_KEYS``) and for the aliases of the
class/box heads that the official code shares across the decoder layers (``class_embed.{1,2}``,
``bbox_embed.{1,2}``: the same tensors as ``.0``). ``vgbench_to_official`` is the inverse, used to write
official-layout checkpoints from a vgbench model (tests, benchmarks).
"""

from __future__ import annotations

import re

__all__ = [
    "ALIAS_PATTERN",
    "UNUSED_KEYS",
    "official_to_vgbench",
    "vgbench_to_official",
]

# keys present in every released checkpoint that do not influence the test-time forward pass
UNUSED_KEYS: frozenset[str] = frozenset(
    {
        "vis_enc.beit3.vision_embed.mask_token",  # BEiT-3 masked-image pre-training only
        "head.query_embedding.weight",  # CLS projection, computed then ignored by the AQSM query generator
        "head.proj_pixel_level_cons.vis.weight",  # Projector: built, never called
        "head.proj_pixel_level_cons.vis.bias",
        "head.proj_pixel_level_cons.txt.weight",
        "head.proj_pixel_level_cons.txt.bias",
        "head.query_generation.query_embed.weight",  # AQSM's learned queries: unused (its rows = N_q)
        "head.detrloss.criterion.empty_weight",  # loss buffer [1, eos_coef]
        "head.decoder_transformer.level_embeds",  # level embeddings: no encoder, never reach the decoder
    }
)

# the decoder-layer copies of the shared class/box heads
ALIAS_PATTERN = re.compile(r"^head\.(class_embed|bbox_embed)\.([1-9]\d*)\.(.+)$")

_UNET_STAGE = {"4": "0", "3": "1", "2": "2"}  # conv1_4/bn1_4 ... is the first (coarsest) up-stage
_UNET_PART = {"conv1": "0", "bn1": "1", "conv2": "3", "bn2": "4"}  # positions in vgbench's Sequential
_UNET_LEVEL = {v: k for k, v in _UNET_STAGE.items()}
_UNET_NAME = {v: k for k, v in _UNET_PART.items()}

# (official, vgbench) name templates: ``{i}`` is a layer index, ``{p}`` the rest of the parameter path
_T2I = "head.query_generation.T2I_decoder"
_DEC = "head.decoder_transformer.decoder.layers.{i}"
_RULES: list[tuple[str, str]] = [
    ("vis_enc.beit3.{p}", "encoder.{p}"),
    ("head.img_embedding.{p}", "img_proj.{p}"),
    ("head.lan_embedding.{p}", "text_proj.{p}"),
    ("head.neck.fpn1.{i}.{p}", "simfpn.fpn1.{i}.{p}"),
    ("head.neck.fpn2.0.{p}", "simfpn.fpn2.{p}"),
    ("head.neck.lateral_convs.{i}.conv.{p}", "simfpn.lateral.{i}.0.{p}"),
    ("head.neck.lateral_convs.{i}.norm_layer.{p}", "simfpn.lateral.{i}.1.{p}"),
    ("head.neck.fpn_convs.{i}.conv.{p}", "simfpn.output.{i}.0.{p}"),
    ("head.neck.fpn_convs.{i}.norm_layer.{p}", "simfpn.output.{i}.1.{p}"),
    ("head.seg_branch.predict.{p}", "global_head.{p}"),
    ("head.nt_embed.layers.{p}", "exist_head.mlp.layers.{p}"),
    (_T2I + ".layers.0.attentions.0.attn.{p}", "query_generator.t2i.self_attn.{p}"),
    (_T2I + ".layers.0.attentions.1.attn.{p}", "query_generator.t2i.cross_attn.{p}"),
    (_T2I + ".layers.0.ffns.0.layers.0.0.{p}", "query_generator.t2i.ffn.0.{p}"),
    (_T2I + ".layers.0.ffns.0.layers.1.{p}", "query_generator.t2i.ffn.3.{p}"),
    (
        _T2I + ".post_norm_layer.{p}",
        "query_generator.t2i.norms.3.{p}",
    ),  # before the norms rule: norms.3 is the final LayerNorm
    (_T2I + ".layers.0.norms.{i}.{p}", "query_generator.t2i.norms.{i}.{p}"),
    ("head.query_generation.mlp.{p}", "query_generator.query_mlp.{p}"),
    ("head.query_pos_embedding.{p}", "query_pos.{p}"),
    ("head.decoder_transformer.reference_points.{p}", "reference_points.{p}"),
    (_DEC + ".attentions.0.attn.{p}", "decoder.layers.{i}.self_attn.{p}"),
    (_DEC + ".attentions.1.{p}", "decoder.layers.{i}.cross_attn.{p}"),
    (_DEC + ".ffns.0.layers.0.0.{p}", "decoder.layers.{i}.ffn.0.{p}"),
    (_DEC + ".ffns.0.layers.1.{p}", "decoder.layers.{i}.ffn.3.{p}"),
    (_DEC + ".norms.{j}.{p}", "decoder.layers.{i}.norms.{j}.{p}"),
    ("head.class_embed.0.{p}", "heads.0.class_embed.{p}"),
    ("head.bbox_embed.0.{p}", "heads.0.bbox_embed.{p}"),
    ("head.unet_decoder.{unet}.{p}", "unet.stages.{stage}.{part}.{p}"),
]


def _regex(template: str) -> re.Pattern:
    out = re.escape(template)
    for name, group in (("i", r"\d+"), ("j", r"\d+"), ("p", r".+"), ("unet", r"(?:conv|bn)[12]_[234]")):
        out = out.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
    out = out.replace(re.escape("{stage}"), "(?P<stage>[012])").replace(
        re.escape("{part}"), "(?P<part>[0134])"
    )
    return re.compile("^" + out + "$")


_FORWARD = [(_regex(src), dst) for src, dst in _RULES]
_BACKWARD = [(_regex(dst), src) for src, dst in _RULES]


def _fill(template: str, fields: dict[str, str]) -> str:
    if "unet" in fields:  # conv1_4 <-> stage 0, part 0 ...
        part, level = fields["unet"].split("_")
        fields = {**fields, "stage": _UNET_STAGE[level], "part": _UNET_PART[part]}
    elif "stage" in fields:
        fields = {**fields, "unet": f"{_UNET_NAME[fields['part']]}_{_UNET_LEVEL[fields['stage']]}"}
    return template.format(**fields)


def official_to_vgbench(key: str) -> str | None:
    """The vgbench state-dict key of an official key (``module.`` already stripped).

    Returns None for ``UNUSED_KEYS`` and the shared-head aliases; raises KeyError for a key no rule knows.
    """
    if key in UNUSED_KEYS or ALIAS_PATTERN.match(key):
        return None
    for pattern, template in _FORWARD:
        match = pattern.match(key)
        if match:
            return _fill(template, match.groupdict())
    raise KeyError(key)


def vgbench_to_official(key: str) -> str:
    """The official key of a vgbench key (the inverse of ``official_to_vgbench``); KeyError when unknown."""
    for pattern, template in _BACKWARD:
        match = pattern.match(key)
        if match:
            return _fill(template, match.groupdict())
    raise KeyError(key)
