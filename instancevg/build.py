"""Build InstanceVG from its config, DETR style: each part from its config group, then the model from its parts.

`build_model` builds the encoder, the neck (SimFPN, U-Net, mask and existence heads), the query parts, the
decoder and the box/class heads, and passes them into `InstanceVG`; the string switches of the config
(``decoder.type``, ``quirks.reference_point``, ...) choose which parts are built (`DECODERS`), so the model never
compares strings. `build_criterion` and `build_postprocessor` do the same for training and inference; `build`
returns all three. The parts are created in a fixed order (the random initialisation depends on it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from instancevg.config import InstanceVGConfig
from instancevg.encoders.beit3 import BEiT3Encoder
from instancevg.heads.decoder import QueryDecoder
from instancevg.heads.memory import DecoderMemory
from instancevg.heads.piph import BoxClassHead
from instancevg.heads.query_generator import QueryGenerator
from instancevg.heads.simfpn import SimFPN
from instancevg.heads.unet import ExistenceHead, UNetDecoder
from instancevg.losses import InstanceVGCriterion
from instancevg.losses.matcher import HungarianMatcher
from instancevg.model import InstanceVG, InstanceVGParts, QueryParts
from instancevg.runtime import ModelRuntime, apply_runtime

__all__ = [
    "DECODERS",
    "DecoderChoice",
    "build",
    "build_criterion",
    "build_decoder",
    "build_encoder",
    "build_model",
    "build_postprocessor",
    "build_query_parts",
]


@dataclass(frozen=True)
class DecoderChoice:
    """What one ``decoder.type`` (paper Table 9) builds: the cross-attention of its layers, whether it reads the
    ``msda_levels`` coarsest SimFPN levels (else stride 16 only), whether the memory gets a sine position
    encoding, and whether queries are placed by the prior points (needs the query generator)."""

    cross: str  # "deformable" (MSDA) | "attention" (DETR)
    multi_scale: bool
    sine_position: bool
    point_prior: bool


DECODERS: dict[str, DecoderChoice] = {
    "detr": DecoderChoice(cross="attention", multi_scale=False, sine_position=True, point_prior=False),
    "deformable": DecoderChoice(
        cross="deformable", multi_scale=False, sine_position=False, point_prior=False
    ),
    "ms_deformable": DecoderChoice(
        cross="deformable", multi_scale=True, sine_position=False, point_prior=False
    ),
    "point_ms_deformable": DecoderChoice(
        cross="deformable", multi_scale=True, sine_position=False, point_prior=True
    ),
}

SIMFPN_LEVELS = 4  # c1..c4 at strides 4/8/16/32
SINGLE_SCALE_LEVEL = 2  # stride 16


def build_encoder(cfg: InstanceVGConfig) -> BEiT3Encoder:
    """The BEiT-3 encoder of ``cfg.encoder`` for ``cfg.input.img_size`` images."""
    enc = cfg.encoder
    return BEiT3Encoder(
        img_size=cfg.input.img_size,
        patch_size=enc.patch_size,
        vocab_size=enc.vocab_size,
        dim=enc.dim,
        layers=enc.layers,
        heads=enc.heads,
        ffn_dim=enc.ffn_dim,
        drop_path=enc.drop_path,
        max_text_positions=enc.max_text_positions,
        eps=enc.layernorm_eps,
    )


def build_query_parts(cfg: InstanceVGConfig) -> QueryParts:
    """Queries from the query generator (``ablation.use_apd``) or learned; positions and references from the
    prior points (the point-prior decoder; official offset or the paper's ``p``, ``quirks.reference_point``)
    or learned."""
    c, head, abl = cfg.head.hidden_dim, cfg.head, cfg.ablation
    parts = QueryParts()
    if abl.use_apd:
        parts.generator = QueryGenerator(
            c,
            head.num_queries,
            heads=head.t2i_heads,
            ffn_dim=head.t2i_ffn_dim,
            dropout=head.t2i_dropout,
            w_dist=head.w_dist,
            score=cfg.quirks.text_filter_score,
            pool=cfg.quirks.attn_map_pool,
            use_text_filter=abl.use_text_filter,
            use_dps=abl.use_dps,
            use_tiq=abl.use_tiq,
        )
    else:
        parts.embed = nn.Embedding(head.num_queries, c)
    point_prior = abl.use_apd and DECODERS[cfg.decoder.type].point_prior
    if point_prior:
        parts.pos = nn.Linear(2, c)
    else:
        parts.pos_embed = nn.Embedding(head.num_queries, c)
    if not point_prior or cfg.quirks.reference_point == "offset":
        parts.reference_points = nn.Linear(c, 2)
        nn.init.xavier_normal_(parts.reference_points.weight)
        nn.init.zeros_(parts.reference_points.bias)
    return parts


def _memory(cfg: InstanceVGConfig) -> DecoderMemory:
    choice = DECODERS[cfg.decoder.type]
    if choice.multi_scale:
        levels = tuple(range(SIMFPN_LEVELS - cfg.decoder.msda_levels, SIMFPN_LEVELS))
    else:
        levels = (SINGLE_SCALE_LEVEL,)
    return DecoderMemory(levels=levels, sine_position=choice.sine_position)


def build_decoder(cfg: InstanceVGConfig) -> tuple[QueryDecoder, DecoderMemory]:
    """The query decoder of ``cfg.decoder`` and the memory it reads."""
    dec, memory = cfg.decoder, _memory(cfg)
    decoder = QueryDecoder(
        cfg.head.hidden_dim,
        dec.heads,
        dec.ffn_dim,
        dec.dropout,
        dec.layers,
        len(memory.levels),
        dec.msda_points,
        cross=DECODERS[dec.type].cross,
    )
    return decoder, memory


def build_model(cfg: InstanceVGConfig, runtime: ModelRuntime | None = None) -> InstanceVG:
    """An `InstanceVG` built from its parts (random initialisation; seed before calling for reproducibility),
    switched to ``runtime`` (default `ModelRuntime()`)."""
    c = cfg.head.hidden_dim
    encoder = build_encoder(cfg)
    img_proj = nn.Conv2d(cfg.encoder.dim, c, 1, bias=False)
    text_proj = nn.Linear(cfg.encoder.dim, c, bias=False)
    simfpn, unet = SimFPN(c), UNetDecoder(c)
    global_head, exist_head = nn.Conv2d(c, 1, 1), ExistenceHead(c)
    queries = build_query_parts(cfg)
    decoder, memory = build_decoder(cfg)
    n_heads = 1 if cfg.quirks.share_heads else cfg.decoder.layers
    heads = nn.ModuleList(BoxClassHead(c) for _ in range(n_heads))
    parts = InstanceVGParts(
        encoder=encoder,
        img_proj=img_proj,
        text_proj=text_proj,
        simfpn=simfpn,
        unet=unet,
        global_head=global_head,
        exist_head=exist_head,
        queries=queries,
        decoder=decoder,
        heads=heads,
        memory=memory,
        instance_masks=cfg.ablation.use_piph,
    )
    return apply_runtime(InstanceVG(cfg, parts), runtime)


def build_criterion(cfg: InstanceVGConfig) -> InstanceVGCriterion:
    """The training loss: the Hungarian matcher of ``cfg.matcher`` (no point cost without the point-prior
    queries and instance heads) and the loss weights of ``cfg.loss``."""
    m, abl = cfg.matcher, cfg.ablation
    point_cost = m.cost_point if (abl.use_apd and abl.use_piph) else 0.0
    matcher = HungarianMatcher(m.cost_class, m.cost_bbox, m.cost_giou, point_cost)
    return InstanceVGCriterion(cfg, matcher=matcher)


def build_postprocessor(cfg: InstanceVGConfig) -> Callable[[dict, Sequence[dict]], list[dict[str, Any]]]:
    """``postprocessor(outputs, metas) -> records`` under ``cfg.postprocess`` (`instancevg.postprocess`)."""
    from instancevg.postprocess import postprocess

    return functools.partial(postprocess, cfg=cfg)


def build(
    cfg: InstanceVGConfig, runtime: ModelRuntime | None = None
) -> tuple[InstanceVG, InstanceVGCriterion, Callable[[dict, Sequence[dict]], list[dict[str, Any]]]]:
    """``(model, criterion, postprocessor)`` of ``cfg``, as DETR's ``build``."""
    model = build_model(cfg, runtime)
    return model, build_criterion(cfg), build_postprocessor(cfg)
