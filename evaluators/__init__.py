"""vgbench evaluators: score predictions files on every REC / RES / GREC / GRES / Ref-ZOM / R-RefCOCO metric.

Depends on numpy, pycocotools and pyarrow only (never torch or datasets).

- `Evaluator` (class API: update / merge / compute) and `evaluate` / `score_files` (functional API)
- `get_protocol`, `PROTOCOLS`, `DEFAULTS`: the protocol registry (METRICS.md)
- `PredictionsFile`, `iter_targets`: readers; `rle`: COCO RLE helpers; `InputError`: bad input
"""

from evaluators import rle
from evaluators.api import Evaluation, Evaluator, evaluate, score_files, validate_files
from evaluators.errors import InputError
from evaluators.protocols import DEFAULTS, PROTOCOLS, TASKS, Protocol, get_protocol
from evaluators.readers import PredictionsFile, iter_targets
from evaluators.records import Instance, Prediction, Target, parse_prediction, parse_target

__all__ = [
    "DEFAULTS",
    "PROTOCOLS",
    "TASKS",
    "Evaluation",
    "Evaluator",
    "Instance",
    "InputError",
    "Prediction",
    "PredictionsFile",
    "Protocol",
    "Target",
    "evaluate",
    "get_protocol",
    "iter_targets",
    "parse_prediction",
    "parse_target",
    "rle",
    "score_files",
    "validate_files",
]
