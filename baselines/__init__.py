"""vgbench baselines: reference predictors and adapters that write predictions files.

- `run_baseline(name, data_dir, config, split, out)`: one of `BASELINES` (``empty``, ``full-image``,
  ``center-box``, ``largest-object``, ``oracle-jitter``) over a built dataset; `TEXT_BLIND` names the
  ones that read neither the sentence nor the answer.
- `baselines.adapters`: PNG mask folders, COCO results + sidecar mapping, SimVG/InstanceVG dumps.
- `iter_rows`, `list_configs`: the built dataset's unified rows (docs/formats.md#the-unified-row).

Depends on `evaluators` (RLE helpers, errors) and pyarrow; PIL only for PNG masks, torch only for
``.pt`` dumps.
"""

from baselines.annotation_pool import AnnotationPool
from baselines.predictors import BASELINES, TEXT_BLIND, Baseline, get_baseline
from baselines.rows import count_rows, iter_rows, list_configs
from baselines.run import make_baseline, run_baseline
from evaluators.predictions_writer import write_predictions  # re-exported: the one predictions writer

__all__ = [
    "BASELINES",
    "TEXT_BLIND",
    "AnnotationPool",
    "Baseline",
    "count_rows",
    "get_baseline",
    "iter_rows",
    "list_configs",
    "make_baseline",
    "run_baseline",
    "write_predictions",
]
