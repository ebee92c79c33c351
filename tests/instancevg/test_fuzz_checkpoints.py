"""Seeded fuzzing of training checkpoints (issue 17).

Each case damages a valid checkpoint (random byte flips, truncation, fields of the wrong type
re-saved with a valid checksum, pickles that call a global) and loads it with `load_checkpoint`.
Contract: it raises `InputError` with a one-line message, or it returns exactly what was saved (same
`payload_digest`): a damaged file never loads as different content, and no code from it runs
(a marker folder the crafted pickles would create never appears).
"""

from __future__ import annotations

import builtins
import os
import random
import subprocess

import pytest
import torch

from evaluators.errors import InputError
from instancevg.training.checkpoint_io import (
    FORMAT,
    load_checkpoint,
    payload_digest,
    save_checkpoint,
)
from tests.instancevg.checkpoint_payload import checkpoint_payload

SEED = 17
N_FLIPS = 120
N_FIELDS = 40
N_CRAFTED = 12


def _payload() -> dict:
    return checkpoint_payload(SEED)


class _Call:
    """Unpickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _check(path, original_digest: str, outcome: dict) -> None:
    try:
        ckpt = load_checkpoint(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        outcome["refused"] += 1
        return
    assert payload_digest(ckpt) == original_digest, "a damaged checkpoint loaded as different content"
    outcome["identical"] += 1


def test_fuzz_checkpoints(tmp_path):
    rng = random.Random(SEED)
    base = save_checkpoint(tmp_path / "base.pt", _payload())
    original = load_checkpoint(base)
    digest = payload_digest(original)
    raw = base.read_bytes()
    outcome = {"refused": 0, "identical": 0}
    for case in range(N_FLIPS):
        data = bytearray(raw)
        if case % 10 == 9:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"flip{case}.pt"
        path.write_bytes(bytes(data))
        _check(path, digest, outcome)
    odd = [None, "x", -1, 1.5, True, [1], {"a": torch.zeros(1)}, torch.zeros(2), b"\x00", (1, 2)]
    fields = [
        "config",
        "model",
        "epoch",
        "step_in_epoch",
        "global_step",
        "rng",
        "tokenizer",
        "format_version",
    ]
    refused_fields = 0
    for case in range(N_FIELDS):
        payload = _payload()
        key, value = rng.choice(fields), rng.choice(odd)
        payload[key] = value
        path = save_checkpoint(tmp_path / f"field{case}.pt", payload)
        try:
            ckpt = load_checkpoint(path)
        except InputError as exc:
            assert "\n" not in str(exc)
            refused_fields += 1
            continue
        # accepted: the field is of a type the loader guarantees
        assert isinstance(ckpt["config"], dict)
        assert isinstance(ckpt["epoch"], int)
        assert all(torch.is_tensor(t) for t in ckpt["model"].values())
    marker = tmp_path / "PWNED"
    calls = [
        (os.mkdir, str(marker)),
        (builtins.exec, f"import os; os.mkdir({str(marker)!r})"),
        (subprocess.call, ["mkdir", str(marker)]),
        (builtins.eval, f"__import__('os').mkdir({str(marker)!r})"),
    ]
    for case in range(N_CRAFTED):
        func, arg = calls[case % len(calls)]
        evil = {"format": FORMAT, "format_version": 2, "config": {}, "model": {}}
        evil[rng.choice(["metrics", "config", "model", "rng"])] = _Call(func, arg)
        path = tmp_path / f"crafted{case}.pt"
        torch.save(evil, path)
        with pytest.raises(InputError, match="weights_only=True"):
            load_checkpoint(path)
    assert not marker.exists()
    print(
        f"fuzz checkpoints: {N_FLIPS} damaged files -> {outcome}; {N_FIELDS} wrong-type fields -> "
        f"{refused_fields} refused; {N_CRAFTED} code-running pickles -> all refused, none ran"
    )
    assert outcome["refused"] >= N_FLIPS * 0.8  # nearly every flip lands in data the checksum covers
