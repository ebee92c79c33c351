"""Post-processing: score product, thresholds, the no-target rule, mask merge, original-size mapping."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from evaluators import rle
from instancevg.postprocess import postprocess
from tests.instancevg.model_helpers import micro_config

S = 8


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _outputs(obj_probs, exist_logit0=10.0):
    q = len(obj_probs)
    logits = torch.tensor([[[_logit(p), 0.0] for p in obj_probs]])  # softmax(.)[0] == p
    masks = torch.full((1, q, S, S), -10.0)
    masks[0, 0, :, :4] = 10.0  # query 0: left half
    if q > 1:
        masks[0, 1, :, 4:] = 10.0  # query 1: right half
    glob = torch.full((1, S, S), -10.0)
    glob[0, :, -1] = 10.0  # global mask: last column
    return {
        "pred_logits": logits,
        "pred_boxes": torch.tensor([[[0.25, 0.25, 0.5, 0.5]] * q]),
        "pred_masks": masks,
        "global_mask": glob,
        "exist_logits": torch.tensor([[exist_logit0, 0.0]]),
        "points": torch.tensor([[[0.5, 0.25]] * q]),
    }


META = [{"expr_id": "e1", "orig_size": (16, 32)}]


def test_threshold_on_class_times_existence_and_merge():
    cfg = micro_config("no_target_rule=queries")
    rec = postprocess(_outputs([0.9, 0.6]), META, cfg)[0]
    assert rec["expr_id"] == "e1"
    assert rec["no_target"] is False
    assert len(rec["instances"]) == 1
    inst = rec["instances"][0]
    assert inst["score"] == pytest.approx(0.9 / (1 + math.exp(-10)), rel=1e-5)
    assert inst["bbox"] == pytest.approx([0.0, 0.0, 16.0, 8.0])  # per-axis scale to 32 x 16
    seg = rle.decode(inst["segmentation"])
    assert seg.shape == (16, 32)
    assert seg[:, :16].all()
    assert seg.sum() == 16 * 16
    mask = rle.decode(rec["mask"])
    expected = np.zeros((16, 32), dtype=bool)
    expected[:, :16] = True
    expected[:, 28:] = True  # global last column (1/8 of the width) merged in
    assert (mask.astype(bool) == expected).all()
    assert rec["points"][0] == pytest.approx([16.0, 4.0])
    assert rec["no_target_score"] == pytest.approx(1 - inst["score"])


def test_existence_weight_can_reject_every_query():
    cfg = micro_config("no_target_rule=queries")
    rec = postprocess(_outputs([0.9, 0.8], exist_logit0=0.0), META, cfg)[0]  # 0.9 * 0.5 < 0.7
    assert rec["no_target"] is True
    assert rec["instances"] == []
    assert rec["mask"] == rle.empty(16, 32)
    unweighted = postprocess(_outputs([0.9, 0.8], 0.0), META, dataclasses.replace(cfg, score_weighted=False))[
        0
    ]
    assert [i["score"] for i in unweighted["instances"]] == pytest.approx([0.9, 0.8])


def test_score_exactly_at_threshold_is_dropped():
    cfg = dataclasses.replace(micro_config("no_target_rule=queries"), score_weighted=False)
    rec = postprocess(_outputs([0.7, 0.1]), META, dataclasses.replace(cfg, score_threshold=0.7 - 1e-6))[0]
    assert len(rec["instances"]) == 1
    rec = postprocess(_outputs([0.7, 0.1]), META, dataclasses.replace(cfg, score_threshold=0.7 + 1e-6))[0]
    assert rec["no_target"] is True


@pytest.mark.parametrize(("mode", "area"), [("global", 16 * 4), ("instance", 16 * 32), ("merge", 16 * 32)])
def test_mask_output_modes(mode, area):
    cfg = dataclasses.replace(micro_config("no_target_rule=queries"), mask_output=mode, score_weighted=False)
    rec = postprocess(_outputs([0.9, 0.95]), META, cfg)[0]
    assert [i["score"] for i in rec["instances"]] == pytest.approx([0.95, 0.9])  # sorted by score
    assert rle.area(rec["mask"]) == area


def test_exist_rule_uses_the_existence_head():
    cfg = micro_config("no_target_rule=exist")
    rec = postprocess(_outputs([0.9], exist_logit0=-5.0), META, cfg)[0]
    assert rec["no_target"] is True
    assert rec["no_target_score"] > 0.99


def test_mask_resize_nearest_binarises_first_and_bilinear_smooths():
    cfg = micro_config("no_target_rule=queries")
    out = _outputs([0.9])
    out["global_mask"][0] = -10.0
    out["global_mask"][0, 3, 3] = 10.0  # one input pixel
    meta = [{"expr_id": "e", "orig_size": (16, 16)}]
    nearest = rle.decode(postprocess(out, meta, dataclasses.replace(cfg, mask_output="global"))[0]["mask"])
    assert nearest.sum() == 4  # exactly the 2 x 2 block it maps to
    assert nearest[6:8, 6:8].all()
    smooth = postprocess(out, meta, dataclasses.replace(cfg, mask_output="global", mask_resize="bilinear"))[0]
    assert rle.area(smooth["mask"]) > 0


def test_nms_drops_overlapping_lower_scored_boxes():
    from instancevg.postprocess import nms_order

    boxes = torch.tensor(
        [[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 10, 9]], dtype=torch.float32
    )
    assert nms_order(boxes, 0.5).tolist() == [0, 2]
    assert nms_order(boxes, 0.95).tolist() == [0, 1, 2, 3]
    cfg = micro_config("no_target_rule=queries", "score_weighted=false")
    assert len(postprocess(_outputs([0.9, 0.8]), META, cfg)[0]["instances"]) == 2  # identical boxes
    cfg = micro_config("no_target_rule=queries", "score_weighted=false", "nms_threshold=0.7")
    assert len(postprocess(_outputs([0.9, 0.8]), META, cfg)[0]["instances"]) == 1


def _official(cfg):
    from instancevg.config import replace_values
    from instancevg.official import OFFICIAL_POSTPROCESS

    return replace_values(cfg, OFFICIAL_POSTPROCESS)


def test_official_mode_lists_every_query_and_keeps_the_mask_on_no_target():
    cfg = _official(micro_config())
    rec = postprocess(_outputs([0.6, 0.5]), META, cfg)[0]  # nothing above 0.7
    assert rec["no_target"] is True
    assert [round(i["score"], 4) for i in rec["instances"]] == [0.6, 0.5]  # both listed, in query order
    assert rle.decode(rec["mask"]).any()  # the global mask stays (official), not emptied


def test_official_drop_of_empty_boxes_shifts_the_merged_masks_as_the_official_code():
    """Query 1's box lies outside the image: detector_postprocess drops it, and the official merge then takes the
    masks at the positions of the kept scores in the shortened list: queries 0 and 1, not 0 and 2."""
    out = _outputs([0.9, 0.5, 0.8])
    out["pred_boxes"] = torch.tensor([[[0.25, 0.25, 0.5, 0.5], [1.5, 0.5, 0.2, 0.2], [0.75, 0.75, 0.5, 0.5]]])
    out["pred_masks"][0, 2] = -10.0
    out["pred_masks"][0, 2, :2, :] = 10.0  # query 2: top rows only
    out["global_mask"][:] = -10.0
    cfg = _official(micro_config())
    rec = postprocess(out, META, cfg)[0]
    assert len(rec["instances"]) == 2
    assert rec["instances"][1]["score"] == pytest.approx(0.8, abs=1e-4)  # query 2's box and score
    mask = rle.decode(rec["mask"]).astype(bool)
    assert mask.all()  # the masks of queries 0 (left half) and 1 (right half): the whole image
    kept_own = dataclasses.replace(cfg, drop_empty_boxes=False)
    own = rle.decode(postprocess(out, META, kept_own)[0]["mask"]).astype(bool)
    # queries 0 and 2 by their masks
    assert own[:, :16].all()
    assert own[:4, 16:].all()
    assert not own[4:, 16:].any()


def test_max_instances_keeps_the_best_scored_queries_and_merges_only_their_masks():
    cfg = dataclasses.replace(micro_config("no_target_rule=queries"), score_weighted=False)
    one = dataclasses.replace(cfg, postprocess=dataclasses.replace(cfg.postprocess, max_instances=1))
    both = postprocess(_outputs([0.8, 0.9]), META, cfg)[0]
    assert [i["score"] for i in both["instances"]] == pytest.approx([0.9, 0.8])  # best first
    capped = postprocess(_outputs([0.8, 0.9]), META, one)[0]
    assert [i["score"] for i in capped["instances"]] == pytest.approx([0.9])
    seg = rle.decode(capped["instances"][0]["segmentation"]).astype(bool)
    assert seg[:, 16:].all()  # query 1 (right half), the better one
    assert not seg[:, :16].any()
    mask = rle.decode(capped["mask"]).astype(bool)
    assert mask[:, 16:].all()
    assert not mask[:, :16].any()  # query 0's left half is not merged in
    assert rle.decode(both["mask"]).astype(bool).all()
    assert capped["no_target"] is False
    assert capped["no_target_score"] == pytest.approx(both["no_target_score"])
    nothing = postprocess(_outputs([0.5, 0.6]), META, one)[0]
    assert nothing["no_target"] is True
    assert nothing["instances"] == []


def test_max_instances_must_not_be_negative():
    from evaluators.errors import InputError

    with pytest.raises(InputError, match="max_instances"):
        micro_config("postprocess.max_instances=-1")
