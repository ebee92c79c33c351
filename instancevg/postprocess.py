"""Model outputs -> predictions records (docs/formats.md#predictions-file), as the official post-processing (paper 3.5).

Per expression:

- query score = softmax(class)[object] x existence score, where the existence score is sigmoid(logit[0])
  (official, quirk 5) or softmax(logits)[0]; ``score_weighted=False`` uses the class probability alone;
- kept queries: score > ``score_threshold`` (0.7), then optionally greedy NMS at IoU ``nms_threshold``
  (the official ``with_nms`` switch, off by default; paper Table 15), then at most ``max_instances`` of them, the
  best-scored first (0: all, official); ``no_target`` = no query kept (``no_target_rule="queries"``)
  or softmax(existence)[empty] > 0.5 (``"exist"``); ``no_target_score`` = 1 - max query score, or the existence
  head's empty probability under ``"exist"``;
- boxes: normalised cxcywh -> xyxy x (W, H) of the ORIGINAL image (the input was resized without keeping the
  aspect ratio, so the mapping is a per-axis scale), clipped, written as COCO ``[x, y, w, h]``; unlike the
  official ``detector_postprocess`` empty boxes are kept, so scores, boxes and masks stay aligned;
- masks: sigmoid >= ``mask_threshold`` at the S x S input size, then nearest-neighbour resize to the original
  ``h x w`` with OpenCV's ``INTER_NEAREST`` index rule (``mask_resize="nearest"``, the official
  ``BitmapMasks.resize``), or logits resized bilinearly first and binarised after (``"bilinear"``); the expression
  mask is the union of the global mask and the kept instance masks (``mask_output="merge"``), or one of them; it
  is emptied when ``no_target`` is true unless ``empty_mask_on_no_target=False`` (official);
- ``instances_written="all"`` (official checkpoints) lists every query with its score instead of the kept ones;
  ``drop_empty_boxes`` (official ``detector_postprocess``) removes boxes of zero width or height after clipping, and
  then, as the official code does, the kept instance masks are taken at the *positions* of the kept scores in the
  shortened list (so a dropped box shifts which query masks are merged; each written instance carries the mask at
  its position);
- ``points``: the prior points in original pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from evaluators import rle
from instancevg.config import InstanceVGConfig
from instancevg.ops.box_ops import box_cxcywh_to_xyxy, box_iou

__all__ = ["nearest_indices", "nms_order", "postprocess", "query_scores"]


def nms_order(boxes_xyxy: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS over boxes already sorted by decreasing score: indices (into ``boxes_xyxy``) of the boxes
    kept, in order; a box is dropped when its IoU with a kept one is above ``iou_threshold``."""
    iou = box_iou(boxes_xyxy, boxes_xyxy)[0]
    kept: list[int] = []
    for i in range(len(boxes_xyxy)):
        if all(float(iou[i, j]) <= iou_threshold for j in kept):
            kept.append(i)
    return torch.tensor(kept, dtype=torch.long)


def query_scores(outputs: dict, cfg: InstanceVGConfig) -> torch.Tensor:
    """Scores ``[B, N_q]`` in [0, 1] of the last decoder layer's queries (see module docstring)."""
    prob = outputs["pred_logits"].float().softmax(-1)[..., 0]
    if not cfg.postprocess.score_weighted:
        return prob
    exist = outputs["exist_logits"].float()
    weight = exist[:, 0].sigmoid() if cfg.quirks.exist_score == "sigmoid" else exist.softmax(-1)[:, 0]
    return prob * weight[:, None]


def nearest_indices(src: int, dst: int) -> np.ndarray:
    """Source index of each of ``dst`` output pixels under OpenCV's ``INTER_NEAREST`` (what mmcv's
    ``imresize`` / mmdet's ``BitmapMasks.resize`` call): ``min(floor(i * (1 / (dst / src))), src - 1)`` in float64."""
    scale = 1.0 / (dst / src)
    return np.minimum(np.floor(np.arange(dst) * scale).astype(np.int64), src - 1)


def _binary_masks(logits: torch.Tensor, h: int, w: int, cfg: InstanceVGConfig) -> np.ndarray:
    """``[N, S, S]`` mask logits -> bool ``[N, h, w]`` at the original size (see ``mask_resize``)."""
    if logits.shape[0] == 0:
        return np.zeros((0, h, w), dtype=bool)
    logits = logits.float()
    if cfg.postprocess.mask_resize == "nearest":
        binary = (logits.sigmoid() >= cfg.postprocess.mask_threshold).cpu().numpy()
        rows = nearest_indices(binary.shape[1], h)
        cols = nearest_indices(binary.shape[2], w)
        return binary[:, rows[:, None], cols[None, :]]
    resized = F.interpolate(logits[:, None], size=(h, w), mode="bilinear", align_corners=False)
    return (resized.sigmoid() >= cfg.postprocess.mask_threshold)[:, 0].cpu().numpy()


def _written_queries(scores: torch.Tensor, xyxy_norm: torch.Tensor, cfg: InstanceVGConfig) -> tuple:
    """For one expression: ``(listed, kept, mask_index)`` index tensors into the queries.

    ``listed``: the queries whose boxes survive ``drop_empty_boxes``, in query order; ``kept``: those of them
    scored above the threshold (after NMS), by decreasing score, at most ``max_instances`` of them (0: all); ``mask_index[k]``: the query whose mask goes with
    ``listed[k]`` (the same query, or with dropped boxes the official positional pairing).
    """
    n = scores.shape[0]
    listed = torch.arange(n)
    if cfg.postprocess.drop_empty_boxes:
        clipped = xyxy_norm.clamp(0.0, 1.0)
        nonempty = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        listed = listed[nonempty]
    mask_index = torch.arange(len(listed)) if cfg.postprocess.drop_empty_boxes else listed
    order = torch.nonzero(scores[listed] > cfg.postprocess.score_threshold).flatten()
    order = order[scores[listed][order].argsort(descending=True, stable=True)]
    if cfg.postprocess.nms_threshold > 0 and len(order) > 1:
        order = order[nms_order(xyxy_norm[listed][order], cfg.postprocess.nms_threshold)]
    if cfg.postprocess.max_instances > 0:
        order = order[: cfg.postprocess.max_instances]
    return listed, order, mask_index


@torch.no_grad()
def postprocess(outputs: dict, metas: Sequence[dict], cfg: InstanceVGConfig) -> list[dict[str, Any]]:
    """One predictions record per meta (``{"expr_id": str, "orig_size": (h, w)}``), in order."""
    if len(metas) != outputs["pred_logits"].shape[0]:
        raise ValueError(f"postprocess: {len(metas)} metas for a batch of {outputs['pred_logits'].shape[0]}")
    scores = query_scores(outputs, cfg).cpu()
    boxes = box_cxcywh_to_xyxy(outputs["pred_boxes"].float()).cpu()
    points = outputs["points"].float().cpu()
    empty_prob = outputs["exist_logits"].float().softmax(-1)[:, 1].cpu()
    pred_masks, global_mask = outputs.get("pred_masks"), outputs["global_mask"]
    records = []
    for b, meta in enumerate(metas):
        h, w = (int(v) for v in meta["orig_size"])
        listed, order, mask_index = _written_queries(scores[b], boxes[b], cfg)
        if cfg.quirks.no_target_rule == "queries":
            no_target = len(order) == 0
            nt_score = 1.0 - float(scores[b].max()) if scores.shape[1] else 1.0
        else:
            no_target = bool(empty_prob[b] > 0.5)
            nt_score = float(empty_prob[b])
        written = torch.arange(len(listed)) if cfg.postprocess.instances_written == "all" else order
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        xyxy = boxes[b, listed[written]] * scale
        xyxy[:, 0::2] = xyxy[:, 0::2].clamp(0, w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clamp(0, h)
        inst_masks = kept_masks = None
        if pred_masks is not None:
            needed = torch.unique(torch.cat([mask_index[written], mask_index[order]]))
            binary = _binary_masks(pred_masks[b, needed.to(pred_masks.device)], h, w, cfg)
            position = {int(q): i for i, q in enumerate(needed)}
            inst_masks = binary[[position[int(q)] for q in mask_index[written]]]
            kept_masks = binary[[position[int(q)] for q in mask_index[order]]]
        instances = []
        for k in range(len(written)):
            x0, y0, x1, y1 = (float(v) for v in xyxy[k])
            score = float(scores[b, listed[written[k]]])
            inst: dict[str, Any] = {"bbox": [x0, y0, x1 - x0, y1 - y0], "score": score}
            if inst_masks is not None:
                inst["segmentation"] = rle.encode(inst_masks[k])
            instances.append(inst)
        merged = np.zeros((h, w), dtype=bool)
        if not (no_target and cfg.postprocess.empty_mask_on_no_target):
            if cfg.postprocess.mask_output in ("merge", "global") or kept_masks is None:
                merged |= _binary_masks(global_mask[b : b + 1], h, w, cfg)[0]
            if (
                cfg.postprocess.mask_output in ("merge", "instance")
                and kept_masks is not None
                and len(kept_masks)
            ):
                merged |= kept_masks.any(0)
        pts = points[b] * torch.tensor([w, h], dtype=torch.float32)
        records.append(
            {
                "expr_id": str(meta["expr_id"]),
                "instances": instances,
                "mask": rle.encode(merged),
                "no_target": bool(no_target),
                "no_target_score": min(max(nt_score, 0.0), 1.0),
                "points": [[float(x), float(y)] for x, y in pts],
            }
        )
    return records
