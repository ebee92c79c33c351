"""The InstanceVG training objective (paper 3.4 and eq. 6-7, as the official code computes it; docs/instancevg.md).

``L = L_det + L_mask + L_exist`` with

- ``L_det = loss_detr * [sum over the final layer of (w_cls CE + w_bbox L1 + w_giou GIoU)
  + sum over aux layers of (CE + L1 + GIoU)]`` -- the aux layers are unweighted in the code (quirk 3;
  ``aux_loss_weighting="weighted"`` gives them the final weights). CE is the 2-way softmax CE over all queries
  with class weights ``[1, eos_coef]``; L1 and GIoU are summed over matched pairs and divided by
  ``max(#GT boxes in the batch, 1)``. Each layer is matched separately.
- ``L_mask = loss_instance * (dice + BCE)(matched query masks, GT instance masks)
  + loss_neg * (dice + BCE)(unmatched query masks, 0) + loss_global * (dice + BCE)(global mask, GT union)
  + loss_attn * (dice + BCE)(attention map probabilities used as logits, GT union nearest-resized to the grid)``;
  instance masks use the final layer's matching. A batch without any positive (or negative) mask contributes 0 for
  that term instead of the official code's NaN.
- ``L_exist = loss_exist * CE(existence logits, is_empty)`` with class weights ``exist_class_weights``.

Dice and BCE are each weighted by ``loss_dice`` and ``loss_bce``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from instancevg.config import InstanceVGConfig
from instancevg.losses.matcher import HungarianMatcher, Match
from instancevg.losses.seg import bce_loss, dice_loss
from instancevg.ops.box_ops import box_cxcywh_to_xyxy, generalized_box_iou

__all__ = ["TASK_TERMS", "InstanceVGCriterion", "default_matcher"]

# ``ablation.tasks`` -> (detection losses, mask losses) in the total (paper Table 7)
TASK_TERMS: dict[str, tuple[bool, bool]] = {"both": (True, True), "det": (True, False), "seg": (False, True)}


def default_matcher(cfg: InstanceVGConfig) -> HungarianMatcher:
    """The Hungarian matcher of ``cfg.matcher``; no point cost without point-prior queries and instance heads
    (``ablation.use_apd`` and ``ablation.use_piph``)."""
    m, abl = cfg.matcher, cfg.ablation
    point_cost = m.cost_point if (abl.use_apd and abl.use_piph) else 0.0
    return HungarianMatcher(m.cost_class, m.cost_bbox, m.cost_giou, point_cost)


class InstanceVGCriterion:
    """``criterion(outputs, targets) -> {"loss": total, <named terms>}``; all values are scalar tensors.

    ``outputs`` is the dict of ``InstanceVG.forward``. ``targets[b]`` holds ``boxes`` FloatTensor[N, 4]
    (normalised cxcywh of the S x S input), ``masks`` FloatTensor[N, S, S], ``mask`` FloatTensor[S, S] and
    ``no_target`` (bool); N may be 0. Named terms: ``loss_det``, ``loss_ce``/``loss_bbox``/``loss_giou`` (final
    layer, unweighted), the same with suffix ``_{i}`` for aux layer i, ``loss_mask_pos``, ``loss_mask_neg``,
    ``loss_global``, ``loss_attn``, ``loss_exist`` (each before its lambda).

    Built from ``cfg.loss`` (weights), ``cfg.quirks.aux_loss_weighting`` and ``cfg.ablation.tasks``, with
    ``matcher`` (default: `default_matcher`; `instancevg.build.build_criterion` passes it in).
    """

    def __init__(self, cfg: InstanceVGConfig, matcher: HungarianMatcher | None = None) -> None:
        self.cfg = cfg
        self.weights = cfg.loss
        self.matcher = matcher if matcher is not None else default_matcher(cfg)
        self.aux_weighted = cfg.quirks.aux_loss_weighting == "weighted"
        self.detection, self.segmentation = TASK_TERMS[cfg.ablation.tasks]

    # ---------------------------------------------------------------- detection
    def _det_terms(
        self,
        logits: torch.Tensor,
        boxes: torch.Tensor,
        targets: Sequence[dict],
        indices: list[Match],
        num_boxes: float,
    ) -> dict[str, torch.Tensor]:
        labels = torch.ones(logits.shape[:2], dtype=torch.long, device=logits.device)  # 1 = no object
        for b, (src, _) in enumerate(indices):
            labels[b, src.to(logits.device)] = 0
        weight = torch.tensor([1.0, self.weights.eos_coef], dtype=logits.dtype, device=logits.device)
        loss_ce = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), weight=weight)
        src = torch.cat([boxes[b, i.to(boxes.device)] for b, (i, _) in enumerate(indices)])
        tgt = torch.cat([t["boxes"].to(boxes)[j.to(boxes.device)] for t, (_, j) in zip(targets, indices)])
        if src.numel():
            loss_bbox = F.l1_loss(src, tgt, reduction="sum") / num_boxes
            giou = torch.diag(generalized_box_iou(box_cxcywh_to_xyxy(src), box_cxcywh_to_xyxy(tgt)))
            loss_giou = (1 - giou).sum() / num_boxes
        else:
            loss_bbox = loss_giou = boxes.sum() * 0.0
        return {"loss_ce": loss_ce, "loss_bbox": loss_bbox, "loss_giou": loss_giou}

    def _detection(
        self, outputs: dict, targets: Sequence[dict], num_boxes: float
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, list[Match]]:
        w_loss = self.weights
        points = outputs.get("points") if self.matcher.cost_point else None
        layers = [
            *outputs.get("aux_outputs", []),
            {"pred_logits": outputs["pred_logits"], "pred_boxes": outputs["pred_boxes"]},
        ]
        terms: dict[str, torch.Tensor] = {}
        total = outputs["pred_logits"].sum() * 0.0
        final_w = (w_loss.cls, w_loss.bbox, w_loss.giou)
        indices: list[Match] = []
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            indices = self.matcher(layer["pred_logits"], layer["pred_boxes"], points, targets)
            t = self._det_terms(layer["pred_logits"], layer["pred_boxes"], targets, indices, num_boxes)
            w = final_w if last or self.aux_weighted else (1.0, 1.0, 1.0)
            total = total + w[0] * t["loss_ce"] + w[1] * t["loss_bbox"] + w[2] * t["loss_giou"]
            suffix = "" if last else f"_{i}"
            terms.update({k + suffix: v.detach() for k, v in t.items()})
        return terms, w_loss.detr * total, indices

    # ---------------------------------------------------------------- masks
    def _seg(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.weights.dice * dice_loss(logits, target) + self.weights.bce * bce_loss(logits, target)

    def _instance_masks(
        self, pred_masks: torch.Tensor, targets: Sequence[dict], indices: list[Match]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, q = pred_masks.shape[:2]
        matched = torch.zeros(b, q, dtype=torch.bool, device=pred_masks.device)
        pos_pred, pos_tgt = [], []
        for i, (t, (src, tgt)) in enumerate(zip(targets, indices)):
            if len(src):
                src = src.to(pred_masks.device)
                matched[i, src] = True
                pos_pred.append(pred_masks[i, src])
                pos_tgt.append(t["masks"].to(pred_masks)[tgt.to(pred_masks.device)])
        zero = pred_masks.sum() * 0.0
        pos = self._seg(torch.cat(pos_pred), torch.cat(pos_tgt)) if pos_pred else zero
        neg_pred = pred_masks[~matched]
        neg = self._seg(neg_pred, torch.zeros_like(neg_pred)) if len(neg_pred) else zero
        return pos, neg

    def _attn_map(self, attn_map: torch.Tensor, targets: Sequence[dict]) -> torch.Tensor:
        gt = torch.stack([t["mask"].to(attn_map) for t in targets])[:, None]
        gt = F.interpolate(gt, size=attn_map.shape[-2:], mode="nearest")[:, 0]
        return self._seg(attn_map, gt)

    # ---------------------------------------------------------------- total
    def __call__(self, outputs: dict, targets: Sequence[dict]) -> dict[str, torch.Tensor]:
        w = self.weights
        device = outputs["pred_logits"].device
        num_boxes = float(max(sum(len(t["boxes"]) for t in targets), 1))
        zero = outputs["pred_logits"].sum() * 0.0
        terms: dict[str, torch.Tensor] = {}
        do_det, do_seg = self.detection, self.segmentation

        total = zero
        indices = None
        if do_det or outputs.get("pred_masks") is not None:
            det_terms, loss_det, indices = self._detection(outputs, targets, num_boxes)
            terms.update(det_terms)
            terms["loss_det"] = loss_det.detach()
            if do_det:
                total = total + loss_det
        if do_seg:
            pred_masks = outputs.get("pred_masks")
            if pred_masks is not None and indices is not None:
                pos, neg = self._instance_masks(pred_masks, targets, indices)
                terms["loss_mask_pos"], terms["loss_mask_neg"] = pos.detach(), neg.detach()
                total = total + w.instance * pos + w.neg * neg
            gt_union = torch.stack([t["mask"].to(device) for t in targets])
            glob = self._seg(outputs["global_mask"], gt_union)
            terms["loss_global"] = glob.detach()
            total = total + w.global_mask * glob
            if outputs.get("attn_map") is not None and w.attn:
                attn = self._attn_map(outputs["attn_map"], targets)
                terms["loss_attn"] = attn.detach()
                total = total + w.attn * attn
        empty = torch.tensor([bool(t["no_target"]) for t in targets], dtype=torch.long, device=device)
        weight = torch.tensor(w.exist_class_weights, dtype=outputs["exist_logits"].dtype, device=device)
        exist = F.cross_entropy(outputs["exist_logits"], empty, weight=weight)
        terms["loss_exist"] = exist.detach()
        total = total + w.exist * exist
        terms["loss"] = total
        return terms
