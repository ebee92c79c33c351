"""Process-group helpers for `torchrun` (DistributedDataParallel); single-process runs need none of it.

`torchrun --nproc_per_node N -m vgbench train ...` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
the rendezvous variables; `setup` then initialises the default process group with NCCL when the
process has a CUDA device and gloo otherwise (CPU training and the CPU tests use gloo).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "all_gather_objects", "barrier", "broadcast_object", "cleanup", "setup"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, its ``device``, and whether it set up DDP."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> DistInfo:
    """Initialise the process group when launched by torchrun (``WORLD_SIZE`` > 1), pick the device.

    ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``) overrides the choice; by default each process
    uses ``cuda:LOCAL_RANK`` when CUDA is available, else the CPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        dev = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    else:
        dev = torch.device(device)
        if dev.type == "cuda" and dev.index is None:
            dev = torch.device(f"cuda:{local}")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    initialized_here = False
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        initialized_here = True
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, world, local, dev, initialized_here)


def cleanup(info: DistInfo) -> None:
    """Destroy the process group if `setup` created it."""
    if info.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def all_gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj`` in rank order (a one-item list when not distributed)."""
    if not info.distributed:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, info: DistInfo, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not info.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
