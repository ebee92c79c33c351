"""vgbench evaluators: score predictions files on every REC / RES / GREC / GRES / Ref-ZOM / R-RefCOCO metric.

Depends on numpy, pycocotools and pyarrow only (never torch or datasets).

- `Evaluator` (class API: update / merge / compute) and `evaluate` / `score_files` (functional API)
- `get_protocol`, `PROTOCOLS`, `DEFAULTS`: the protocol registry (docs/formats.md#scoring-protocols)
- `PredictionsFile`, `iter_targets`: readers; `rle`: COCO RLE helpers; `InputError`: bad input
- `limits`: the explicit limits on untrusted input; `check_bbox`: a box as the evaluator accepts it
"""

from evaluators import limits, rle
from evaluators.api import Evaluation, Evaluator, evaluate, score_files, validate_files
from evaluators.errors import InputError
from evaluators.protocols import DEFAULTS, PROTOCOLS, TASKS, Protocol, get_protocol
from evaluators.readers import PredictionsFile, iter_targets
from evaluators.records import Instance, Prediction, Target, check_bbox, parse_prediction, parse_target

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
    "check_bbox",
    "evaluate",
    "get_protocol",
    "iter_targets",
    "limits",
    "parse_prediction",
    "parse_target",
    "rle",
    "score_files",
    "validate_files",
]
