"""Multimodal encoders: the BEiT-3 multiway Transformer."""

from instancevg.encoders.beit3 import BEiT3Encoder
from instancevg.encoders.multiway import Multiway

__all__ = ["BEiT3Encoder", "Multiway"]
