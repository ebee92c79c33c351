"""Checkpoints never run code from the file, and corruption is detected (issue 17, item 1).

A crafted checkpoint whose pickle calls ``os.mkdir`` is refused by `load_checkpoint`, by the BEiT-3
loader and by ``vgbench predict`` / ``vgbench train --resume`` with one ``error:`` line and exit 2,
and the marker folder is never created. A byte flipped inside tensor data fails the checksum.
"""

from __future__ import annotations

import os
import random
import zipfile

import numpy as np
import pytest
import torch

from evaluators.errors import InputError
from instancevg.checkpoint import load_beit3_checkpoint
from instancevg.encoders import BEiT3Encoder
from instancevg.training.checkpoint_io import (
    FORMAT,
    get_rng_state,
    load_checkpoint,
    payload_digest,
    save_checkpoint,
    set_rng_state,
)
from tests.instancevg.checkpoint_payload import checkpoint_payload
from tests.instancevg.test_train_data import tiny_train_argv
from vgbench.cli import main


class _RunsCode:
    """Unpickling this calls ``os.mkdir(marker)``: the proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _crafted(path, marker) -> None:
    payload = {
        "format": FORMAT,
        "format_version": 2,
        "config": {},
        "model": {"w": torch.zeros(2)},
        "metrics": _RunsCode(str(marker)),
    }
    torch.save(payload, path)


def test_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pt"
    _crafted(evil, marker)
    with pytest.raises(InputError, match="weights_only=True"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_crafted_beit3_checkpoint_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    evil = tmp_path / "beit3.pth"
    torch.save({"model": {}, "args": _RunsCode(str(marker))}, evil)
    enc = BEiT3Encoder(img_size=32, patch_size=16, vocab_size=10, dim=8, layers=1, heads=2, ffn_dim=16)
    with pytest.raises(InputError, match="weights_only=True"):
        load_beit3_checkpoint(enc, evil)
    assert not marker.exists()


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error:"), err
    return err[0]


def test_cli_predict_and_resume_refuse_a_crafted_checkpoint(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    run.mkdir()
    _crafted(run / "last.pt", marker)
    out = tmp_path / "preds.jsonl"
    argv = ["predict", "--checkpoint", str(run / "last.pt"), "--data", str(tmp_path), "--config", "c"]
    assert main([*argv, "--split", "val", "--out", str(out), "--quiet"]) == 2
    assert "weights_only=True" in _one_error_line(capsys)
    assert main(tiny_train_argv(tmp_path, run, "--resume")) == 2
    assert "weights_only=True" in _one_error_line(capsys)
    assert not marker.exists()
    assert not out.exists()


def _flip_byte_in_tensor(path, entry_suffix: str, offset: int) -> None:
    """Flip one byte inside a tensor's storage record of the (uncompressed) torch zip archive."""
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(entry_suffix))
        data = zf.read(info)
    raw = bytearray(path.read_bytes())
    start = raw.find(data)
    assert start > 0
    assert info.compress_type == zipfile.ZIP_STORED
    raw[start + offset] ^= 0x01
    path.write_bytes(bytes(raw))


def test_flipped_byte_in_tensor_data_fails_the_checksum(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", checkpoint_payload())
    ckpt = load_checkpoint(path)
    assert ckpt["checksum"] == payload_digest(ckpt)
    assert torch.equal(ckpt["model"]["a.weight"], checkpoint_payload()["model"]["a.weight"])
    _flip_byte_in_tensor(path, "data/0", 100)  # the first tensor's storage: a.weight
    with pytest.raises(InputError, match="checksum"):
        load_checkpoint(path)


def test_resume_refuses_a_corrupt_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    save_checkpoint(run / "last.pt", checkpoint_payload())
    _flip_byte_in_tensor(run / "last.pt", "data/0", 7)
    assert main(tiny_train_argv(tmp_path, run, "--resume")) == 2
    assert "checksum" in _one_error_line(capsys)


def test_wrong_field_types_are_input_errors(tmp_path):
    bad = {**checkpoint_payload(), "epoch": "one"}
    with pytest.raises(InputError, match="'epoch'"):
        load_checkpoint(save_checkpoint(tmp_path / "a.pt", bad))
    bad = {**checkpoint_payload(), "model": {"w": [1, 2]}}
    with pytest.raises(InputError, match="'model'"):
        load_checkpoint(save_checkpoint(tmp_path / "b.pt", bad))


def test_rng_state_is_plain_and_restores_exactly():
    state = get_rng_state()
    assert torch.is_tensor(state["numpy"]["key"])
    assert state["numpy"]["key"].shape == (624,)
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)), float(np.random.randn()))
    set_rng_state(state)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1)), float(np.random.randn())) == first


def test_version_1_checkpoint_with_numpy_rng_still_loads(tmp_path):
    """Format 1 stored ``np.random.get_state()`` as is (a uint32 array): allowed, nothing more."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    path = tmp_path / "v1.pt"
    torch.save({"format": FORMAT, "format_version": 1, "config": {}, "model": {}, "rng": [state]}, path)
    ckpt = load_checkpoint(path)
    set_rng_state(ckpt["rng"][0])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_corrupt_tokenizer_bytes_are_an_input_error():
    from instancevg.tokenizer import Tokenizer

    with pytest.raises(InputError, match="not a SentencePiece model"):
        Tokenizer(b"\x00 not a model")


def test_options_and_metrics_must_be_dicts(tmp_path):
    for key in ("options", "metrics"):
        bad = {**checkpoint_payload(), key: [1, 2]}
        with pytest.raises(InputError, match=repr(key)):
            load_checkpoint(save_checkpoint(tmp_path / f"{key}.pt", bad))
