"""Model outputs -> predictions records (shared/spec/PREDICTIONS.md), as the official post-processing (paper 3.5).

Per expression:

- query score = softmax(class)[object] x existence score, where the existence score is sigmoid(logit[0])
  (official, quirk 5) or softmax(logits)[0]; ``score_weighted=False`` uses the class probability alone;
- kept queries: score > ``score_threshold`` (0.7), then optionally greedy NMS at IoU ``nms_threshold``
  (the official ``with_nms`` switch, off by default; paper Table 15); ``no_target`` = no query kept (``no_target_rule="queries"``)
  or softmax(existence)[empty] > 0.5 (``"exist"``); ``no_target_score`` = 1 - max query score, or the existence
  head's empty probability under ``"exist"``;
- boxes: normalised cxcywh -> xyxy x (W, H) of the ORIGINAL image (the input was resized without keeping the
  aspect ratio, so the mapping is a per-axis scale), clipped, written as COCO ``[x, y, w, h]``; unlike the
  official ``detector_postprocess`` empty boxes are kept, so scores, boxes and masks stay aligned;
- masks: sigmoid >= ``mask_threshold`` at the S x S input size, then nearest-neighbour resize to the original
  ``h x w`` (``mask_resize="nearest"``, the official ``BitmapMasks.resize``), or logits resized bilinearly first
  and binarised after (``"bilinear"``); the expression mask is the union of the global mask and the kept instance
  masks (``mask_output="merge"``), or one of them; it is emptied when ``no_target`` is true;
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

__all__ = ["nms_order", "postprocess", "query_scores"]


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
    if not cfg.score_weighted:
        return prob
    exist = outputs["exist_logits"].float()
    weight = exist[:, 0].sigmoid() if cfg.exist_score == "sigmoid" else exist.softmax(-1)[:, 0]
    return prob * weight[:, None]


def _binary_masks(logits: torch.Tensor, h: int, w: int, cfg: InstanceVGConfig) -> np.ndarray:
    """``[N, S, S]`` mask logits -> bool ``[N, h, w]`` at the original size (see ``mask_resize``)."""
    if logits.shape[0] == 0:
        return np.zeros((0, h, w), dtype=bool)
    logits = logits[:, None].float()
    if cfg.mask_resize == "nearest":
        binary = (logits.sigmoid() >= cfg.mask_threshold).float()
        out = F.interpolate(binary, size=(h, w), mode="nearest") > 0.5
    else:
        resized = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
        out = resized.sigmoid() >= cfg.mask_threshold
    return out[:, 0].cpu().numpy()


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
        keep = torch.nonzero(scores[b] > cfg.score_threshold).flatten()
        keep = keep[scores[b, keep].argsort(descending=True)]
        if cfg.nms_threshold > 0 and len(keep) > 1:
            keep = keep[nms_order(boxes[b, keep], cfg.nms_threshold)]
        if cfg.no_target_rule == "queries":
            no_target = len(keep) == 0
            nt_score = 1.0 - float(scores[b].max()) if scores.shape[1] else 1.0
        else:
            no_target = bool(empty_prob[b] > 0.5)
            nt_score = float(empty_prob[b])
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        xyxy = boxes[b, keep] * scale
        xyxy[:, 0::2] = xyxy[:, 0::2].clamp(0, w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clamp(0, h)
        inst_masks = None
        if pred_masks is not None:
            inst_masks = _binary_masks(pred_masks[b, keep.to(pred_masks.device)], h, w, cfg)
        instances = []
        for k in range(len(keep)):
            x0, y0, x1, y1 = (float(v) for v in xyxy[k])
            inst: dict[str, Any] = {"bbox": [x0, y0, x1 - x0, y1 - y0], "score": float(scores[b, keep[k]])}
            if inst_masks is not None:
                inst["segmentation"] = rle.encode(inst_masks[k])
            instances.append(inst)
        merged = np.zeros((h, w), dtype=bool)
        if not no_target:
            if cfg.mask_output in ("merge", "global") or inst_masks is None:
                merged |= _binary_masks(global_mask[b : b + 1], h, w, cfg)[0]
            if cfg.mask_output in ("merge", "instance") and inst_masks is not None and len(inst_masks):
                merged |= inst_masks.any(0)
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
