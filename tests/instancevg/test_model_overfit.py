"""The tiny preset learns: it overfits a handful of synthetic scenes and its masks follow the text."""

from __future__ import annotations

import pytest
import torch

from instancevg.build import build_model
from instancevg.config import load_config
from instancevg.losses import InstanceVGCriterion

COLOURS = {"red": (2.0, -1.5, -1.5), "blue": (-1.5, -1.5, 2.0)}


def _scenes(s: int):
    """Two images, each with a red and a blue square; each asked for by colour: 4 (image, text) samples."""
    layouts = [((4, 4), (s // 2 + 4, s // 2 + 4)), ((s // 2 + 4, 6), (6, s // 2 + 2))]
    images, words, targets = [], [], []
    side = s // 3
    for red, blue in layouts:
        img = torch.full((3, s, s), -0.5)
        masks = {}
        for name, (y, x) in (("red", red), ("blue", blue)):
            img[:, y : y + side, x : x + side] = torch.tensor(COLOURS[name])[:, None, None]
            m = torch.zeros(s, s)
            m[y : y + side, x : x + side] = 1.0
            masks[name] = m
        for name in ("red", "blue"):
            y, x = red if name == "red" else blue
            box = torch.tensor([[(x + side / 2) / s, (y + side / 2) / s, side / s, side / s]])
            images.append(img)
            words.append(name)
            targets.append(
                {"boxes": box, "masks": masks[name][None], "mask": masks[name], "no_target": False}
            )
    ids = torch.tensor([[0, 10 if w == "red" else 11, 2, 1] for w in words])
    return torch.stack(images), ids, ids == 1, targets


def _train(cfg, steps: int):
    torch.manual_seed(0)
    model, criterion = build_model(cfg), InstanceVGCriterion(cfg)
    images, ids, pad, targets = _scenes(cfg.img_size)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(steps):
        loss = criterion(model(images, ids, pad), targets)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model, losses, (images, ids, pad, targets)


def test_loss_falls_within_a_few_steps():
    cfg = load_config(
        "tiny-cpu", ["img_size=32", "max_tokens=4", "num_queries=2", "encoder_dim=64", "hidden_dim=32"]
    )
    _, losses, _ = _train(cfg, 10)
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:2]) / 2, losses


@pytest.mark.slow
def test_tiny_preset_overfits_and_follows_the_text():
    cfg = load_config("tiny-cpu", ["img_size=64", "max_tokens=4", "num_queries=4"])
    model, losses, (images, ids, pad, targets) = _train(cfg, 60)
    assert sum(losses[-3:]) / 3 < 0.4 * sum(losses[:3]) / 3, losses  # measured: 6.0 -> 1.3, IoUs 0.73-0.87
    model.eval()
    with torch.no_grad():
        pred = model(images, ids, pad)["global_mask"].sigmoid() > 0.5
    for b, t in enumerate(targets):
        gt = t["mask"].bool()
        iou = (pred[b] & gt).sum() / (pred[b] | gt).sum().clamp(min=1)
        assert iou > 0.5, (b, float(iou))  # same image, other word -> the other square
