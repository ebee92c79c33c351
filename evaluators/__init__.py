"""vgbench evaluators: score predictions files on every REC / RES / GREC / GRES / Ref-ZOM / R-RefCOCO metric.

Depends on numpy, pycocotools and pyarrow only (never torch or datasets).

- `Evaluator` (class API: update / merge / compute) and `evaluate` / `score_files` (functional API)
- `get_protocol`, `PROTOCOLS`, `DEFAULTS`: the protocol registry (docs/formats.md#scoring-protocols)
- `PredictionsFile`, `iter_targets`: readers; `rle`: COCO RLE helpers; `InputError`: bad input
- `limits`: the explicit limits on untrusted input; `check_bbox`: a box as the evaluator accepts it
- the primitives every vgbench package shares (docs/architecture.md): `atomic` (atomic file output),
  `hashing` (sha256 of files), `jsonl` (JSON-lines reader/writer), `progress` (tqdm on stderr),
  `version` (the installed version), `write_predictions` (the one predictions writer)
"""

from evaluators import atomic, hashing, jsonl, limits, progress, rle, version
from evaluators.api import Evaluation, Evaluator, evaluate, score_files, validate_files
from evaluators.errors import InputError
from evaluators.predictions_writer import write_predictions
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
    "atomic",
    "check_bbox",
    "evaluate",
    "get_protocol",
    "hashing",
    "iter_targets",
    "jsonl",
    "limits",
    "parse_prediction",
    "parse_target",
    "progress",
    "rle",
    "score_files",
    "validate_files",
    "version",
    "write_predictions",
]
