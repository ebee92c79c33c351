"""What ``vgbench demo`` evaluates and trains, shared by its steps (`pipeline`), tables and summary
(`report`) and plots (`plots`), so that none of them imports another."""

from __future__ import annotations

__all__ = [
    "DEFAULT_IMAGES",
    "DEFAULT_STEPS",
    "EVALS",
    "MODEL_NAME",
    "PRESET",
    "THREADS",
    "TRAIN_CONFIG",
    "VERDICT_SPLIT",
]

# (task, config, split) scored for every model
EVALS: tuple[tuple[str, str, str], ...] = (
    ("rec", "refcoco_unc", "val"),
    ("res", "refcoco_unc", "val"),
    ("grec", "grefcoco_unc", "val"),
    ("gres", "grefcoco_unc", "val"),
    ("refzom", "refzom_final", "test"),
    ("rrefcoco", "rrefcoco_unc", "val"),
)
TRAIN_CONFIG = "grefcoco_unc"
# the split of the verdict (GREC F1score, GRES gIoU), of the report and of the example figure
VERDICT_SPLIT = ("grefcoco_unc", "val")
MODEL_NAME = "instancevg-tiny"
PRESET = "tiny-cpu"
# synthetic train2014 scenes per dataset: 200 give grefcoco_unc about 2,000 train and 400 val expressions
DEFAULT_IMAGES = 200
# the training budget in optimizer steps: on the held-out dev set 5,000 steps with the preset's one-box rule beat
# largest-object by 9.5 and 12.6 GREC points at seeds 0 and 2 (docs/demo.md: why this number)
DEFAULT_STEPS = 5000
# torch intra-op threads of training and prediction, fixed so that the numbers do not depend on the machine's
# core count: one thread was about as fast as two on an idle 2-core machine (0.31 vs 0.27 s per step) and
# several times faster on a busy one (docs/demo.md)
THREADS = 1
