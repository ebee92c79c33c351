"""BEiT-3 multiway Transformer encoder in pure PyTorch, with torchscale's parameter names.

What it reproduces (torchscale 0.3.0 ``BEiT3`` + ``Encoder`` with the BEiT-3 settings, docs/instancevg.md):

- pre-LN layers with Magneto sub-LN: ``inner_attn_ln`` before the attention output projection and
  ``ffn_layernorm`` between the GELU and fc2; a final ``layer_norm``; LayerNorm eps 1e-5; drop path rising
  linearly from 0 to ``drop_path`` over the layers; no dropout;
- every Linear and LayerNorm is a ``Multiway`` pair: expert A for the vision tokens ``[CLS, patches]``, expert B for
  the text tokens; self-attention is joint over the concatenated sequence, padded text tokens are masked as keys
  and their embeddings zeroed;
- learned position tables with the fairseq offset: positions start at 2, so the vision table has
  ``num_patches + 1 + 2`` rows and the text table ``max_text_positions`` rows.

Sequence layout: ``[CLS, patch_1 .. patch_N (row-major), text_1 .. text_L]``, ``N = (S / patch)^2``.
Weights: random init as BEiT3Wrapper (trunc-normal 0.02 Linear, LayerNorm 1/0; embeddings trunc-normal 0.02);
load real weights with ``instancevg.checkpoint.load_beit3_checkpoint``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from instancevg.encoders.multiway import Multiway

__all__ = ["BEiT3Encoder"]


def _drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep / (1 - p)


class VisionEmbedding(nn.Module):
    """Patch embedding (Conv k=s=patch) with a prepended CLS token; ``mask_token`` is kept for the key names."""

    def __init__(self, img_size: int, patch_size: int, dim: int) -> None:
        super().__init__()
        self.grid = img_size // patch_size
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        # used only by BEiT-3 pre-training: a buffer (not a parameter) keeps the checkpoint key without leaving
        # an unused parameter for DistributedDataParallel
        self.register_buffer("mask_token", torch.zeros(1, 1, dim))

    @property
    def num_position_embeddings(self) -> int:
        return self.grid * self.grid + 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images [B, 3, S, S]`` -> ``[B, 1 + N, D]``."""
        x = self.proj(images).flatten(2).transpose(1, 2)
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)


class PositionalEmbedding(nn.Embedding):
    """Learned absolute positions; ``forward(n)`` returns rows ``2 .. n + 1`` (fairseq offset) as ``[1, n, D]``."""

    def forward(self, n: int) -> torch.Tensor:  # type: ignore[override]
        if n + 2 > self.num_embeddings:
            raise ValueError(
                f"sequence of {n} tokens needs {n + 2} positions, table has {self.num_embeddings}"
            )
        return self.weight[2 : n + 2].unsqueeze(0)


class FeedForward(nn.Module):
    """fc1 -> GELU -> ffn_layernorm (sub-LN) -> fc2."""

    def __init__(self, dim: int, ffn_dim: int, eps: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, ffn_dim)
        self.ffn_layernorm = nn.LayerNorm(ffn_dim, eps=eps)
        self.fc2 = nn.Linear(ffn_dim, dim)

    def reset_parameters(self) -> None:
        for m in (self.fc1, self.ffn_layernorm, self.fc2):
            m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.ffn_layernorm(F.gelu(self.fc1(x))))


class MultiwayAttention(nn.Module):
    """Joint multi-head self-attention with multiway q/k/v/out projections and sub-LN before ``out_proj``."""

    def __init__(self, dim: int, num_heads: int, eps: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.k_proj = Multiway(nn.Linear(dim, dim))
        self.v_proj = Multiway(nn.Linear(dim, dim))
        self.q_proj = Multiway(nn.Linear(dim, dim))
        self.out_proj = Multiway(nn.Linear(dim, dim))
        self.inner_attn_ln = Multiway(nn.LayerNorm(dim, eps=eps))

    def forward(
        self, vis: torch.Tensor, txt: torch.Tensor, attn_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Vision ``[B, Nv, D]`` and text ``[B, Nt, D]`` parts; ``attn_mask`` bool ``[B, 1, 1, Nv + Nt]``,
        True = may attend (None: all). Attention is joint over the concatenation ``[vision, text]``."""
        b, nv, d = vis.shape
        n = nv + txt.shape[1]
        h = self.num_heads

        def heads(proj: Multiway) -> torch.Tensor:
            t = torch.cat(proj.pair(vis, txt), dim=1)
            return t.view(b, n, h, d // h).transpose(1, 2)

        q, k, v = heads(self.q_proj), heads(self.k_proj), heads(self.v_proj)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = out.transpose(1, 2).reshape(b, n, d)
        ov, ot = self.inner_attn_ln.pair(out[:, :nv], out[:, nv:])
        return self.out_proj.pair(ov, ot)


class EncoderLayer(nn.Module):
    """Pre-LN block: ``x + attn(LN(x))`` then ``x + ffn(LN(x))``, each branch with drop path."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, drop_path: float, eps: float) -> None:
        super().__init__()
        self.self_attn = MultiwayAttention(dim, num_heads, eps)
        self.self_attn_layer_norm = Multiway(nn.LayerNorm(dim, eps=eps))
        self.ffn = Multiway(FeedForward(dim, ffn_dim, eps))
        self.final_layer_norm = Multiway(nn.LayerNorm(dim, eps=eps))
        self.drop_path = drop_path

    def forward(
        self, vis: torch.Tensor, txt: torch.Tensor, attn_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        p, training = self.drop_path, self.training
        yv, yt = self.self_attn(*self.self_attn_layer_norm.pair(vis, txt), attn_mask)
        vis, txt = vis + _drop_path(yv, p, training), txt + _drop_path(yt, p, training)
        yv, yt = self.ffn.pair(*self.final_layer_norm.pair(vis, txt))
        return vis + _drop_path(yv, p, training), txt + _drop_path(yt, p, training)


class Encoder(nn.Module):
    """The torchscale ``Encoder`` part: position tables, layers, final multiway LayerNorm."""

    def __init__(
        self,
        dim: int,
        layers: int,
        heads: int,
        ffn_dim: int,
        drop_path: float,
        eps: float,
        vision_positions: int,
        text_positions: int,
    ) -> None:
        super().__init__()
        self.embed_positions = nn.Module()
        self.embed_positions.A = PositionalEmbedding(vision_positions + 2, dim)
        self.embed_positions.B = PositionalEmbedding(text_positions, dim)
        rates = [drop_path * i / (layers - 1) for i in range(layers)] if layers > 1 else [0.0] * layers
        self.layers = nn.ModuleList(EncoderLayer(dim, heads, ffn_dim, r, eps) for r in rates)
        self.layer_norm = Multiway(nn.LayerNorm(dim, eps=eps))


class BEiT3Encoder(nn.Module):
    """BEiT-3 over an image and a text.

    ``forward(images [B,3,S,S], text_ids [B,L] long, text_pad_mask [B,L] bool True = padding)`` returns the
    encoded sequence ``[B, 1 + N + L, D]``; use ``split_features`` to get ``(cls [B,D], image [B,N,D],
    text [B,L,D])``.
    """

    def __init__(
        self,
        *,
        img_size: int,
        patch_size: int,
        vocab_size: int,
        dim: int,
        layers: int,
        heads: int,
        ffn_dim: int,
        drop_path: float = 0.0,
        max_text_positions: int = 1024,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.text_embed = nn.Embedding(vocab_size, dim)
        self.vision_embed = VisionEmbedding(img_size, patch_size, dim)
        self.encoder = Encoder(
            dim,
            layers,
            heads,
            ffn_dim,
            drop_path,
            eps,
            self.vision_embed.num_position_embeddings,
            max_text_positions,
        )
        self.apply(self._init_weights)
        for p in (self.text_embed.weight, self.vision_embed.cls_token):
            nn.init.trunc_normal_(p, std=0.02)
        for table in (self.encoder.embed_positions.A, self.encoder.embed_positions.B):
            nn.init.trunc_normal_(table.weight, std=0.02)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    @property
    def grid_size(self) -> int:
        """Patches per side: S / patch_size."""
        return self.vision_embed.grid

    def forward(
        self, images: torch.Tensor, text_ids: torch.Tensor, text_pad_mask: torch.Tensor
    ) -> torch.Tensor:
        return torch.cat(self.encode(images, text_ids, text_pad_mask), dim=1)

    def encode(
        self, images: torch.Tensor, text_ids: torch.Tensor, text_pad_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As ``forward`` with the two parts kept apart: ``(vision [B, 1 + N, D], text [B, L, D])``."""
        vis = self.vision_embed(images)
        vis = vis + self.encoder.embed_positions.A(vis.shape[1])
        txt = self.text_embed(text_ids) + self.encoder.embed_positions.B(text_ids.shape[1])
        txt = txt * (~text_pad_mask).unsqueeze(-1).to(txt.dtype)
        attn_mask = None
        if bool(text_pad_mask.any()):
            keep = torch.cat([text_pad_mask.new_ones(vis.shape[:2]), ~text_pad_mask], dim=1)
            attn_mask = keep[:, None, None, :]
        for layer in self.encoder.layers:
            vis, txt = layer(vis, txt, attn_mask)
        return self.encoder.layer_norm.pair(vis, txt)

    def split_features(
        self, x: torch.Tensor, num_text: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``[B, 1+N+L, D]`` -> ``(cls [B, D], image [B, N, D], text [B, L, D])``."""
        return x[:, 0], x[:, 1:-num_text], x[:, -num_text:]
