"""The model follows the dtype of its inputs (no hard-coded float32 tensors), and runs under CPU autocast."""

from __future__ import annotations

import torch

from instancevg.build import build_model
from instancevg.losses import InstanceVGCriterion
from instancevg.postprocess import postprocess
from tests.instancevg.model_helpers import micro_config, random_batch


def test_float64_end_to_end():
    cfg = micro_config()
    torch.manual_seed(0)
    model = build_model(cfg).double()
    images, ids, pad, targets = random_batch(cfg, 2)
    out = model(images.double(), ids, pad)
    assert out["pred_boxes"].dtype == out["global_mask"].dtype == out["points"].dtype == torch.float64
    targets = [{k: v.double() if torch.is_tensor(v) else v for k, v in t.items()} for t in targets]
    loss = InstanceVGCriterion(cfg)(out, targets)["loss"]
    assert loss.dtype == torch.float64
    loss.backward()


def test_bfloat16_autocast_inference_gives_valid_records():
    cfg = micro_config()
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    images, ids, pad, _ = random_batch(cfg, 2)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(images, ids, pad)
    records = postprocess(out, [{"expr_id": f"e{i}", "orig_size": (20, 30)} for i in range(2)], cfg)
    assert [r["expr_id"] for r in records] == ["e0", "e1"]
    assert all(r["mask"]["size"] == [20, 30] and 0 <= r["no_target_score"] <= 1 for r in records)
