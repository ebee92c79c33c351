"""Optimizer and learning-rate schedule of the official recipe (docs/training.md).

- `build_optimizer`: Adam (amsgrad, betas (0.9, 0.98), eps 1e-9, weight decay 0 by default) with two
  parameter groups, the multimodal encoder at ``train.lr_encoder`` and everything else (the head) at
  ``train.lr``. Parameters with ``requires_grad=False`` are left out.
- `MultiStepLRWarmUp`: stepped once per epoch. For 0-based epoch ``e`` the factor applied to each
  group's base learning rate is

      (e + 1) / (warmup + 1)                              if e < warmup
      decay_factor ** #{s in decay_epochs : e + 1 >= s}   otherwise

  so a decay listed at epoch ``s`` (1-based, as the official configs write it) applies from 0-based
  epoch ``s - 1`` on. gRefCOCO (10 epochs, warm-up 1, decay at 7) runs epoch 0 at 0.5x, epochs 1-5 at
  1x and epochs 6-9 at 0.1x.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import torch
from torch import nn

__all__ = ["MultiStepLRWarmUp", "build_optimizer", "fit_schedule", "lr_factor", "param_groups"]


def lr_factor(epoch: int, warmup_epochs: int, decay_epochs: Sequence[int], decay_factor: float) -> float:
    """The multiplier of the base learning rate at 0-based ``epoch`` (see the module docstring)."""
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    return decay_factor ** bisect.bisect_right(sorted(decay_epochs), epoch + 1)


def fit_schedule(
    epochs: int,
    decay_epochs: Sequence[int],
    warmup_epochs: int,
    done: int,
    seconds_per_epoch: float,
    seconds_left: float,
) -> tuple[int, list[int]]:
    """Shrink a schedule to a time budget: ``(epochs, decay_epochs)`` to use from now on.

    ``done`` epochs are complete, each took ``seconds_per_epoch`` on average and ``seconds_left`` remain.
    The planned length is ``done + floor(seconds_left / seconds_per_epoch)``, at least ``done`` and at
    most ``epochs`` (never longer than configured; call it with the configured schedule each time). Each decay epoch ``s`` (1-based, as in
    `lr_factor`) becomes ``round(s * planned / epochs)``, kept after the warm-up and after ``done`` (a
    decay never applies to an epoch already trained); the decays that would fall past the planned end
    are dropped. With the budget enough for the whole schedule, nothing changes.
    """
    if epochs <= 0 or seconds_per_epoch <= 0:
        return epochs, sorted(decay_epochs)
    planned = done + int(max(seconds_left, 0.0) // seconds_per_epoch)
    planned = min(epochs, max(done, planned))
    if planned == epochs:
        return epochs, sorted(decay_epochs)
    floor = max(warmup_epochs, done) + 1
    moved = sorted({max(floor, round(s * planned / epochs)) for s in decay_epochs})
    return planned, [s for s in moved if s <= planned]


class MultiStepLRWarmUp(torch.optim.lr_scheduler.LRScheduler):
    """Per-epoch linear warm-up then step decay; ``last_epoch`` is the 0-based epoch being trained.

    Call ``step()`` once at the end of every epoch. Closed form (no chained state), so a scheduler
    restored from ``state_dict()`` gives exactly the learning rates of an uninterrupted run.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_epochs: int,
        decay_epochs: Sequence[int],
        decay_factor: float = 0.1,
        last_epoch: int = -1,
    ):
        self.warmup_epochs = int(warmup_epochs)
        self.decay_epochs = sorted(int(e) for e in decay_epochs)
        self.decay_factor = float(decay_factor)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch: int | None = None) -> float:
        epoch = self.last_epoch if epoch is None else epoch
        return lr_factor(epoch, self.warmup_epochs, self.decay_epochs, self.decay_factor)

    def get_lr(self) -> list[float]:
        factor = self.factor()
        return [base * factor for base in self.base_lrs]

    def set_decay_epochs(self, decay_epochs: Sequence[int]) -> None:
        """Replace the decay epochs mid-run (a schedule fitted to a time budget) and apply the learning
        rates they give to the epoch about to be trained; saved by ``state_dict`` like the rest."""
        self.decay_epochs = sorted(int(e) for e in decay_epochs)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def param_groups(
    encoder: Iterable[nn.Parameter], head: Iterable[nn.Parameter], lr: float, lr_encoder: float
) -> list[dict]:
    """Two groups, ``encoder`` and ``head``; a parameter in both is kept in the encoder group only."""
    enc = [p for p in encoder if p.requires_grad]
    seen = {id(p) for p in enc}
    rest = [p for p in head if p.requires_grad and id(p) not in seen]
    groups = [
        {"name": "encoder", "params": enc, "lr": lr_encoder},
        {"name": "head", "params": rest, "lr": lr},
    ]
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, train_cfg, fused: bool = True) -> torch.optim.Adam:
    """Adam over ``model.encoder_parameters()`` (lr ``lr_encoder``) and ``model.head_parameters()`` (lr).

    ``fused``: PyTorch's fused update where this torch and device have one, else (or when False) the
    multi-tensor (``foreach``) one; the same update up to rounding.

    Every trainable parameter of ``model`` must belong to one of the two groups; a parameter in
    neither is a bug in the model's grouping and raises ``ValueError`` (never silently frozen).
    """
    groups = param_groups(
        model.encoder_parameters(), model.head_parameters(), float(train_cfg.lr), float(train_cfg.lr_encoder)
    )
    grouped = {id(p) for g in groups for p in g["params"]}
    stray = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in grouped]
    if stray:
        raise ValueError(f"parameters in no optimizer group: {', '.join(stray[:5])}")
    kwargs = {
        "lr": float(train_cfg.lr),
        "betas": tuple(float(b) for b in train_cfg.betas),
        "eps": float(train_cfg.eps),
        "weight_decay": float(train_cfg.weight_decay),
        "amsgrad": bool(train_cfg.amsgrad),
    }
    if fused:  # one kernel over all tensors: the update itself 3x faster than foreach for tiny on the CPU
        try:
            return torch.optim.Adam(groups, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # no fused Adam for this torch or device
            pass
    return torch.optim.Adam(groups, foreach=True, **kwargs)
