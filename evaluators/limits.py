"""Explicit limits on untrusted input (documented in docs/evaluators.md, "Limits").

They keep every input inside what the compiled code and the protocols' arithmetic handle exactly:

- ``MAX_IMAGE_SIDE``: an image or mask side (RLE ``size``, a target's ``height``/``width``) is at most
  16384 pixels, so ``height * width <= 2**28``: every run length and pixel count fits pycocotools'
  32-bit counters (which otherwise overflow or crash at ``2**32``), and a dense decode stays <= 256 MiB.
- ``MAX_COORD``: a box coordinate or size is at most ``2**24`` in absolute value. Up to there float32,
  the precision of the official box protocols, holds every integer pixel exactly, and no corner,
  area or enclosing area overflows to inf (which would turn IoU/GIoU into NaN, and NaN counts as a
  match in the official greedy matching).
- ``MAX_RESIZE``: ``--resize N`` is at most 4096 (a dense N x N mask per comparison).
- ``MAX_RECORD_BYTES``: one line of a ``.jsonl`` file is at most 256 MiB (a longer line is refused
  before it is held whole); RLE strings of real masks are kilobytes.
"""

from __future__ import annotations

__all__ = ["MAX_COORD", "MAX_IMAGE_SIDE", "MAX_RECORD_BYTES", "MAX_RESIZE"]

MAX_IMAGE_SIDE = 16384
MAX_COORD = float(2**24)
MAX_RESIZE = 4096
MAX_RECORD_BYTES = 1 << 28
