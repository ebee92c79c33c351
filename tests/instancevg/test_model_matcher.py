"""Point-guided Hungarian matcher: brute force, batched == single, empty targets, the point term."""

from __future__ import annotations

import itertools

import torch

from instancevg.losses.matcher import HungarianMatcher


def _random(q, n, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(q, 2, generator=g)
    boxes = torch.cat(
        [torch.rand(q, 2, generator=g) * 0.6 + 0.2, torch.rand(q, 2, generator=g) * 0.3 + 0.05], -1
    )
    points = torch.rand(q, 2, generator=g)
    tgt = torch.cat(
        [torch.rand(n, 2, generator=g) * 0.6 + 0.2, torch.rand(n, 2, generator=g) * 0.3 + 0.05], -1
    )
    return logits, boxes, points, tgt


def test_equal_to_brute_force_on_small_cases():
    matcher = HungarianMatcher()
    for seed in range(10):
        q, n = 4, 1 + seed % 4
        logits, boxes, points, tgt = _random(q, n, seed)
        cost = matcher.cost_matrix(logits, boxes, points, tgt)
        best = min(
            itertools.permutations(range(q), n),
            key=lambda perm: sum(float(cost[p, j]) for j, p in enumerate(perm)),
        )
        ((src, dst),) = matcher(logits[None], boxes[None], points[None], [{"boxes": tgt}])
        got = {int(d): int(s) for s, d in zip(src, dst)}
        assert [got[j] for j in range(n)] == list(best)


def test_batched_equals_single_and_empty_targets():
    matcher = HungarianMatcher()
    samples = [_random(5, n, seed) for seed, n in enumerate([2, 0, 3])]
    logits = torch.stack([s[0] for s in samples])
    boxes = torch.stack([s[1] for s in samples])
    points = torch.stack([s[2] for s in samples])
    targets = [{"boxes": s[3]} for s in samples]
    batched = matcher(logits, boxes, points, targets)
    for b in range(3):
        single = matcher(logits[b : b + 1], boxes[b : b + 1], points[b : b + 1], [targets[b]])[0]
        assert batched[b][0].equal(single[0])
        assert batched[b][1].equal(single[1])
    assert len(batched[1][0]) == 0
    none = matcher(logits, boxes, points, [{"boxes": torch.zeros(0, 4)}] * 3)
    assert all(len(s) == 0 and len(d) == 0 for s, d in none)


def test_cost_terms_and_point_weight():
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    boxes = torch.tensor([[0.5, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.2]])
    points = torch.tensor([[0.1, 0.1], [0.5, 0.5]])
    tgt = torch.tensor([[0.5, 0.5, 0.2, 0.2]])
    only_point = HungarianMatcher(0.0, 0.0, 0.0, 1.0).cost_matrix(logits, boxes, points, tgt)
    torch.testing.assert_close(only_point[:, 0], torch.tensor([0.8, 0.0]))
    only_class = HungarianMatcher(1.0, 0.0, 0.0, 0.0).cost_matrix(logits, boxes, points, tgt)
    torch.testing.assert_close(only_class[:, 0], -logits.softmax(-1)[:, 0])
    only_giou = HungarianMatcher(0.0, 0.0, 1.0, 0.0).cost_matrix(logits, boxes, points, tgt)
    torch.testing.assert_close(only_giou[:, 0], torch.tensor([-1.0, -1.0]))
    # identical boxes: the class term prefers query 0, a strong point term flips the match to query 1
    ((src, _),) = HungarianMatcher(1.0, 5.0, 2.0, 0.0)(
        logits[None], boxes[None], points[None], [{"boxes": tgt}]
    )
    assert src.tolist() == [0]
    ((src, _),) = HungarianMatcher(1.0, 5.0, 2.0, 2.0)(
        logits[None], boxes[None], points[None], [{"boxes": tgt}]
    )
    assert src.tolist() == [1]
