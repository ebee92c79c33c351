"""Training and prediction for InstanceVG on a built vgbench dataset.

- `train` (``vgbench train``): the official recipe, DDP under torchrun, checkpoints, resume, per-epoch
  evaluation through `evaluators`, ``RUN/log.jsonl``.
- `predict` (``vgbench predict``): checkpoint + split -> predictions file.
- Building blocks: `RunOptions`, `GroundingDataset` / `collate` / `build_target`,
  `MultiStepLRWarmUp` / `build_optimizer`, `save_checkpoint` / `load_checkpoint`,
  `tasks_for_config` / `score_predictions`, `read_log`.
"""

from instancevg.training.checkpoint_io import load_checkpoint, save_checkpoint
from instancevg.training.data import GroundingDataset, build_target, collate
from instancevg.training.evaluation import score_predictions, tasks_for_config
from instancevg.training.logs import read_log
from instancevg.training.optim import MultiStepLRWarmUp, build_optimizer, lr_factor
from instancevg.training.options import RunOptions
from instancevg.training.predict import load_for_prediction, load_trained, predict
from instancevg.training.trainer import train

__all__ = [
    "GroundingDataset",
    "MultiStepLRWarmUp",
    "RunOptions",
    "build_optimizer",
    "build_target",
    "collate",
    "load_checkpoint",
    "load_for_prediction",
    "load_trained",
    "lr_factor",
    "predict",
    "read_log",
    "save_checkpoint",
    "score_predictions",
    "tasks_for_config",
    "train",
]
