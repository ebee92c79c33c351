"""Training objective of InstanceVG: the point-guided matcher, mask losses and the full criterion."""

from instancevg.losses.criterion import InstanceVGCriterion
from instancevg.losses.matcher import HungarianMatcher
from instancevg.losses.seg import bce_loss, dice_loss

__all__ = ["HungarianMatcher", "InstanceVGCriterion", "bce_loss", "dice_loss"]
