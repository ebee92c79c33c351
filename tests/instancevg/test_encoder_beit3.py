"""BEiT-3 encoder: torchscale parameter names, multiway routing, checkpoint round trip with interpolation."""

from __future__ import annotations

import pytest
import torch

from evaluators.errors import InputError
from instancevg.checkpoint import interpolate_vision_positions, load_beit3_checkpoint
from instancevg.encoders import BEiT3Encoder

_LAYER_KEYS = (
    [
        f"self_attn.{proj}.{e}.{p}"
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj", "inner_attn_ln")
        for e in "AB"
        for p in ("weight", "bias")
    ]
    + [
        f"{ln}.{e}.{p}"
        for ln in ("self_attn_layer_norm", "final_layer_norm")
        for e in "AB"
        for p in ("weight", "bias")
    ]
    + [f"ffn.{e}.{m}.{p}" for e in "AB" for m in ("fc1", "ffn_layernorm", "fc2") for p in ("weight", "bias")]
)


def _torchscale_keys(layers: int) -> set[str]:
    """Key list of torchscale 0.3.0 ``BEiT3`` (docs/instancevg.md) for ``layers`` layers."""
    keys = {
        "text_embed.weight",
        "vision_embed.proj.weight",
        "vision_embed.proj.bias",
        "vision_embed.cls_token",
        "vision_embed.mask_token",
        "encoder.embed_positions.A.weight",
        "encoder.embed_positions.B.weight",
        "encoder.layer_norm.A.weight",
        "encoder.layer_norm.A.bias",
        "encoder.layer_norm.B.weight",
        "encoder.layer_norm.B.bias",
    }
    keys |= {f"encoder.layers.{i}.{k}" for i in range(layers) for k in _LAYER_KEYS}
    return keys


def _encoder(img_size=64, layers=2, **kw):
    args = dict(img_size=img_size, patch_size=16, vocab_size=50, dim=32, layers=layers, heads=4, ffn_dim=64)
    args.update(kw)
    return BEiT3Encoder(**args)


def test_state_dict_keys_equal_torchscale_and_shapes():
    enc = _encoder(img_size=320, layers=3, max_text_positions=1024)
    state = enc.state_dict()
    assert set(state) == _torchscale_keys(3)
    assert state["encoder.embed_positions.A.weight"].shape == (20 * 20 + 1 + 2, 32)  # 403 rows at 320 px
    assert state["encoder.embed_positions.B.weight"].shape == (1024, 32)
    assert state["encoder.layers.0.ffn.B.fc1.weight"].shape == (64, 32)


def test_vision_and_text_experts_are_separate():
    torch.manual_seed(0)
    enc = _encoder(layers=1).eval()
    images, ids = torch.randn(1, 3, 64, 64), torch.randint(4, 50, (1, 5))
    pad = torch.zeros(1, 5, dtype=torch.bool)
    base = enc(images, ids, pad)
    assert base.shape == (1, 1 + 16 + 5, 32)
    with torch.no_grad():
        enc.encoder.layers[0].ffn.B.fc2.bias.add_(torch.randn(32))  # text expert only
    changed = enc(images, ids, pad)
    # vision tokens change only through joint attention in later layers: with one layer they are untouched
    torch.testing.assert_close(changed[:, :17], base[:, :17])
    assert not torch.allclose(changed[:, 17:], base[:, 17:])


def test_checkpoint_round_trip_with_position_interpolation(tmp_path):
    torch.manual_seed(0)
    src = _encoder(img_size=64)  # 4 x 4 grid, like a 224-px checkpoint loaded at 320
    path = tmp_path / "beit3_tiny.zip"
    torch.save(
        {"model": {"beit3." + k: v for k, v in src.state_dict().items()} | {"head.weight": torch.ones(1)}},
        path,
    )
    dst = _encoder(img_size=96)  # 6 x 6 grid
    missing, unexpected = load_beit3_checkpoint(dst, path)
    assert missing == []
    assert unexpected == ["head.weight"]
    for key, value in src.state_dict().items():
        if key != "encoder.embed_positions.A.weight":
            torch.testing.assert_close(dst.state_dict()[key], value)
    table = dst.state_dict()["encoder.embed_positions.A.weight"]
    assert table.shape == (3 + 36, 32)
    torch.testing.assert_close(table[:3], src.state_dict()["encoder.embed_positions.A.weight"][:3])
    same = _encoder(img_size=64)
    load_beit3_checkpoint(same, path)
    images, ids = torch.randn(1, 3, 64, 64), torch.randint(4, 50, (1, 4))
    pad = torch.zeros(1, 4, dtype=torch.bool)
    torch.testing.assert_close(same.eval()(images, ids, pad), src.eval()(images, ids, pad))


def test_interpolation_of_a_constant_table_is_constant():
    table = torch.ones(3 + 16, 8)
    out = interpolate_vision_positions(table, 7)
    assert out.shape == (3 + 49, 8)
    torch.testing.assert_close(out, torch.ones_like(out))


def test_bad_checkpoints_raise_input_error(tmp_path):
    enc = _encoder()
    with pytest.raises(InputError, match="not found"):
        load_beit3_checkpoint(enc, tmp_path / "missing.pth")
    bad = _encoder(vocab_size=99)
    path = tmp_path / "other_vocab.pth"
    torch.save({"module": bad.state_dict()}, path)
    with pytest.raises(InputError, match=r"text_embed\.weight"):
        load_beit3_checkpoint(enc, path)
    missing, _ = load_beit3_checkpoint(enc, path, strict=False)
    assert missing == ["text_embed.weight"]


def test_checkpoint_with_extra_python_objects_still_loads(tmp_path):
    import argparse

    src = _encoder()
    path = tmp_path / "with_args.pth"
    torch.save({"model": src.state_dict(), "args": argparse.Namespace(lr=1.0)}, path)
    dst = _encoder()
    assert load_beit3_checkpoint(dst, path) == ([], [])
    torch.testing.assert_close(dst.state_dict()["text_embed.weight"], src.state_dict()["text_embed.weight"])


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read"):
        load_beit3_checkpoint(_encoder(), path)
