"""`instancevg.build`: the model is assembled from parts chosen by the config's switches."""

from __future__ import annotations

import pytest
import torch

from instancevg.build import DECODERS, build, build_model
from instancevg.ops.msda import MSDeformAttn
from tests.instancevg.model_helpers import micro_config, random_batch


@pytest.mark.parametrize("decoder", list(DECODERS))
def test_each_decoder_type_builds_its_parts(decoder):
    cfg = micro_config(f"decoder.type={decoder}", "decoder.msda_levels=3")
    model = build_model(cfg)
    choice = DECODERS[decoder]
    assert model.memory.levels == ((1, 2, 3) if choice.multi_scale else (2,))
    assert model.memory.sine_position == (decoder == "detr")
    deformable = any(isinstance(m, MSDeformAttn) for m in model.decoder.modules())
    assert deformable == (choice.cross == "deformable")
    assert (model.query_pos is not None) == choice.point_prior
    assert (model.query_pos_embed is not None) == (not choice.point_prior)


def test_switches_choose_parts_not_branches():
    plain = build_model(micro_config())
    assert plain.query_generator is not None
    assert plain.query_embed is None
    assert plain.reference_points is None  # tiny-cpu: the paper's reference = p
    assert len(plain.heads) == 1
    ablated = build_model(
        micro_config("ablation.use_apd=false", "quirks.share_heads=false", "use_piph=false")
    )
    assert ablated.query_generator is None
    assert ablated.query_embed is not None
    assert ablated.reference_points is not None
    assert len(ablated.heads) == 3
    assert not ablated.instance_masks


def test_forward_reads_only_the_parts():
    cfg = micro_config("quirks.reference_point=offset")
    torch.manual_seed(0)
    model, criterion, postprocessor = build(cfg)
    images, ids, pad, targets = random_batch(cfg, 2)
    model.eval()
    with torch.no_grad():
        expected = model(images, ids, pad)
        model.cfg = None  # the forward pass must not look at the config
        out = model(images, ids, pad)
    assert torch.equal(out["pred_boxes"], expected["pred_boxes"])
    assert torch.isfinite(criterion(out, targets)["loss"])
    records = postprocessor(out, [{"expr_id": f"e{i}", "orig_size": (40, 50)} for i in range(2)])
    assert [r["expr_id"] for r in records] == ["e0", "e1"]
