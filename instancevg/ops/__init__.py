"""Tensor operations of InstanceVG: box arithmetic, positional encodings, multi-scale deformable attention,
oneDNN linear layers for CPU inference."""

from instancevg.ops.box_ops import box_cxcywh_to_xyxy, box_iou, generalized_box_iou, inverse_sigmoid
from instancevg.ops.msda import MSDeformAttn, ms_deform_attn
from instancevg.ops.onednn_linear import OneDnnLinear, onednn_linear_available, use_onednn_linear
from instancevg.ops.position import sine_position_2d

__all__ = [
    "MSDeformAttn",
    "OneDnnLinear",
    "box_cxcywh_to_xyxy",
    "box_iou",
    "generalized_box_iou",
    "inverse_sigmoid",
    "ms_deform_attn",
    "onednn_linear_available",
    "sine_position_2d",
    "use_onednn_linear",
]
