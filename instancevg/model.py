"""InstanceVG (Dai et al., TPAMI 2025): BEiT-3 encoder, SimFPN + U-Net, point-prior query decoder, PIPH heads.

Data flow for a batch of B images ``[B, 3, S, S]`` and texts ``[B, L]`` (g = S / patch, C = ``hidden_dim``):

1. BEiT-3 joint encoding -> image tokens ``[B, g*g, D]`` and text tokens ``[B, L, D]``;
2. projections: Conv1x1 (no bias) to ``[B, C, g, g]`` and Linear (no bias) to ``[B, L, C]``;
3. SimFPN -> c1..c4 at strides 4/8/16/32; U-Net -> pixel map P ``[B, C, S/4, S/4]``; global mask Conv1x1(P);
   existence MLP averaged over P;
4. query generator on the projected tokens -> N_q queries, prior points, attention map;
5. 3-layer deformable decoder over the flattened c1..c4 with ``query_pos = Linear(2, C)(points)`` and one shared
   reference ``sigmoid(Linear(C, 2)(query_pos)) + points`` (official) or ``points`` (paper);
6. shared class/box heads per layer; instance masks = last-layer queries . P; the instance and global mask
   logits are upsampled to S x S bilinearly with ``align_corners=True`` (as the official head).

Everything runs on the device of the inputs; no ``.cuda()`` anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from instancevg.config import InstanceVGConfig
from instancevg.encoders.beit3 import BEiT3Encoder
from instancevg.heads.decoder import QueryDecoder
from instancevg.heads.piph import BoxClassHead, query_masks
from instancevg.heads.query_generator import QueryGenerator
from instancevg.heads.simfpn import SimFPN
from instancevg.heads.unet import ExistenceHead, UNetDecoder
from instancevg.ops.onednn_linear import use_onednn_linear
from instancevg.ops.position import sine_position_2d

__all__ = ["InstanceVG"]


class InstanceVG(nn.Module):
    """The full model. ``forward(images, text_ids, text_pad_mask) -> dict``.

    Inputs: ``images`` FloatTensor[B, 3, S, S] normalised (``instancevg.transforms.preprocess_image``);
    ``text_ids`` LongTensor[B, L]; ``text_pad_mask`` BoolTensor[B, L], True = padding.

    Output keys (boxes normalised cxcywh of the S x S input; points normalised (x, y); masks are logits):

    - ``pred_logits`` [B, N_q, 2] (index 0 = object), ``pred_boxes`` [B, N_q, 4]: last decoder layer;
    - ``aux_outputs``: list (one per earlier layer) of ``{"pred_logits", "pred_boxes"}``;
    - ``pred_masks`` [B, N_q, S, S] instance mask logits (None when ``use_piph=False``);
    - ``global_mask`` [B, S, S] logits; ``exist_logits`` [B, 2] (index 1 = empty);
    - ``points`` [B, N_q, 2] prior points (the reference points when ``use_apd=False``);
      ``reference_points`` [B, N_q, 2];
    - ``attn_map`` [B, g, g] pooled text-to-image attention probabilities, ``query_attn`` [B, T, g, g],
      ``query_valid`` [B, T] (all three None when ``use_apd=False``).
    """

    def __init__(self, cfg: InstanceVGConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.hidden_dim
        self.encoder = BEiT3Encoder(
            img_size=cfg.img_size,
            patch_size=cfg.patch_size,
            vocab_size=cfg.vocab_size,
            dim=cfg.encoder_dim,
            layers=cfg.encoder_layers,
            heads=cfg.encoder_heads,
            ffn_dim=cfg.encoder_ffn_dim,
            drop_path=cfg.encoder_drop_path,
            max_text_positions=cfg.encoder_max_text_positions,
            eps=cfg.encoder_layernorm_eps,
        )
        self.img_proj = nn.Conv2d(cfg.encoder_dim, c, 1, bias=False)
        self.text_proj = nn.Linear(cfg.encoder_dim, c, bias=False)
        self.simfpn = SimFPN(c)
        self.unet = UNetDecoder(c)
        self.global_head = nn.Conv2d(c, 1, 1)
        self.exist_head = ExistenceHead(c)
        self.point_prior = cfg.use_apd and cfg.decoder_type == "point_ms_deformable"
        if cfg.use_apd:
            self.query_generator = QueryGenerator(
                c,
                cfg.num_queries,
                heads=cfg.t2i_heads,
                ffn_dim=cfg.t2i_ffn_dim,
                dropout=cfg.t2i_dropout,
                w_dist=cfg.w_dist,
                score=cfg.text_filter_score,
                pool=cfg.attn_map_pool,
                use_text_filter=cfg.use_text_filter,
                use_dps=cfg.use_dps,
                use_tiq=cfg.use_tiq,
            )
        else:
            self.query_embed = nn.Embedding(cfg.num_queries, c)
        if self.point_prior:
            self.query_pos = nn.Linear(2, c)
        else:
            self.query_pos_embed = nn.Embedding(cfg.num_queries, c)
        if not self.point_prior or cfg.reference_point == "offset":
            self.reference_points = nn.Linear(c, 2)
            nn.init.xavier_normal_(self.reference_points.weight)
            nn.init.zeros_(self.reference_points.bias)
        # multi-scale decoders read the msda_levels coarsest SimFPN levels; the single-scale ones stride 16 only
        multi_scale = cfg.decoder_type in ("point_ms_deformable", "ms_deformable")
        self.levels = levels = cfg.msda_levels if multi_scale else 1
        self.decoder = QueryDecoder(
            c,
            cfg.decoder_heads,
            cfg.decoder_ffn_dim,
            cfg.decoder_dropout,
            cfg.decoder_layers,
            levels,
            cfg.msda_points,
            cross="attention" if cfg.decoder_type == "detr" else "deformable",
        )
        n_heads = 1 if cfg.share_heads else cfg.decoder_layers
        self.heads = nn.ModuleList(BoxClassHead(c) for _ in range(n_heads))
        if cfg.onednn_linear:
            use_onednn_linear(self)

    # ------------------------------------------------------------------ parameter groups
    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of the BEiT-3 encoder (learning rate ``train.lr_encoder``)."""
        return self.encoder.parameters()

    def head_parameters(self) -> Iterator[nn.Parameter]:
        """Every other parameter (learning rate ``train.lr``)."""
        enc = {id(p) for p in self.encoder.parameters()}
        return (p for p in self.parameters() if id(p) not in enc)

    # ------------------------------------------------------------------ forward
    def _memory(
        self, feats: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[tuple[int, int]]]:
        """Flattened decoder memory, its position encoding (DETR decoder only) and the level shapes."""
        if self.cfg.decoder_type in ("point_ms_deformable", "ms_deformable"):
            used = feats[len(feats) - self.levels :] if self.levels < 4 else feats
        else:
            used = [feats[2]]  # stride 16: the single-scale decoders
        shapes = [(int(f.shape[-2]), int(f.shape[-1])) for f in used]
        memory = torch.cat([f.flatten(2).transpose(1, 2) for f in used], dim=1)
        pos = None
        if self.cfg.decoder_type == "detr":
            h, w = shapes[0]
            pos = sine_position_2d(h, w, memory.shape[-1], device=memory.device).to(memory.dtype)
        return memory, pos, shapes

    def forward(
        self, images: torch.Tensor, text_ids: torch.Tensor, text_pad_mask: torch.Tensor
    ) -> dict[str, torch.Tensor | list | None]:
        cfg = self.cfg
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

        iqg: dict[str, torch.Tensor] = {}
        if cfg.use_apd:
            iqg = self.query_generator(img_map.flatten(2).transpose(1, 2), txt, text_pad_mask, (g, g))
            tgt = iqg["query"]
        else:
            tgt = self.query_embed.weight[None].expand(b, -1, -1)
        if self.point_prior:
            query_pos = self.query_pos(iqg["points"])
            ref = iqg["points"]
            if cfg.reference_point == "offset":
                ref = self.reference_points(query_pos).sigmoid() + ref
        else:
            query_pos = self.query_pos_embed.weight[None].expand(b, -1, -1)
            ref = self.reference_points(query_pos).sigmoid()
        memory, memory_pos, shapes = self._memory(feats)
        hs = self.decoder(tgt, query_pos, ref, memory, memory_pos, shapes)  # [layers, B, Q, C]

        per_layer = []
        for i in range(hs.shape[0]):
            head = self.heads[0] if cfg.share_heads else self.heads[i]
            logits, boxes = head(hs[i], ref)
            per_layer.append({"pred_logits": logits, "pred_boxes": boxes})
        pred_masks = None
        if cfg.use_piph:
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
