"""Point-guided Hungarian matcher (paper 3.3.1; official ``HungarianMatcher`` with a point cost).

Cost of prediction i against target j (all boxes normalised cxcywh, points normalised (x, y)):
``C = -w_class * p_i(object) + w_bbox * L1(box_i, box_j) - w_giou * GIoU(box_i, box_j)
+ w_point * L1(point_i, centre_j)``; one ``scipy.optimize.linear_sum_assignment`` per image. Class index 0 is
"object", 1 is "no object".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from instancevg.ops.box_ops import box_cxcywh_to_xyxy, generalized_box_iou

__all__ = ["HungarianMatcher"]

Match = tuple[torch.Tensor, torch.Tensor]


class HungarianMatcher:
    """Callable: ``(logits [B,Q,2], boxes [B,Q,4], points [B,Q,2] or None, targets) -> [(pred_idx, tgt_idx)]``.

    ``targets[b]["boxes"]`` is ``[N_b, 4]``; each returned pair holds LongTensors of equal length
    ``min(Q, N_b)`` on the CPU, ``pred_idx`` sorted increasingly.
    """

    def __init__(
        self, cost_class: float = 1.0, cost_bbox: float = 5.0, cost_giou: float = 2.0, cost_point: float = 2.0
    ) -> None:
        self.cost_class, self.cost_bbox, self.cost_giou, self.cost_point = (
            cost_class,
            cost_bbox,
            cost_giou,
            cost_point,
        )

    def cost_matrix(
        self,
        logits: torch.Tensor,
        boxes: torch.Tensor,
        points: torch.Tensor | None,
        tgt_boxes: torch.Tensor,
    ) -> torch.Tensor:
        """Cost ``[P, T]`` of P predictions (``logits [P,2]``, ``boxes [P,4]``, ``points [P,2]``) vs T boxes."""
        prob = logits.softmax(-1)[:, 0]
        cost = -self.cost_class * prob[:, None].expand(-1, tgt_boxes.shape[0])
        cost = cost + self.cost_bbox * torch.cdist(boxes, tgt_boxes, p=1)
        giou = generalized_box_iou(box_cxcywh_to_xyxy(boxes), box_cxcywh_to_xyxy(tgt_boxes))
        cost = cost - self.cost_giou * giou
        if points is not None and self.cost_point:
            cost = cost + self.cost_point * torch.cdist(points, tgt_boxes[:, :2], p=1)
        return cost

    @torch.no_grad()
    def __call__(
        self,
        logits: torch.Tensor,
        boxes: torch.Tensor,
        points: torch.Tensor | None,
        targets: Sequence[dict],
    ) -> list[Match]:
        b, q = logits.shape[:2]
        sizes = [len(t["boxes"]) for t in targets]
        empty = torch.empty(0, dtype=torch.long)
        if sum(sizes) == 0:
            return [(empty, empty) for _ in range(b)]
        tgt = torch.cat([t["boxes"].to(boxes.device, boxes.dtype) for t in targets])
        flat_points = points.flatten(0, 1).float() if points is not None else None
        cost = self.cost_matrix(
            logits.flatten(0, 1).float(), boxes.flatten(0, 1).float(), flat_points, tgt.float()
        )
        cost = cost.view(b, q, -1).cpu()
        out = []
        for i, part in enumerate(cost.split(sizes, -1)):
            if sizes[i] == 0:
                out.append((empty, empty))
                continue
            rows, cols = linear_sum_assignment(np.nan_to_num(part[i].numpy(), nan=1e6))
            out.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
        return out
