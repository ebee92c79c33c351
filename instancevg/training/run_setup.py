"""What a run needs before its first step: seeds, the resume check, the val split, the tokenizer."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.errors import InputError
from instancevg.training import distributed as D
from instancevg.training.options import RunOptions
from instancevg.training.rows import list_splits

__all__ = [
    "RESUMABLE_CHANGES",
    "check_resumable",
    "prepare_tokenizer",
    "resolve_val_split",
    "seed_everything",
    "torch_threads",
]

# Config fields that may differ between a checkpoint and the config given to a resumed run.
RESUMABLE_CHANGES = frozenset({"train.epochs", "train.num_workers"})
# Run options that may differ on resume (they change no result).
RESUMABLE_OPTIONS = frozenset(
    {
        "evaluate",
        "log_every",
        "keep_epoch_checkpoints",
        "eval_batch_size",
        "device",
        "images_dir",
        "threads",
        "ddp_find_unused",
        "onednn_linear",
    }
)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch intra-op threads (``n`` <= 0: unchanged), then restore."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n > 0:
            torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def check_resumable(ckpt: dict[str, Any], cfg_dict: dict[str, Any], options: RunOptions, path: Path) -> None:
    """`InputError` listing the keys where the new config / options differ from the checkpoint's.

    The checkpoint's config may be in the flat form of older versions; it is compared in the nested form.
    """
    from instancevg.config import config_from_dict, config_to_dict

    stored = config_to_dict(config_from_dict(ckpt["config"], source=f"{path}: config"))
    old, new = _flat(stored), _flat(cfg_dict)
    changed = sorted(
        k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES
    )
    saved = ckpt.get("options", {})
    changed += sorted(
        f"run.{k}"
        for k, v in options.to_dict().items()
        if k not in RESUMABLE_OPTIONS and saved.get(k, v) != v
    )
    if changed:
        raise InputError(
            f"{path}: field 'config': the run was started with a different config ({', '.join(changed[:6])}); "
            f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change on --resume"
        )


def resolve_val_split(data_dir: Path, options: RunOptions) -> str | None:
    """The split of ``options.eval_config`` to evaluate after each epoch: the option, else ``val``, else
    ``test``, else None."""
    if not options.evaluate:
        return None
    if options.val_split:
        return options.val_split
    splits = list_splits(data_dir, options.eval_config)
    return next((s for s in ("val", "test") if s in splits), None)


def prepare_tokenizer(
    cfg, options: RunOptions, sentences, out_dir: Path, info: D.DistInfo, ckpt: dict | None
):
    """``(tokenizer, model bytes)``: from the checkpoint, from ``options.spm``, or trained on ``sentences``.

    A trained tokenizer is written to ``out_dir/tokenizer.model`` by the main rank (the others wait and
    read it). `InputError` when the tokenizer has more ids than the config's ``vocab_size``.
    """
    from instancevg.tokenizer import Tokenizer

    if ckpt is not None and ckpt.get("tokenizer"):
        proto = ckpt["tokenizer"]
    elif options.spm:
        proto = Path(options.spm).read_bytes() if Path(options.spm).is_file() else None
        if proto is None:
            raise InputError(f"{options.spm}: field 'run.spm': tokenizer model not found")
    else:
        path = out_dir / "tokenizer.model"
        if info.is_main:
            try:
                Tokenizer.train(sentences, out_dir / "tokenizer", cfg.encoder.vocab_size)
            except RuntimeError as exc:  # sentencepiece: e.g. fewer pieces allowed than characters seen
                raise InputError(
                    f"field 'encoder.vocab_size': cannot train a tokenizer of {cfg.encoder.vocab_size} ids: {exc}"
                ) from None
        D.barrier(info)
        proto = path.read_bytes()
    try:
        tok = Tokenizer(proto)
    except RuntimeError as exc:
        raise InputError(f"field 'run.spm': not a SentencePiece model: {exc}") from None
    if tok.vocab_size > cfg.encoder.vocab_size:
        raise InputError(
            f"field 'encoder.vocab_size': the tokenizer has {tok.vocab_size} ids but the model config only "
            f"{cfg.encoder.vocab_size}; raise it (--set encoder.vocab_size={tok.vocab_size})"
        )
    return tok, proto
