"""Multi-scale deformable attention against a naive per-point bilinear loop."""

from __future__ import annotations

import math

import torch

from instancevg.ops.msda import MSDeformAttn, ms_deform_attn


def _bilinear(img: torch.Tensor, x: float, y: float) -> torch.Tensor:
    """Sample ``img [D, H, W]`` at normalised (x, y), zero outside, pixel centres at (i + 0.5) / size."""
    d, h, w = img.shape
    px, py = x * w - 0.5, y * h - 0.5
    x0, y0 = math.floor(px), math.floor(py)
    out = torch.zeros(d, dtype=img.dtype)
    for yy in (y0, y0 + 1):
        for xx in (x0, x0 + 1):
            wt = (1 - abs(px - xx)) * (1 - abs(py - yy))
            if 0 <= xx < w and 0 <= yy < h:
                out += wt * img[:, yy, xx]
    return out


def _naive(value, shapes, locs, weights):
    b, _, m, dh = value.shape
    q, n_points = locs.shape[1], locs.shape[4]
    starts = [0]
    for h, w in shapes:
        starts.append(starts[-1] + h * w)
    out = torch.zeros(b, q, m, dh, dtype=value.dtype)
    for bi in range(b):
        for qi in range(q):
            for mi in range(m):
                for li, (h, w) in enumerate(shapes):
                    img = value[bi, starts[li] : starts[li + 1], mi].T.reshape(dh, h, w)
                    for pi in range(n_points):
                        x, y = locs[bi, qi, mi, li, pi].tolist()
                        out[bi, qi, mi] += weights[bi, qi, mi, li, pi] * _bilinear(img, x, y)
    return out.reshape(b, q, m * dh)


def test_grid_sample_msda_equals_naive_loop():
    g = torch.Generator().manual_seed(0)
    shapes = [(6, 5), (3, 4), (2, 2)]
    b, q, m, dh, n_points = 2, 3, 2, 4, 3
    value = torch.randn(b, sum(h * w for h, w in shapes), m, dh, generator=g, dtype=torch.float64)
    locs = torch.rand(b, q, m, len(shapes), n_points, 2, generator=g, dtype=torch.float64) * 1.4 - 0.2
    weights = torch.rand(b, q, m, len(shapes), n_points, generator=g, dtype=torch.float64)
    fast = ms_deform_attn(value, shapes, locs, weights)
    torch.testing.assert_close(fast, _naive(value, shapes, locs, weights))


def test_msda_gradients_flow_to_values_locations_and_weights():
    g = torch.Generator().manual_seed(1)
    shapes = [(4, 4), (2, 2)]
    value = torch.randn(1, 20, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    locs = (torch.rand(1, 2, 2, 2, 2, 2, generator=g, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    weights = torch.rand(1, 2, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, lo, w: ms_deform_attn(v, shapes, lo, w), (value, locs, weights))


def test_module_init_is_uniform_attention_on_a_ring():
    attn = MSDeformAttn(16, num_heads=4, num_levels=2, num_points=3)
    bias = attn.sampling_offsets.bias.view(4, 2, 3, 2)
    # head 0 points along +x with radius 1, 2, 3; every level alike
    torch.testing.assert_close(bias[0, 0], torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))
    torch.testing.assert_close(bias[:, 0], bias[:, 1])
    assert attn.attention_weights.weight.abs().sum() == 0
    out = attn(
        torch.randn(2, 5, 16), torch.rand(2, 5, 2), torch.randn(2, 8 * 8 + 4 * 4, 16), [(8, 8), (4, 4)]
    )
    assert out.shape == (2, 5, 16)
