"""vgbench evaluators: score predictions files on every REC / RES / GREC / GRES / Ref-ZOM / R-RefCOCO metric.

Depends on numpy, pycocotools and pyarrow only (never torch or datasets).

- `Evaluator` (class API: update / merge / compute) and `evaluate` / `score_files` (functional API)
- `compare_predictions` / `compare_evaluators` -> `Comparison`: paired bootstrap A - B (``vgbench compare``)
- `get_protocol`, `PROTOCOLS`, `DEFAULTS`, `available_protocols`: the protocol registry
  (docs/formats.md#scoring-protocols); `register_protocol` and the ``vgbench.protocols`` entry points
  (`ENTRY_POINT_GROUP`) add protocols from outside; `declare_state` declares a protocol's state fields,
  `StateFieldError` is raised for any other (docs/evaluators.md#adding-a-protocol)
- `PredictionsFile`, `iter_targets`: readers; `rle`: COCO RLE helpers; `InputError`: bad input
- `limits`: the explicit limits on untrusted input; `check_bbox`: a box as the evaluator accepts it
- the primitives every vgbench package shares (docs/architecture.md): `atomic` (atomic file output),
  `hashing` (sha256 of files), `jsonl` (JSON-lines reader/writer), `progress` (tqdm on stderr),
  `version` (the installed version), `write_predictions` (the one predictions writer)
"""

from evaluators import atomic, hashing, jsonl, limits, progress, rle, version
from evaluators.accumulate import declare_state
from evaluators.api import Evaluation, Evaluator, evaluate, score_files, validate_files
from evaluators.compare import Comparison, MetricComparison, compare_evaluators, compare_predictions
from evaluators.errors import InputError, StateFieldError
from evaluators.predictions_writer import write_predictions
from evaluators.protocols import (
    DEFAULTS,
    ENTRY_POINT_GROUP,
    PROTOCOLS,
    TASKS,
    Protocol,
    available_protocols,
    get_protocol,
    load_plugins,
    register_protocol,
    unregister_protocol,
)
from evaluators.readers import PredictionsFile, iter_targets
from evaluators.records import Instance, Prediction, Target, check_bbox, parse_prediction, parse_target

__all__ = [
    "DEFAULTS",
    "ENTRY_POINT_GROUP",
    "PROTOCOLS",
    "TASKS",
    "Comparison",
    "Evaluation",
    "Evaluator",
    "InputError",
    "Instance",
    "MetricComparison",
    "Prediction",
    "PredictionsFile",
    "Protocol",
    "StateFieldError",
    "Target",
    "atomic",
    "available_protocols",
    "check_bbox",
    "compare_evaluators",
    "compare_predictions",
    "declare_state",
    "evaluate",
    "get_protocol",
    "hashing",
    "iter_targets",
    "jsonl",
    "limits",
    "load_plugins",
    "parse_prediction",
    "parse_target",
    "progress",
    "register_protocol",
    "rle",
    "score_files",
    "unregister_protocol",
    "validate_files",
    "version",
    "write_predictions",
]
