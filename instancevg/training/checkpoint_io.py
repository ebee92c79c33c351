"""Training checkpoints: ``RUN/last.pt`` and ``RUN/epoch_{k}.pt`` (k = completed epochs, 1-based).

A checkpoint is a dict written with ``torch.save`` and read with ``torch.load(weights_only=True)``:
it holds only tensors and plain Python values (dict, list, tuple, str, bytes, int, float, bool,
None), so loading one never runs code from the file. A file whose pickle needs anything else is
refused with `InputError` (the CLI's one-line ``error:``, exit 2).

- ``format``: ``"vgbench-instancevg-train"``, ``format_version``: 2 (1: before the checksum)
- ``config``: the model config as a plain dict (`instancevg.config.config_to_dict`)
- ``options``: the run options dict (data config, splits; `RunOptions`)
- ``model``: the model ``state_dict`` (unwrapped from DDP)
- ``optimizer``, ``scheduler``, ``scaler`` (``None`` without AMP): their ``state_dict``
- ``epoch``: completed epochs; ``step_in_epoch``: batches already done in epoch ``epoch`` (0 at an
  epoch boundary, > 0 when a time budget stopped the run mid-epoch); ``global_step``
- ``rng``: one entry per rank, each the python, numpy, torch CPU (and CUDA when present) generator
  states as plain values and tensors (`get_rng_state`)
- ``tokenizer``: the SentencePiece model bytes (``None`` when the model needs no tokenizer file)
- ``metrics``: the last evaluation's metrics, ``{task: {key: value}}``
- ``checksum``: SHA-256 (hex) of every other entry, tensor bytes included (`payload_digest`); checked
  on every load, so a flipped byte in tensor data is reported instead of silently trained on.

Version 1 files (no checksum; the numpy RNG state as a numpy array) still load: the only globals
allowed beyond torch's weights-only set are numpy's array and dtype reconstructors, which build data.
"""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.atomic import atomic_path
from evaluators.errors import InputError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "get_rng_state",
    "load_checkpoint",
    "payload_digest",
    "save_checkpoint",
    "set_rng_state",
]

FORMAT = "vgbench-instancevg-train"
FORMAT_VERSION = 2


def get_rng_state() -> dict[str, Any]:
    """Python, numpy and torch generator states (CUDA too when available), as plain values and tensors.

    ``python``: ``random.getstate()`` (a tuple of ints); ``numpy``: ``{"kind": str, "key": int64 tensor
    (624,), "pos", "has_gauss", "cached_gaussian"}``; ``torch``: a uint8 tensor; ``cuda``: a list of them.
    """
    kind, key, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": str(kind),
            "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `get_rng_state` returned (also the version-1 form, a numpy ``get_state`` tuple)."""
    random.setstate(state["python"])
    np_state = state["numpy"]
    if isinstance(np_state, dict):
        key = np.asarray(np_state["key"].numpy() if torch.is_tensor(np_state["key"]) else np_state["key"])
        np_state = (
            np_state["kind"],
            key.astype(np.uint32),
            int(np_state["pos"]),
            int(np_state["has_gauss"]),
            float(np_state["cached_gaussian"]),
        )
    np.random.set_state(np_state)
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().cpu().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


def _feed(h: Any, obj: Any) -> None:
    """Feed a canonical, type-tagged serialisation of ``obj`` to the hash ``h``."""
    if torch.is_tensor(obj):
        h.update(b"T" + f"{obj.dtype}|{tuple(obj.shape)}|".encode())
        h.update(_tensor_bytes(obj))
    elif isinstance(obj, dict):
        h.update(b"D" + struct.pack("<q", len(obj)))
        for key, value in obj.items():
            _feed(h, key)
            _feed(h, value)
    elif isinstance(obj, (list, tuple)):
        h.update((b"L" if isinstance(obj, list) else b"U") + struct.pack("<q", len(obj)))
        for value in obj:
            _feed(h, value)
    elif isinstance(obj, (bytes, bytearray)):
        h.update(b"B" + struct.pack("<q", len(obj)) + bytes(obj))
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        h.update(b"S" + struct.pack("<q", len(data)) + data)
    elif obj is None or isinstance(obj, (bool, int, float)):
        text = f"{type(obj).__name__}:{obj!r}".encode()
        h.update(b"P" + struct.pack("<q", len(text)) + text)
    else:
        raise TypeError(f"checkpoint entry of type {type(obj).__name__} cannot be checksummed")


def payload_digest(payload: dict[str, Any]) -> str:
    """SHA-256 (hex) of every entry of ``payload`` except ``checksum``, in insertion order."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in payload.items() if k != "checksum"})
    return h.hexdigest()


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag and checksum) to ``path`` atomically: temp file, rename."""
    path = Path(path)
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    full["checksum"] = payload_digest(full)
    with atomic_path(path, option="checkpoint") as tmp:
        torch.save(full, tmp)
    return path


def _v1_globals() -> list[Any]:
    """The numpy reconstructors a version-1 RNG state (a ``uint32`` array) needs: data only."""
    multiarray = getattr(np, "_core", None) or np.core
    return [multiarray.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_INT_FIELDS = ("epoch", "step_in_epoch", "global_step")


def _check_fields(ckpt: dict[str, Any], path: Path) -> None:
    for key in ("config", "model"):
        if key not in ckpt:
            raise InputError(f"{path}: field {key!r}: missing from the checkpoint")
    if not isinstance(ckpt["config"], dict):
        raise InputError(f"{path}: field 'config': must be a dict")
    for key in ("options", "metrics"):
        if ckpt.get(key) is not None and not isinstance(ckpt[key], dict):
            raise InputError(f"{path}: field {key!r}: must be a dict or absent")
    model = ckpt["model"]
    if not isinstance(model, dict) or not all(
        isinstance(k, str) and torch.is_tensor(v) for k, v in model.items()
    ):
        raise InputError(f"{path}: field 'model': must map parameter names to tensors")
    for key in _INT_FIELDS:
        value = ckpt.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError(f"{path}: field {key!r}: must be a non-negative integer, got {value!r}")
    rng = ckpt.get("rng", [])
    if not isinstance(rng, list) or not all(isinstance(r, dict) for r in rng):
        raise InputError(f"{path}: field 'rng': must be a list of generator states")
    tokenizer = ckpt.get("tokenizer")
    if tokenizer is not None and not isinstance(tokenizer, (bytes, str)):
        raise InputError(f"{path}: field 'tokenizer': must be bytes or absent")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` with ``torch.load(weights_only=True)``.

    Raises `InputError` when the file is missing, not one of ours, needs more than tensors and plain
    values to unpickle (no code from the file ever runs), or fails its checksum.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        with torch.serialization.safe_globals(_v1_globals()):
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for truncated, foreign or unsafe files
        raise InputError(
            f"{path}: cannot read checkpoint with torch.load(weights_only=True) "
            f"(only tensors and plain values are accepted): {_first_line(exc)}"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"{path}: field 'format': not a vgbench InstanceVG training checkpoint")
    version = ckpt.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{path}: field 'format_version': {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path}: field 'format_version': {version} is newer than this vgbench understands ({FORMAT_VERSION})"
        )
    if version >= 2:
        stored = ckpt.get("checksum")
        try:
            actual = payload_digest(ckpt)
        except TypeError as exc:
            raise InputError(f"{path}: field 'checksum': {exc}") from None
        if stored != actual:
            raise InputError(
                f"{path}: field 'checksum': the contents do not match the stored SHA-256 (corrupt file)"
            )
    _check_fields(ckpt, path)
    return ckpt
