"""Shapes, finite losses and gradients of the whole model on CPU (tiny configs)."""

from __future__ import annotations

import math

import pytest
import torch

from instancevg.build import build_model
from instancevg.losses import InstanceVGCriterion
from tests.instancevg.model_helpers import micro_config, random_batch


def _run(cfg, batch=3, counts=None):
    torch.manual_seed(0)
    model = build_model(cfg)
    images, ids, pad, targets = random_batch(cfg, batch, counts=counts)
    out = model(images, ids, pad)
    return model, out, InstanceVGCriterion(cfg)(out, targets)


def test_output_shapes_and_keys():
    cfg = micro_config()
    _, out, _ = _run(cfg, batch=2)
    s, q, g = cfg.img_size, cfg.num_queries, cfg.img_size // cfg.patch_size
    assert out["pred_logits"].shape == (2, q, 2)
    assert out["pred_boxes"].shape == (2, q, 4)
    assert ((out["pred_boxes"] > 0) & (out["pred_boxes"] < 1)).all()
    assert len(out["aux_outputs"]) == cfg.decoder_layers - 1
    assert out["aux_outputs"][0]["pred_boxes"].shape == (2, q, 4)
    assert out["pred_masks"].shape == (2, q, s, s)
    assert out["global_mask"].shape == (2, s, s)
    assert out["exist_logits"].shape == (2, 2)
    assert out["points"].shape == (2, q, 2)
    assert out["attn_map"].shape == (2, g, g)
    assert out["query_attn"].shape == (2, q, g, g)


@pytest.mark.parametrize("reference", ["prior", "offset"])
def test_tiny_preset_loss_is_finite_and_every_parameter_gets_a_gradient(reference):
    cfg = micro_config(f"reference_point={reference}")
    model, _, losses = _run(cfg, batch=4)
    for key, value in losses.items():
        assert torch.isfinite(value), key
    losses["loss"].backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert no_grad == []  # no unused parameter: DistributedDataParallel works without find_unused_parameters


def test_all_empty_batch_gives_finite_loss_and_gradients():
    cfg = micro_config()
    model, _, losses = _run(cfg, batch=3, counts=[0, 0, 0])
    assert all(torch.isfinite(v) for v in losses.values())
    assert float(losses["loss_mask_pos"]) == 0.0
    losses["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads
    assert all(torch.isfinite(g).all() for g in grads)


def _micro_model_and_batch(batch: int):
    """The seeded micro model in eval mode and a random batch: ``(model, images, ids, pad)``."""
    cfg = micro_config()
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    images, ids, pad, _ = random_batch(cfg, batch)
    return model, images, ids, pad


def test_text_changes_the_output():
    model, images, ids, pad = _micro_model_and_batch(1)
    other = ids.clone()
    other[0, 1:3] = torch.tensor([5, 6])
    with torch.no_grad():
        a, b = model(images, ids, pad), model(images, other, pad)
    assert not torch.allclose(a["global_mask"], b["global_mask"])
    assert not torch.allclose(a["pred_logits"], b["pred_logits"])


def test_padding_content_is_ignored():
    model, images, ids, pad = _micro_model_and_batch(2)
    other = ids.clone()
    other[pad] = 7  # garbage under the padding mask
    with torch.no_grad():
        a, b = model(images, ids, pad), model(images, other, pad)
    torch.testing.assert_close(a["pred_boxes"], b["pred_boxes"])
    torch.testing.assert_close(a["global_mask"], b["global_mask"])


@pytest.mark.parametrize(
    "overrides",
    [
        ["use_apd=false"],
        ["use_piph=false", "mask_output=global"],
        ["use_text_filter=false", "use_tiq=false"],
        ["use_dps=false"],
        ["decoder_type=detr"],
        ["decoder_type=deformable"],
        ["decoder_type=ms_deformable"],
        ["reference_point=offset", "text_filter_score=l2", "attn_map_pool=mean", "share_heads=false"],
        ["aux_loss_weighting=weighted"],
        ["tasks=det"],
        ["tasks=seg"],
        ["num_queries=1", "loss_neg=0"],
    ],
)
def test_ablation_switches_build_and_train(overrides):
    cfg = micro_config(*overrides)
    _model, out, losses = _run(cfg, batch=2)
    assert math.isfinite(float(losses["loss"].detach()))
    losses["loss"].backward()
    assert out["pred_logits"].shape == (2, cfg.num_queries, 2)
    if not cfg.use_piph:
        assert out["pred_masks"] is None
    if not cfg.use_apd:
        assert out["attn_map"] is None
        assert "loss_attn" not in losses
    if cfg.tasks == "det":
        assert "loss_global" not in losses


def test_parameter_groups_partition_the_model():
    cfg = micro_config()
    model = build_model(cfg)
    enc = {id(p) for p in model.encoder_parameters()}
    head = {id(p) for p in model.head_parameters()}
    assert enc
    assert head
    assert not enc & head
    assert enc | head == {id(p) for p in model.parameters()}
