"""Instance Query Generator (paper 3.2.1; official ``AQSM``): text filter, text-to-image attention, point selector.

Grid convention: the image tokens are the ``h x w`` patch grid in row-major order; cell ``(i, j)`` (row i,
column j) has flat index ``i * w + j`` and normalised centre ``((j + 0.5) / w, (i + 0.5) / h)`` in (x, y) order.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from instancevg.heads.common import MLP, feed_forward
from instancevg.ops.position import sine_position_2d

__all__ = ["QueryGenerator", "T2IDecoderLayer", "select_points", "text_filter"]


def text_filter(
    text_feat: torch.Tensor, pad_mask: torch.Tensor, num: int, score: str = "mean"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 1: pick ``num`` tokens per sample.

    ``text_feat [B, L, C]``, ``pad_mask [B, L]`` (True = padding; ``<s>`` and ``</s>`` count as valid).
    Scores are the channel mean (``score="mean"``, official code) or the L2 norm (``"l2"``, paper) of the masked
    features. With at least ``num`` valid tokens the top-``num`` by score are kept (in decreasing score) and all
    are valid; otherwise the first ``num`` positions are taken (padding features are zero) and only the valid
    ones are marked. Returns ``(features [B, num, C], valid [B, num] bool)``.
    """
    b, length, c = text_feat.shape
    valid = ~pad_mask
    feat = text_feat * valid.unsqueeze(-1).to(text_feat.dtype)
    if length < num:  # too short a sequence: pad with empty positions
        feat = torch.cat([feat, feat.new_zeros(b, num - length, c)], dim=1)
        valid = torch.cat([valid, valid.new_zeros(b, num - length)], dim=1)
    scores = feat.mean(-1) if score == "mean" else feat.norm(dim=-1)
    top = scores.masked_fill(~valid, float("-inf")).topk(num, dim=1).indices
    first = torch.arange(num, device=feat.device).expand(b, num)
    enough = (valid.sum(1) >= num)[:, None]
    idx = torch.where(enough, top, first)
    selected = feat.gather(1, idx[..., None].expand(b, num, c))
    selected_valid = torch.where(enough, torch.ones_like(enough), valid.gather(1, idx))
    return selected, selected_valid


@torch.no_grad()
def select_points(
    score_map: torch.Tensor, num: int, w_dist: float = 0.003, greedy: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 2, the dynamic point selector (no gradient).

    ``score_map [B, h, w]`` is passed through a sigmoid; the first point is its argmax; each next point is the
    unselected cell maximising ``s + w_dist * D / sqrt(h^2 + w^2)``, D = Euclidean distance in cells to the
    nearest selected point. ``greedy=False`` takes the top-``num`` cells instead (the paper's TopK baseline).
    Ties go to the lowest flat index. Returns ``(index [B, num] long, flat row-major; points [B, num, 2]
    normalised (x, y) cell centres)``.
    """
    _b, h, w = score_map.shape
    if num > h * w:
        raise ValueError(f"select_points: {num} points asked from a {h}x{w} grid")
    s = score_map.sigmoid().flatten(1)
    if greedy:
        rows = torch.arange(h, device=s.device).repeat_interleave(w).to(s.dtype)
        cols = torch.arange(w, device=s.device).repeat(h).to(s.dtype)
        diag = math.sqrt(h * h + w * w)
        first = s.argmax(1)
        chosen = [first]
        taken = torch.zeros_like(s, dtype=torch.bool)
        taken.scatter_(1, first[:, None], True)
        min_dist = torch.full_like(s, float("inf"))
        for _ in range(num - 1):
            last = chosen[-1]
            d = torch.sqrt((rows[None] - rows[last][:, None]) ** 2 + (cols[None] - cols[last][:, None]) ** 2)
            min_dist = torch.minimum(min_dist, d)
            combined = (s + w_dist * min_dist / diag).masked_fill(taken, float("-inf"))
            nxt = combined.argmax(1)
            taken.scatter_(1, nxt[:, None], True)
            chosen.append(nxt)
        index = torch.stack(chosen, 1)
    else:
        index = s.topk(num, dim=1).indices
    x = (index % w).to(score_map.dtype).add_(0.5).div_(w)
    y = torch.div(index, w, rounding_mode="floor").to(score_map.dtype).add_(0.5).div_(h)
    return index, torch.stack([x, y], dim=-1)


class T2IDecoderLayer(nn.Module):
    """One post-norm DETR decoder layer (self-attn, cross-attn, FFN, each + residual + LN) and a final LN.

    ``forward(query [B,Q,C], query_pos [B,Q,C], memory [B,HW,C], key_pos [HW,C])`` returns
    ``(output [B,Q,C], cross-attention weights [B,Q,HW] averaged over heads)``. As ``nn.MultiheadAttention``
    returns them, the weights are taken after attention dropout.
    """

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ffn = feed_forward(dim, ffn_dim, dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, query: torch.Tensor, query_pos: torch.Tensor, memory: torch.Tensor, key_pos: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = query + query_pos
        x = self.norms[0](query + self.dropout(self.self_attn(q, q, query, need_weights=False)[0]))
        out, weights = self.cross_attn(x + query_pos, memory + key_pos, memory)
        x = self.norms[1](x + self.dropout(out))
        x = self.norms[2](x + self.dropout(self.ffn(x)))
        return self.norms[3](x), weights


class QueryGenerator(nn.Module):
    """Text filter -> T2I layer -> global attention map -> point selector -> instance queries.

    ``forward(image [B, h*w, C], text [B, L, C], text_pad_mask [B, L], grid (h, w))`` returns a dict:
    ``query [B, N_q, C]``, ``points [B, N_q, 2]`` (normalised x, y), ``point_index [B, N_q]`` (flat cell),
    ``attn_map [B, h, w]`` (max or mean over the valid selected tokens of the attention probabilities),
    ``query_attn [B, T, h, w]`` (per token; T = N_q, or L without the text filter), ``query_valid [B, T]``.
    """

    def __init__(
        self,
        dim: int,
        num_queries: int,
        heads: int = 8,
        ffn_dim: int = 512,
        dropout: float = 0.1,
        w_dist: float = 0.003,
        score: str = "mean",
        pool: str = "max",
        use_text_filter: bool = True,
        use_dps: bool = True,
        use_tiq: bool = True,
    ) -> None:
        super().__init__()
        self.num_queries, self.w_dist, self.score, self.pool = num_queries, w_dist, score, pool
        self.use_text_filter, self.use_dps, self.use_tiq = use_text_filter, use_dps, use_tiq
        self.t2i = T2IDecoderLayer(dim, heads, ffn_dim, dropout)
        self.query_mlp = MLP(2 * dim if use_tiq else dim, dim, dim, 3)

    def forward(
        self, image: torch.Tensor, text: torch.Tensor, text_pad_mask: torch.Tensor, grid: tuple[int, int]
    ) -> dict[str, torch.Tensor]:
        h, w = grid
        b, _, c = image.shape
        if self.use_text_filter:
            tokens, valid = text_filter(text, text_pad_mask, self.num_queries, self.score)
        else:
            tokens, valid = text * (~text_pad_mask).unsqueeze(-1).to(text.dtype), ~text_pad_mask
        key_pos = sine_position_2d(h, w, c, device=image.device).to(image.dtype)
        out, attn = self.t2i(torch.zeros_like(tokens), tokens, image, key_pos)
        masked = attn * valid.unsqueeze(-1).to(attn.dtype)
        if self.pool == "max":
            attn_map = masked.max(1).values
        else:
            attn_map = masked.sum(1) / valid.sum(1, keepdim=True).clamp(min=1).to(attn.dtype)
        index, points = select_points(attn_map.view(b, h, w), self.num_queries, self.w_dist, self.use_dps)
        pos_feat = image.gather(1, index[..., None].expand(b, self.num_queries, c))
        query_in = torch.cat([out, pos_feat], dim=-1) if self.use_tiq else pos_feat
        return {
            "query": self.query_mlp(query_in),
            "points": points,
            "point_index": index,
            "attn_map": attn_map.view(b, h, w),
            "query_attn": attn.view(b, -1, h, w),
            "query_valid": valid,
        }
