"""Tensor operations of InstanceVG: box arithmetic, positional encodings, multi-scale deformable attention."""

from instancevg.ops.box_ops import box_cxcywh_to_xyxy, box_iou, generalized_box_iou, inverse_sigmoid
from instancevg.ops.msda import MSDeformAttn, ms_deform_attn
from instancevg.ops.position import sine_position_2d

__all__ = [
    "MSDeformAttn",
    "box_cxcywh_to_xyxy",
    "box_iou",
    "generalized_box_iou",
    "inverse_sigmoid",
    "ms_deform_attn",
    "sine_position_2d",
]
