"""Run options: what to train on and how to run, kept apart from the model config.

The model config (`instancevg.config.InstanceVGConfig`, its ``train`` recipe included) says what the
model is and how it is optimised; `RunOptions` says which data it sees, where things go, and how fast the
model runs (the run-time switches of `instancevg.runtime.ModelRuntime`, which change no number). On the
command line both are set with ``--set``: model keys as ``input.img_size=160`` (or the old ``img_size=160``) /
``train.lr=1e-4``, run keys with the ``run.`` prefix, e.g. ``--set run.data_config=refzom_final
run.evaluate=false``; the run-time keys (``onednn_linear``) are accepted without the prefix too.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evaluators.errors import InputError
from instancevg.runtime import RUNTIME_KEYS, ModelRuntime

__all__ = ["PREFIX", "RunOptions", "split_overrides"]

PREFIX = "run."


@dataclass
class RunOptions:
    """Options of one training run.

    Attributes:
        data_config: the built dataset's config to train on (``grefcoco_unc``, ``refcoco_unc``,
            ``refzom_final``, ``rrefcoco_unc``...).
        train_split: split trained on.
        val_config: config evaluated after every epoch; ``""`` is ``data_config`` (set it to e.g.
            ``refcoco_unc`` when training on ``refmix_train``, which has no val split).
        val_split: split evaluated after every epoch; ``""`` picks ``val`` when the val config has it,
            else ``test`` (Ref-ZOM), else nothing.
        evaluate: evaluate after every epoch (predict the val split, score it with `evaluators`).
        spm: a SentencePiece model (e.g. BEiT-3's ``beit3.spm``); ``""`` trains one on the train
            split's sentences with the config's ``vocab_size`` (saved as ``RUN/tokenizer.model``).
        images_dir: folder of the images (``file_name`` relative to it); ``""`` uses the embedded
            images or the build manifest's ``images_root``.
        log_every: write a ``step`` record to ``RUN/log.jsonl`` every this many optimizer steps.
        keep_epoch_checkpoints: keep ``RUN/epoch_{k}.pt`` besides ``RUN/last.pt`` (off by default: each
            is a full checkpoint; ``RUN/best.pt`` is kept whenever the run evaluates).
        eval_batch_size: batch size of the per-epoch prediction (0: the training batch size).
        device: ``cpu``, ``cuda``, ``cuda:1``; ``""`` picks CUDA when available.
        threads: torch intra-op threads of this process during the run (0: leave torch's default).
            On a busy machine 1 is often several times faster than oversubscribed OpenMP threads.
        ddp_find_unused: DistributedDataParallel's ``find_unused_parameters``; the default model uses
            every parameter, some ablations (``use_apd=false``, ``tasks=det``) need it true.
        fit_schedule: with a time budget, after each epoch (until the first decay) shorten the schedule
            to the epochs the budget allows at the pace measured so far, moving the decay epochs in
            proportion (`instancevg.training.optim.fit_schedule`), so that a budgeted run still decays
            its learning rate. The plan depends on the machine's speed, so such a run is not
            reproducible across machines; off by default.
        onednn_linear: run gradient-free fp32 CPU ``nn.Linear`` layers (the per-epoch evaluation) through
            oneDNN (`instancevg.runtime.ModelRuntime`); a speed switch, not stored in the model config.
    """

    data_config: str = "grefcoco_unc"
    train_split: str = "train"
    val_config: str = ""
    val_split: str = ""
    evaluate: bool = True
    spm: str = ""
    images_dir: str = ""
    log_every: int = 10
    keep_epoch_checkpoints: bool = False
    eval_batch_size: int = 0
    device: str = ""
    threads: int = 0
    ddp_find_unused: bool = False
    fit_schedule: bool = False
    onednn_linear: bool = True

    @property
    def eval_config(self) -> str:
        """The config evaluated after each epoch (``val_config`` or ``data_config``)."""
        return self.val_config or self.data_config

    def model_runtime(self) -> ModelRuntime:
        """The run-time switches of the model (`instancevg.runtime.ModelRuntime`)."""
        return ModelRuntime(onednn_linear=self.onednn_linear)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_overrides(self, overrides: Iterable[str]) -> RunOptions:
        """A copy with ``run.key=value`` (or ``key=value``) overrides applied, typed from the fields."""
        fields = {f.name: f.type for f in dataclasses.fields(self)}
        values = self.to_dict()
        for item in overrides:
            key, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"override {item!r}: expected key=value")
            name = key.strip().removeprefix(PREFIX)
            if name not in fields:
                close = difflib.get_close_matches(name, list(fields), n=3, cutoff=0.6)
                hint = f" (did you mean {', '.join(PREFIX + c for c in close)}?)" if close else ""
                raise InputError(f"override {key.strip()}: unknown run option{hint}")
            values[name] = _coerce(value.strip(), fields[name], f"override {key.strip()}")
        return RunOptions(**values)


def _coerce(value: str, kind: Any, where: str) -> Any:
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        low = value.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise InputError(f"{where}: not a boolean: {value!r}")
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise InputError(f"{where}: not an integer: {value!r}") from None
    return value


def split_overrides(overrides: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split ``--set`` items into (model config overrides, run overrides: ``run.*`` and the run-time keys)."""
    model, run = [], []
    for item in overrides:
        key = item.partition("=")[0].strip()
        (run if key.startswith(PREFIX) or key in RUNTIME_KEYS else model).append(item)
    return model, run
