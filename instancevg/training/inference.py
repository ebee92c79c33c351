"""Batched inference: model outputs -> predictions records (docs/formats.md#predictions-file) in dataset order.

`predict_dataset` is shared by the per-epoch evaluation of the trainer and by `predict` (the
``vgbench predict`` command). Under DistributedDataParallel each rank predicts the rows
``rank, rank + world, ...`` and the records are gathered on every rank, ordered as the dataset.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch.utils.data import DataLoader

from evaluators.progress import progress
from instancevg.training.data import GroundingDataset, collate
from instancevg.training.distributed import DistInfo, all_gather_objects

__all__ = ["autocast", "cpu_has_native_bf16", "predict_dataset", "to_float32"]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX), i.e. whether bf16 autocast speeds
    things up here rather than being emulated. PyTorch's own probes; False where they are missing."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in probes:
        probe = getattr(torch.cpu, name, None)
        try:
            if probe is not None and probe():
                return True
        except RuntimeError:  # a probe that cannot run on this build counts as "no"
            continue
    return False


def autocast(device: torch.device, enabled: bool, bf16: bool = False):
    """The inference precision context.

    ``bf16``: bfloat16 autocast on any device (opt-in; on a CPU with bf16 instructions it about halves
    the B preset's latency, with slightly different numerics). Else fp16 autocast on CUDA when
    ``enabled``, and fp32 otherwise (a no-op context; training on the CPU is fp32).
    """
    if bf16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def to_float32(outputs: Any) -> Any:
    """``outputs`` with every floating tensor (nested in dicts / lists / tuples) cast to float32, so that
    post-processing (numpy, RLE) sees the same dtype whatever precision the forward ran in."""
    if isinstance(outputs, torch.Tensor):
        return outputs.float() if outputs.is_floating_point() else outputs
    if isinstance(outputs, dict):
        return {key: to_float32(value) for key, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(to_float32(value) for value in outputs)
    return outputs


@torch.no_grad()
def predict_dataset(
    model: torch.nn.Module,
    dataset: GroundingDataset,
    cfg,
    device: torch.device,
    batch_size: int,
    info: DistInfo | None = None,
    num_workers: int = 0,
    amp: bool = False,
    quiet: bool = True,
    desc: str = "predict",
    bf16: bool = False,
) -> list[dict[str, Any]]:
    """Predictions records of every row of ``dataset``, in its order (on every rank).

    ``model`` is the bare module (not the DDP wrapper); its train/eval mode is restored afterwards.
    Each record comes from `instancevg.postprocess.postprocess` with the row's ``expr_id`` and
    original size.
    """
    from instancevg.postprocess import postprocess

    info = info or DistInfo(device=device)
    indices = list(range(info.rank, len(dataset), info.world_size))
    loader = DataLoader(
        dataset,
        batch_size=max(1, int(batch_size)),
        sampler=indices,
        collate_fn=collate,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(0),  # never draws from the global RNG
    )
    was_training = model.training
    model.eval()
    mine: list[tuple[int, dict[str, Any]]] = []
    try:
        steps = progress(loader, len(loader), desc, quiet=quiet or not info.is_main)
        for batch in steps:
            with autocast(device, amp, bf16):
                outputs = model(
                    batch["images"].to(device),
                    batch["text_ids"].to(device),
                    batch["text_pad_mask"].to(device),
                )
            outputs = to_float32(outputs)
            records = postprocess(outputs, batch["metas"], cfg)
            if len(records) != len(batch["metas"]):
                raise RuntimeError(f"postprocess returned {len(records)} records for {len(batch['metas'])}")
            for index, meta, record in zip(batch["indices"].tolist(), batch["metas"], records):
                if record.get("expr_id") != meta["expr_id"]:
                    raise RuntimeError(f"postprocess record for {meta['expr_id']!r} has a different expr_id")
                mine.append((index, record))
    finally:
        model.train(was_training)
    merged = [pair for part in all_gather_objects(mine, info) for pair in part]
    merged.sort(key=lambda pair: pair[0])
    return [record for _, record in merged]
