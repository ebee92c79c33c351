"""One optimizer step: forward (fp16 autocast on CUDA or bf16 autocast on any device, when asked), fp32 loss,
backward, clip, step."""

from __future__ import annotations

from typing import Any

import torch

from instancevg.training.inference import autocast, to_float32

__all__ = ["TrainStep"]


def _to_device(target: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in target.items()}


class TrainStep:
    """``step(batch) -> {loss term: float}`` for one collated batch (see `instancevg.training.data.collate`).

    ``net`` may be the DDP wrapper; ``params`` are the parameters whose gradient norm is clipped to
    ``grad_clip`` (0 disables clipping). With ``scaler`` (CUDA AMP) the loss is scaled and the
    gradients unscaled before clipping. ``bf16`` runs the forward pass under bfloat16 autocast instead (any
    device, no scaler). A non-finite loss raises ``FloatingPointError`` naming the batch.
    """

    def __init__(
        self,
        net,
        criterion,
        optimizer,
        params,
        grad_clip: float,
        device,
        amp: bool,
        scaler=None,
        bf16: bool = False,
    ):
        self.net, self.criterion, self.optimizer = net, criterion, optimizer
        self.params, self.grad_clip, self.device = list(params), float(grad_clip), device
        self.amp, self.scaler, self.bf16 = amp, scaler, bf16

    def __call__(self, batch: dict[str, Any], where: str = "") -> dict[str, float]:
        dev = self.device
        targets = [_to_device(t, dev) for t in batch["targets"]]
        with autocast(dev, self.amp, self.bf16):
            outputs = self.net(
                batch["images"].to(dev, non_blocking=True),
                batch["text_ids"].to(dev, non_blocking=True),
                batch["text_pad_mask"].to(dev, non_blocking=True),
            )
        losses = self.criterion(to_float32(outputs), targets)  # the loss runs in fp32, outside autocast
        loss = losses["loss"]
        if not torch.isfinite(loss):
            ids = [m["expr_id"] for m in batch["metas"]][:4]
            raise FloatingPointError(f"{where}: loss is {loss.item()} (batch {ids}...)")
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            self._clip()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self._clip()
            self.optimizer.step()
        return {k: float(v.detach()) for k, v in losses.items() if torch.is_tensor(v) and v.numel() == 1}

    def _clip(self) -> None:
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
