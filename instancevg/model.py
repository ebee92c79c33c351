"""InstanceVG (Dai et al., TPAMI 2025): BEiT-3 encoder, SimFPN + U-Net, point-prior query decoder, PIPH heads.

Data flow for a batch of B images ``[B, 3, S, S]`` and texts ``[B, L]`` (g = S / patch, C = ``head.hidden_dim``):

1. BEiT-3 joint encoding -> image tokens ``[B, g*g, D]`` and text tokens ``[B, L, D]``;
2. projections: Conv1x1 (no bias) to ``[B, C, g, g]`` and Linear (no bias) to ``[B, L, C]``;
3. SimFPN -> c1..c4 at strides 4/8/16/32; U-Net -> pixel map P ``[B, C, S/4, S/4]``; global mask Conv1x1(P);
   existence MLP averaged over P;
4. query generator on the projected tokens -> N_q queries, prior points, attention map;
5. 3-layer deformable decoder over the flattened c1..c4 with ``query_pos = Linear(2, C)(points)`` and one shared
   reference ``sigmoid(Linear(C, 2)(query_pos)) + points`` (official) or ``points`` (paper);
6. shared class/box heads per layer; instance masks = last-layer queries . P; the instance and global mask
   logits are upsampled to S x S bilinearly with ``align_corners=True`` (as the official head).

The model is built from its parts (`InstanceVGParts`) by `instancevg.build.build_model`, which picks them from
the config's switches; the forward pass only asks which optional parts are present.
Everything runs on the device of the inputs; no ``.cuda()`` anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from instancevg.config import InstanceVGConfig
from instancevg.heads.decoder import QueryDecoder
from instancevg.heads.memory import DecoderMemory
from instancevg.heads.piph import query_masks

__all__ = ["InstanceVG", "InstanceVGParts", "QueryParts"]


@dataclass
class QueryParts:
    """Where the decoder's queries, their positions and reference points come from.

    - ``generator`` (the attention-based query generator, ``ablation.use_apd``) or ``embed`` (learned queries);
    - ``pos`` (``Linear(2, C)`` of the prior points: the point-prior decoder) or ``pos_embed`` (learned);
    - ``reference_points`` (``Linear(C, 2)``): with ``pos``, the official offset ``sigmoid(.) + p`` (None: the
      paper's ``p``); with ``pos_embed``, ``sigmoid(reference_points(pos_embed))``.
    """

    generator: nn.Module | None = None
    embed: nn.Embedding | None = None
    pos: nn.Linear | None = None
    pos_embed: nn.Embedding | None = None
    reference_points: nn.Linear | None = None


@dataclass
class InstanceVGParts:
    """The submodules of `InstanceVG` (built by `instancevg.build.build_model`).

    ``heads``: one shared `BoxClassHead` or one per decoder layer. ``memory``: which SimFPN levels the decoder
    reads. ``instance_masks``: whether the last-layer queries give instance masks (PIPH).
    """

    encoder: nn.Module
    img_proj: nn.Module
    text_proj: nn.Module
    simfpn: nn.Module
    unet: nn.Module
    global_head: nn.Module
    exist_head: nn.Module
    queries: QueryParts
    decoder: QueryDecoder
    heads: nn.ModuleList
    memory: DecoderMemory
    instance_masks: bool = True


class InstanceVG(nn.Module):
    """The full model. ``forward(images, text_ids, text_pad_mask) -> dict``.

    Inputs: ``images`` FloatTensor[B, 3, S, S] normalised (``instancevg.transforms.preprocess_image``);
    ``text_ids`` LongTensor[B, L]; ``text_pad_mask`` BoolTensor[B, L], True = padding.

    Output keys (boxes normalised cxcywh of the S x S input; points normalised (x, y); masks are logits):

    - ``pred_logits`` [B, N_q, 2] (index 0 = object), ``pred_boxes`` [B, N_q, 4]: last decoder layer;
    - ``aux_outputs``: list (one per earlier layer) of ``{"pred_logits", "pred_boxes"}``;
    - ``pred_masks`` [B, N_q, S, S] instance mask logits (None without instance masks, ``use_piph=False``);
    - ``global_mask`` [B, S, S] logits; ``exist_logits`` [B, 2] (index 1 = empty);
    - ``points`` [B, N_q, 2] prior points (the reference points without a query generator);
      ``reference_points`` [B, N_q, 2];
    - ``attn_map`` [B, g, g] pooled text-to-image attention probabilities, ``query_attn`` [B, T, g, g],
      ``query_valid`` [B, T] (all three None without a query generator).

    ``cfg`` is kept for reference (``model.cfg``); the forward pass reads only the parts. State-dict names:
    ``encoder``, ``img_proj``, ``text_proj``, ``simfpn``, ``unet``, ``global_head``, ``exist_head``,
    ``query_generator`` | ``query_embed``, ``query_pos`` | ``query_pos_embed``, ``reference_points``,
    ``decoder``, ``heads``.
    """

    def __init__(self, cfg: InstanceVGConfig, parts: InstanceVGParts) -> None:
        super().__init__()
        self.cfg = cfg
        q = parts.queries
        # registration order = parameter order (optimizer state, checkpoints): keep it
        self.encoder = parts.encoder
        self.img_proj = parts.img_proj
        self.text_proj = parts.text_proj
        self.simfpn = parts.simfpn
        self.unet = parts.unet
        self.global_head = parts.global_head
        self.exist_head = parts.exist_head
        self.query_generator = q.generator
        self.query_embed = q.embed
        self.query_pos = q.pos
        self.query_pos_embed = q.pos_embed
        self.reference_points = q.reference_points
        self.decoder = parts.decoder
        self.heads = parts.heads
        self.memory = parts.memory
        self.instance_masks = parts.instance_masks

    # ------------------------------------------------------------------ parameter groups
    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of the BEiT-3 encoder (learning rate ``train.lr_encoder``)."""
        return self.encoder.parameters()

    def head_parameters(self) -> Iterator[nn.Parameter]:
        """Every other parameter (learning rate ``train.lr``)."""
        enc = {id(p) for p in self.encoder.parameters()}
        return (p for p in self.parameters() if id(p) not in enc)

    # ------------------------------------------------------------------ forward
    def _queries(
        self, img_map: torch.Tensor, txt: torch.Tensor, text_pad_mask: torch.Tensor, b: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """``(tgt [B,Q,C], query_pos [B,Q,C], reference points [B,Q,2], query generator outputs or {})``."""
        iqg: dict[str, torch.Tensor] = {}
        if self.query_generator is not None:
            g = img_map.shape[-1]
            iqg = self.query_generator(img_map.flatten(2).transpose(1, 2), txt, text_pad_mask, (g, g))
            tgt = iqg["query"]
        else:
            tgt = self.query_embed.weight[None].expand(b, -1, -1)
        if self.query_pos is not None:  # point prior: positions and references from the prior points
            query_pos = self.query_pos(iqg["points"])
            ref = iqg["points"]
            if self.reference_points is not None:  # official offset
                ref = self.reference_points(query_pos).sigmoid() + ref
        else:
            query_pos = self.query_pos_embed.weight[None].expand(b, -1, -1)
            ref = self.reference_points(query_pos).sigmoid()
        return tgt, query_pos, ref, iqg

    def forward(
        self, images: torch.Tensor, text_ids: torch.Tensor, text_pad_mask: torch.Tensor
    ) -> dict[str, torch.Tensor | list | None]:
        b, s = images.shape[0], images.shape[-1]
        text_pad_mask = text_pad_mask.to(torch.bool)
        vis, txt = self.encoder.encode(images, text_ids, text_pad_mask)
        img = vis[:, 1:]  # drop CLS (unused by the official head)
        g = self.encoder.grid_size
        img_map = self.img_proj(img.transpose(1, 2).reshape(b, -1, g, g))  # [B, C, g, g]
        txt = self.text_proj(txt)  # [B, L, C]
        feats = self.simfpn(img_map)
        pixel = self.unet(feats)  # [B, C, S/4, S/4]
        global_mask = F.interpolate(self.global_head(pixel), size=(s, s), mode="bilinear", align_corners=True)
        exist_logits = self.exist_head(pixel)

        tgt, query_pos, ref, iqg = self._queries(img_map, txt, text_pad_mask, b)
        memory, memory_pos, shapes = self.memory(feats)
        hs = self.decoder(tgt, query_pos, ref, memory, memory_pos, shapes)  # [layers, B, Q, C]

        per_layer = []
        for i in range(hs.shape[0]):
            head = self.heads[i % len(self.heads)]  # one shared head, or one per layer
            logits, boxes = head(hs[i], ref)
            per_layer.append({"pred_logits": logits, "pred_boxes": boxes})
        pred_masks = None
        if self.instance_masks:
            masks = query_masks(hs[-1], pixel)
            pred_masks = F.interpolate(masks, size=(s, s), mode="bilinear", align_corners=True)
        return {
            "pred_logits": per_layer[-1]["pred_logits"],
            "pred_boxes": per_layer[-1]["pred_boxes"],
            "aux_outputs": per_layer[:-1],
            "pred_masks": pred_masks,
            "global_mask": global_mask[:, 0],
            "exist_logits": exist_logits,
            "points": iqg.get("points", ref),
            "reference_points": ref,
            "attn_map": iqg.get("attn_map"),
            "query_attn": iqg.get("query_attn"),
            "query_valid": iqg.get("query_valid"),
        }
