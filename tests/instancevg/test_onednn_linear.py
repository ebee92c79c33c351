"""OneDnnLinear: the oneDNN fp32 inference path computes nn.Linear's product and steps aside whenever it must."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from instancevg.build import build_model
from instancevg.ops.onednn_linear import OneDnnLinear, onednn_linear_available, use_onednn_linear
from instancevg.runtime import ModelRuntime
from tests.instancevg.model_helpers import micro_config, random_batch

needs_onednn = pytest.mark.skipif(not onednn_linear_available(), reason="this PyTorch build has no oneDNN")


def _linear(bias: bool = True) -> OneDnnLinear:
    torch.manual_seed(0)
    layer = nn.Linear(24, 40, bias=bias)
    assert use_onednn_linear(layer) == (1 if onednn_linear_available() else 0)
    return layer


@needs_onednn
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 24), (3, 5, 24), (2, 3, 4, 24)])
def test_inference_matches_f_linear(bias, shape):
    layer = _linear(bias)
    x = torch.randn(*shape)
    expected = F.linear(x, layer.weight, layer.bias)
    with torch.inference_mode():
        got = layer(x)
    with torch.no_grad():
        got_no_grad = layer(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_no_grad, expected, rtol=1e-5, atol=1e-5)


@needs_onednn
def test_non_contiguous_input():
    layer = _linear()
    x = torch.randn(24, 9).t()  # [9, 24], transposed strides
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)


def test_training_path_is_differentiable():
    layer = _linear()
    x = torch.randn(4, 24, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None
    assert layer.weight.grad is not None
    assert layer.bias.grad is not None


def test_autocast_and_other_dtypes_keep_nn_linear_behaviour():
    layer = _linear()
    x = torch.randn(4, 24)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16
    layer64 = copy.deepcopy(layer).double()
    with torch.inference_mode():
        assert layer64(x.double()).dtype == torch.float64
        assert layer(torch.zeros(0, 24)).shape == (0, 40)


def test_conversion_keeps_parameters_names_and_pickles():
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2)))
    params = [id(p) for p in plain.parameters()]
    keys = list(plain.state_dict())
    converted = use_onednn_linear(plain)
    assert converted == (2 if onednn_linear_available() else 0)
    assert [id(p) for p in plain.parameters()] == params
    assert list(plain.state_dict()) == keys
    assert use_onednn_linear(plain) == 0  # already converted
    restored = pickle.loads(pickle.dumps(plain))
    x = torch.randn(3, 4)
    with torch.inference_mode():
        torch.testing.assert_close(restored(x), plain(x))


def test_model_outputs_match_the_default_blas_path():
    cfg = micro_config()
    torch.manual_seed(0)
    fast = build_model(cfg).eval()
    plain = build_model(cfg, ModelRuntime(onednn_linear=False)).eval()
    plain.load_state_dict(fast.state_dict())
    has_onednn = any(type(m) is OneDnnLinear for m in fast.modules())
    assert has_onednn == onednn_linear_available()
    assert not any(type(m) is OneDnnLinear for m in plain.modules())
    images, ids, pad, _ = random_batch(cfg, 2)
    with torch.inference_mode():
        a, b = fast(images, ids, pad), plain(images, ids, pad)
    for key in ("pred_logits", "pred_boxes", "pred_masks", "global_mask", "exist_logits", "points"):
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-4)
