"""Heads of InstanceVG: SimFPN, U-Net, query generator, query decoders, PIPH heads."""

from instancevg.heads.common import MLP, LayerNorm2d, feed_forward
from instancevg.heads.decoder import QueryDecoder, QueryDecoderLayer
from instancevg.heads.piph import BoxClassHead, query_masks
from instancevg.heads.query_generator import QueryGenerator, T2IDecoderLayer, select_points, text_filter
from instancevg.heads.simfpn import SimFPN
from instancevg.heads.unet import ExistenceHead, UNetDecoder

__all__ = [
    "MLP",
    "BoxClassHead",
    "ExistenceHead",
    "LayerNorm2d",
    "QueryDecoder",
    "QueryDecoderLayer",
    "QueryGenerator",
    "SimFPN",
    "T2IDecoderLayer",
    "UNetDecoder",
    "feed_forward",
    "query_masks",
    "select_points",
    "text_filter",
]
