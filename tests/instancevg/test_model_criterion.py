"""Loss weights of the criterion: final vs aux layers, lambdas, negative masks, existence."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from instancevg.losses import InstanceVGCriterion
from instancevg.losses.seg import bce_loss, dice_loss
from tests.instancevg.model_helpers import micro_config, random_batch


def _outputs(cfg, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, s, gs = cfg.num_queries, cfg.img_size, cfg.img_size // cfg.patch_size

    def layer():
        return {
            "pred_logits": torch.randn(batch, q, 2, generator=g),
            "pred_boxes": torch.rand(batch, q, 4, generator=g) * 0.5 + 0.2,
        }

    last = layer()
    return {
        **last,
        "aux_outputs": [layer() for _ in range(cfg.decoder_layers - 1)],
        "pred_masks": torch.randn(batch, q, s, s, generator=g),
        "global_mask": torch.randn(batch, s, s, generator=g),
        "exist_logits": torch.randn(batch, 2, generator=g),
        "points": torch.rand(batch, q, 2, generator=g),
        "attn_map": torch.rand(batch, gs, gs, generator=g),
    }


def test_total_is_the_documented_weighted_sum():
    cfg = micro_config()
    out = _outputs(cfg, 3)
    _, _, _, targets = random_batch(cfg, 3, counts=[1, 2, 0])
    t = InstanceVGCriterion(cfg)(out, targets)
    final = 1 * t["loss_ce"] + 5 * t["loss_bbox"] + 2 * t["loss_giou"]
    aux = sum(
        t[f"loss_ce_{i}"] + t[f"loss_bbox_{i}"] + t[f"loss_giou_{i}"] for i in range(cfg.decoder_layers - 1)
    )
    torch.testing.assert_close(t["loss_det"], 0.1 * (final + aux))
    expected = (
        t["loss_det"]
        + t["loss_mask_pos"]
        + 0.2 * t["loss_mask_neg"]
        + t["loss_global"]
        + 0.1 * t["loss_attn"]
        + 0.2 * t["loss_exist"]
    )
    torch.testing.assert_close(t["loss"].detach(), expected)


def test_weighted_aux_layers_option():
    cfg = micro_config("aux_loss_weighting=weighted")
    out = _outputs(cfg, 2)
    _, _, _, targets = random_batch(cfg, 2, counts=[1, 2])
    t = InstanceVGCriterion(cfg)(out, targets)
    layers = ["", *[f"_{i}" for i in range(cfg.decoder_layers - 1)]]
    total = sum(t["loss_ce" + s] + 5 * t["loss_bbox" + s] + 2 * t["loss_giou" + s] for s in layers)
    torch.testing.assert_close(t["loss_det"], 0.1 * total)


def test_global_mask_and_existence_terms_by_hand():
    cfg = micro_config()
    out = _outputs(cfg, 2)
    _, _, _, targets = random_batch(cfg, 2, counts=[1, 0])
    t = InstanceVGCriterion(cfg)(out, targets)
    gt = torch.stack([x["mask"] for x in targets])
    torch.testing.assert_close(
        t["loss_global"], dice_loss(out["global_mask"], gt) + bce_loss(out["global_mask"], gt)
    )
    ce = torch.nn.functional.cross_entropy(
        out["exist_logits"], torch.tensor([0, 1]), weight=torch.tensor([0.9, 1.1])
    )
    torch.testing.assert_close(t["loss_exist"], ce)


def test_negative_masks_and_lambdas_switch_off():
    cfg = micro_config()
    out = _outputs(cfg, 2)
    _, _, _, targets = random_batch(cfg, 2, counts=[1, 1])
    base = InstanceVGCriterion(cfg)(out, targets)
    off = InstanceVGCriterion(dataclasses.replace(cfg, loss_neg=0.0, loss_attn=0.0))(out, targets)
    diff = base["loss"] - off["loss"]
    torch.testing.assert_close(diff, 0.2 * base["loss_mask_neg"] + 0.1 * base["loss_attn"])


def test_negative_mask_loss_pushes_unmatched_masks_to_zero():
    cfg = micro_config()
    out = _outputs(cfg, 1)
    _, _, _, targets = random_batch(cfg, 1, counts=[1])
    low = dict(out, pred_masks=torch.full_like(out["pred_masks"], -20.0))
    high = dict(out, pred_masks=torch.full_like(out["pred_masks"], 20.0))
    crit = InstanceVGCriterion(cfg)
    assert crit(low, targets)["loss_mask_neg"] < 0.01 < crit(high, targets)["loss_mask_neg"]


def test_dice_is_one_minus_smoothed_overlap():
    logits = torch.tensor([[[50.0, -50.0], [-50.0, -50.0]]])
    target = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    assert float(dice_loss(logits, target)) == pytest.approx(0.0, abs=1e-6)
    assert float(dice_loss(-logits, target)) == pytest.approx(1 - 1 / (3 + 1 + 1), abs=1e-6)  # p = 0,1,1,1
