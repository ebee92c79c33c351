"""vgbench evaluators: score predictions files on every REC / RES / GREC / GRES / Ref-ZOM / R-RefCOCO metric.

Depends on numpy, pycocotools and pyarrow only (never torch or datasets).
"""

from evaluators import rle
from evaluators.errors import InputError

__all__ = ["InputError", "rle"]
