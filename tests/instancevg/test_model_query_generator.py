"""Text filter (Algorithm 1) and dynamic point selector (Algorithm 2) on hand-made inputs."""

from __future__ import annotations

import math

import torch

from instancevg.heads.query_generator import QueryGenerator, select_points, text_filter


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_point_selector_first_is_argmax_then_score_plus_distance():
    # 1 x 5 grid; sigmoid scores chosen so that distance decides between cells 1 and 4
    probs = [0.9, 0.8, 0.1, 0.1, 0.79]
    score_map = torch.tensor([[[_logit(p) for p in probs]]])
    _, points = select_points(score_map, 2, w_dist=0.0)
    assert points[0, 1, 0] == 1.5 / 5  # without the distance term: the second highest score
    # with distance: cell 4 is 4 cells away from cell 0, cell 1 only 1: 0.79 + w*4/diag > 0.8 + w*1/diag
    index, points = select_points(score_map, 2, w_dist=0.1)
    assert index[0].tolist() == [0, 4]
    torch.testing.assert_close(points[0], torch.tensor([[0.5 / 5, 0.5], [4.5 / 5, 0.5]]))


def test_point_selector_greedy_rule_matches_a_plain_loop():
    g = torch.Generator().manual_seed(0)
    h, w, n, wd = 5, 6, 7, 0.5
    score_map = torch.randn(3, h, w, generator=g)
    index, points = select_points(score_map, n, w_dist=wd)
    diag = math.sqrt(h * h + w * w)
    for b in range(3):
        s = score_map[b].sigmoid()
        chosen = [int(s.argmax())]
        while len(chosen) < n:
            best, best_val = None, -1e9
            for cell in range(h * w):
                if cell in chosen:
                    continue
                i, j = divmod(cell, w)
                d = min(math.dist((i, j), divmod(c, w)) for c in chosen)
                val = float(s[i, j]) + wd * d / diag
                if val > best_val:
                    best, best_val = cell, val
            chosen.append(best)
        assert index[b].tolist() == chosen
    assert ((points > 0) & (points < 1)).all()


def test_topk_selector_without_dps():
    score_map = torch.arange(12.0).view(1, 3, 4)
    index, _ = select_points(score_map, 3, greedy=False)
    assert index[0].tolist() == [11, 10, 9]


def test_text_filter_top_k_by_channel_mean_or_l2():
    feat = torch.tensor([[[1.0, 1.0], [5.0, -5.0], [2.0, 2.0], [0.0, 0.5], [9.0, 9.0]]])
    pad = torch.tensor([[False, False, False, False, True]])
    sel, valid = text_filter(feat, pad, 2, score="mean")
    torch.testing.assert_close(sel[0], torch.tensor([[2.0, 2.0], [1.0, 1.0]]))  # padding (9, 9) never chosen
    assert valid.all()
    sel, _ = text_filter(feat, pad, 2, score="l2")
    torch.testing.assert_close(sel[0], torch.tensor([[5.0, -5.0], [2.0, 2.0]]))


def test_text_filter_with_fewer_valid_tokens_than_queries():
    feat = torch.arange(1.0, 13.0).view(1, 6, 2)
    pad = torch.tensor([[False, False, True, True, True, True]])
    sel, valid = text_filter(feat, pad, 4)
    assert valid[0].tolist() == [True, True, False, False]
    torch.testing.assert_close(sel[0, :2], feat[0, :2])  # first positions, in order
    assert (sel[0, 2:] == 0).all()  # padding features are zeroed
    sel, valid = text_filter(feat[:, :2], pad[:, :2], 4)  # shorter sequence than N_q
    assert sel.shape == (1, 4, 2)
    assert valid[0].tolist() == [True, True, False, False]


def test_query_generator_shapes_and_text_dependence():
    torch.manual_seed(0)
    qg = QueryGenerator(16, 3, heads=2, ffn_dim=32, dropout=0.0).eval()
    image, text = torch.randn(2, 16, 16), torch.randn(2, 5, 16)
    pad = torch.tensor([[False] * 5, [False, False, True, True, True]])
    out = qg(image, text, pad, (4, 4))
    assert out["query"].shape == (2, 3, 16)
    assert out["points"].shape == (2, 3, 2)
    assert out["attn_map"].shape == (2, 4, 4)
    assert out["query_attn"].shape == (2, 3, 4, 4)
    torch.testing.assert_close(out["query_attn"].sum((-1, -2)), torch.ones(2, 3))
    assert out["query_valid"][1].tolist() == [True, True, False]
    again = qg(image, text + 1.0, pad, (4, 4))
    assert not torch.allclose(out["query"], again["query"])
