"""Parity with the official InstanceVG code on its own tiny checkpoint (data in ``data/official``, see README there).

The official model computed raw outputs, intermediates and post-processed predictions for two inputs; vgbench
loads the same checkpoint with ``load_official`` and must compute the same: raw class logits, boxes, existence
logits and points to 1e-4, mask logits to 1e-3, and the post-processed boxes, scores and masks of the official
``get_predictions_parts`` (pixels whose official logit is within 1e-3 of zero may flip).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluators import rle
from instancevg import load_official
from instancevg.postprocess import postprocess

DATA = Path(__file__).parent / "data" / "official"
NEAR_ZERO = 1e-3


@pytest.fixture(scope="module")
def official():
    torch.set_num_threads(1)
    model = load_official(DATA / "tiny_official.pth", encoder_heads=4, max_tokens=12)
    inputs = np.load(DATA / "tiny_inputs.npz")
    expected = dict(np.load(DATA / "tiny_outputs.npz"))
    with torch.no_grad():
        out = model(
            torch.from_numpy(inputs["img"]),
            torch.from_numpy(inputs["ref_expr_inds"]),
            torch.from_numpy(inputs["text_attention_mask"]).bool(),
        )
    metas = json.loads((DATA / "tiny_img_metas.json").read_text())
    return model, out, expected, metas


def _close(name: str, ours: torch.Tensor, theirs: np.ndarray, atol: float) -> None:
    ours_np = ours.detach().float().numpy()
    assert ours_np.shape == theirs.shape, f"{name}: shape {ours_np.shape} vs official {theirs.shape}"
    diff = float(np.abs(ours_np - theirs).max())
    assert diff <= atol, f"{name}: max |diff| {diff:.3g} > {atol}"


def test_inferred_config_is_the_fixture_model(official):
    model, *_ = official
    cfg = model.cfg
    sizes = json.loads((DATA / "tiny_config.json").read_text())
    assert (cfg.img_size, cfg.vocab_size, cfg.encoder_dim) == (128, 1024, 128)
    assert (cfg.encoder_layers, cfg.encoder_ffn_dim, cfg.hidden_dim) == (2, 256, 64)
    assert cfg.num_queries == sizes["num_queries"]
    assert cfg.decoder_ffn_dim == sizes["head.decoder_transformer.decoder.feedforward_dim"]
    assert cfg.t2i_ffn_dim == sizes["head.query_generation.T2I_decoder.feedforward_dim"]
    assert (cfg.decoder_layers, cfg.decoder_heads, cfg.t2i_heads) == (3, 8, 8)
    assert (cfg.msda_levels, cfg.msda_points) == (4, 4)
    assert not model.training


@pytest.fixture(scope="module")
def captured(official):
    """The intermediate tensors of vgbench's forward pass that have an official counterpart."""
    model, _, _, _ = official
    inputs = np.load(DATA / "tiny_inputs.npz")
    seen: dict = {}
    hooks = [
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o))
        for name in ("img_proj", "text_proj", "simfpn", "query_generator", "decoder")
    ]
    encode = model.encoder.encode
    model.encoder.encode = lambda *a: seen.setdefault("encoder", encode(*a))
    try:
        with torch.no_grad():
            model(
                torch.from_numpy(inputs["img"]),
                torch.from_numpy(inputs["ref_expr_inds"]),
                torch.from_numpy(inputs["text_attention_mask"]).bool(),
            )
    finally:
        for hook in hooks:
            hook.remove()
        del model.encoder.encode
    return seen


# Each stage agrees to about 3e-6 here; 1e-5 leaves room for another CPU's rounding and still catches a LayerNorm
# eps of 1e-6 instead of mmcv's 1e-5 in the SimFPN (1.5e-5 and 1.8e-5 on the levels below).
STAGE_ATOL = 1e-5


def test_encoder_neck_query_and_decoder_intermediates_match(official, captured):
    """Where a difference would come from: each stage against the official intermediate."""
    _, _, expected, _ = official
    vis, txt = captured["encoder"]
    _close("BEiT-3 CLS", vis[:, 0], expected["inter/vis_enc.cls_feat"], STAGE_ATOL)
    _close("BEiT-3 image tokens", vis[:, 1:], expected["inter/vis_enc.img_feat"], STAGE_ATOL)
    _close("BEiT-3 text tokens", txt, expected["inter/vis_enc.text_feat"], STAGE_ATOL)
    _close("image projection", captured["img_proj"], expected["inter/head.img_embedding"], STAGE_ATOL)
    _close("text projection", captured["text_proj"], expected["inter/head.lan_embedding"], STAGE_ATOL)
    for level in (2, 3):  # the stride-16 and stride-32 SimFPN levels (the finer ones are not in the fixture)
        _close(
            f"SimFPN level {level}",
            captured["simfpn"][level],
            expected[f"inter/head.neck.out{level}"],
            STAGE_ATOL,
        )
    query = captured["query_generator"]["query"]
    _close("instance queries", query, expected["inter/head.query_generation.query_feat"], STAGE_ATOL)
    _close("decoder states", captured["decoder"], expected["inter/head.decoder.inter_states"], STAGE_ATOL)


def test_intermediates_match(official):
    _, out, expected, _ = official
    _close("points", out["points"], expected["raw/img_selected_points_xy"], 1e-6)
    _close("reference points", out["reference_points"], expected["inter/head.decoder.init_reference"], 1e-5)
    _close("prior points", out["points"], expected["inter/head.query_generation.reference_points"], 1e-6)
    refs = expected["inter/head.decoder.inter_references"]
    for layer in range(3):  # no iterative refinement: every layer reads the initial references
        _close(f"layer {layer} references", out["reference_points"], refs[layer], 1e-5)
    _close("attention map", out["attn_map"], expected["raw/attn_map_query"], 1e-5)
    _close("per-query attention", out["query_attn"], expected["raw/attn_map"], 1e-5)


@pytest.mark.parametrize(
    ("ours", "theirs", "atol"),
    [
        ("pred_logits", "raw/pred_class_logits", 1e-4),
        ("pred_boxes", "raw/pred_bbox_cxcywh", 1e-4),
        ("exist_logits", "raw/nt_logits", 1e-4),
        ("pred_masks", "raw/pred_mask_logits", 1e-3),
    ],
)
def test_raw_outputs_match(official, ours, theirs, atol):
    _, out, expected, _ = official
    _close(ours, out[ours], expected[theirs], atol)


def test_global_mask_and_aux_layers_match(official):
    _, out, expected, _ = official
    _close("global mask", out["global_mask"][:, None], expected["raw/pred_global_mask_logits"], 1e-3)
    aux = torch.stack([layer["pred_logits"] for layer in out["aux_outputs"]] + [out["pred_logits"]])
    _close("class logits of every layer", aux, expected["inter/head.all_layers.pred_class_logits"], 1e-4)


def _near_zero(logits: np.ndarray) -> np.ndarray:
    return np.abs(logits) < NEAR_ZERO


def _assert_mask(name: str, ours: np.ndarray, theirs: np.ndarray, flippable: np.ndarray) -> None:
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs official {theirs.shape}"
    wrong = ours.astype(bool) != theirs.astype(bool)
    assert not (wrong & ~flippable).any(), f"{name}: {int((wrong & ~flippable).sum())} pixels differ"


def _records(official, score_threshold: float, sizes: list[tuple[int, int]]):
    model, out, _, _ = official
    cfg = dataclasses.replace(model.cfg, score_threshold=score_threshold)
    metas = [{"expr_id": f"e{i}", "orig_size": size} for i, size in enumerate(sizes)]
    return postprocess(out, metas, cfg)


@pytest.mark.parametrize("group", ["post", "post_thr0", "post_rescale"])
def test_postprocessed_predictions_match(official, group):
    model, _out, expected, metas = official
    threshold = 0.0 if group == "post_thr0" else model.cfg.score_threshold
    rescale = group == "post_rescale"
    sizes = [tuple(m["ori_shape"][:2]) if rescale else (128, 128) for m in metas]
    records = _records(official, threshold, sizes)
    raw_masks = expected["raw/pred_mask_logits"]
    raw_global = expected["raw/pred_global_mask_logits"][:, 0]
    for i, (rec, (h, w)) in enumerate(zip(records, sizes)):
        scores = np.array([inst["score"] for inst in rec["instances"]], dtype=np.float32)
        np.testing.assert_allclose(
            scores, expected[f"{group}/scores/{i}"], atol=1e-4, err_msg=f"{group} scores {i}"
        )
        xyxy = np.array(
            [[x, y, x + bw, y + bh] for x, y, bw, bh in (inst["bbox"] for inst in rec["instances"])]
        )
        np.testing.assert_allclose(
            xyxy, expected[f"{group}/boxes_xyxy/{i}"], atol=1e-3, err_msg=f"{group} boxes {i}"
        )
        rows = np.minimum(np.floor(np.arange(h) * (1.0 / (h / 128))).astype(int), 127)
        cols = np.minimum(np.floor(np.arange(w) * (1.0 / (w / 128))).astype(int), 127)
        kept = np.array([float(s) > threshold for s in expected[f"{group}/scores/{i}"]])
        merged_logits = np.concatenate([raw_global[i][None], raw_masks[i][kept]])
        flippable = _near_zero(merged_logits).any(0)[rows[:, None], cols[None, :]]
        _assert_mask(f"{group} mask {i}", rle.decode(rec["mask"]), expected[f"{group}/mask/{i}"], flippable)
        inst_expected = expected[f"{group}/instance_masks_binary/{i}"]
        assert len(rec["instances"]) == len(inst_expected)
        for q, inst in enumerate(rec["instances"]):
            flip = _near_zero(raw_masks[i, q])[rows[:, None], cols[None, :]]
            _assert_mask(
                f"{group} instance {i}/{q}", rle.decode(inst["segmentation"]), inst_expected[q], flip
            )
        no_target = not bool((expected[f"{group}/scores/{i}"] > threshold).any())
        assert rec["no_target"] == no_target


def test_existence_probabilities_match(official):
    _, out, expected, _ = official
    for i in range(2):
        np.testing.assert_allclose(
            out["exist_logits"][i].sigmoid().numpy(), expected[f"post/pred_nt/{i}"], atol=1e-5
        )


def test_the_score_threshold_splits_the_queries(official):
    """The fixture is only a test of the threshold if some queries fall on each side of it."""
    records = _records(official, 0.7, [(128, 128), (128, 128)])
    scores = [inst["score"] for rec in records for inst in rec["instances"]]
    assert min(scores) < 0.7 < max(scores)
