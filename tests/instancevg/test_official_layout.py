"""The released checkpoints' layouts (key lists with shapes of gRefCOCO-B, RefCOCO-B and RefCOCO-L, dumped from the
official models) load into vgbench: every tensor lands where the key mapping says, sizes are inferred from shapes,
and a missing, unknown or misshapen key is a one-line error naming it."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from evaluators.errors import InputError
from instancevg.official import (
    UNUSED_KEYS,
    build_official,
    load_official,
    official_to_vgbench,
    vgbench_to_official,
)

DATA = Path(__file__).parent / "data" / "official"
ARCHITECTURES = {
    # name: (img_size, encoder dim, layers, heads, ffn, queries, max_tokens)
    "grefcoco_B": (320, 768, 12, 12, 3072, 10, 50),
    "refcoco_B": (320, 768, 12, 12, 3072, 1, 20),
    "refcoco_L": (320, 1024, 24, 16, 4096, 1, 20),
}


def _key_shapes(name: str) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for line in (DATA / f"keys_{name}.txt").read_text().splitlines():
        key, shape = line.split("\t")
        shapes[key] = tuple(int(v) for v in shape.strip("()").split(",") if v.strip())
    return shapes


def _official_state(name: str) -> OrderedDict:
    """An official-layout state dict: tensor i is filled with the value i (aliases share layer 0's tensor)."""
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for i, (key, shape) in enumerate(_key_shapes(name).items()):
        alias = key.replace(".class_embed.1.", ".class_embed.0.").replace(
            ".class_embed.2.", ".class_embed.0."
        )
        alias = alias.replace(".bbox_embed.1.", ".bbox_embed.0.").replace(".bbox_embed.2.", ".bbox_embed.0.")
        if alias != key:
            state[key] = state[alias]
        elif key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(i, dtype=torch.long)
        else:
            state[key] = torch.full(shape, float(i))
    return state


def _assert_landed(model: torch.nn.Module, state: OrderedDict) -> None:
    for key, value in model.state_dict().items():
        if key == "encoder.vision_embed.mask_token":  # an unused official key: vgbench keeps zeros
            continue
        source = state[vgbench_to_official(key)]
        assert torch.equal(value.reshape(-1)[:1].float(), source.reshape(-1)[:1].float()), key


def test_every_released_key_is_mapped_or_listed_unused():
    for name in ARCHITECTURES:
        keys = _key_shapes(name)
        unused = [k for k in keys if official_to_vgbench(k) is None]
        assert set(unused) >= UNUSED_KEYS & set(keys)
        assert len(unused) == len(UNUSED_KEYS) + 16, name  # + the 16 shared-head alias keys
    assert set(json.loads((DATA / "tiny_unused_keys.json").read_text())) == UNUSED_KEYS


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_released_architecture_builds_from_its_state_dict(name, caplog):
    state = _official_state(name)
    with caplog.at_level(logging.INFO, logger="instancevg.official.load"):
        model = build_official(state, source=name)
    img, dim, layers, heads, ffn, queries, tokens = ARCHITECTURES[name]
    cfg = model.cfg
    assert (cfg.img_size, cfg.encoder_dim, cfg.encoder_layers, cfg.encoder_heads) == (img, dim, layers, heads)
    assert (cfg.encoder_ffn_dim, cfg.num_queries, cfg.max_tokens, cfg.vocab_size) == (
        ffn,
        queries,
        tokens,
        64010,
    )
    assert (cfg.hidden_dim, cfg.decoder_ffn_dim, cfg.t2i_ffn_dim, cfg.decoder_layers) == (256, 1024, 512, 3)
    assert not model.training
    _assert_landed(model, state)
    assert (
        "head.proj_pixel_level_cons.txt.weight" in caplog.text
    )  # unused keys are listed, not dropped silently
    summary = json.loads((DATA / "keys_summary.json").read_text())[name]
    n_params = sum(p.numel() for p in model.parameters())
    # the official unused parameters (the loss buffer empty_weight is not a parameter) are not in vgbench's model
    unused = sum(state[k].numel() for k in UNUSED_KEYS if k != "head.detrloss.criterion.empty_weight")
    assert n_params + unused == summary["n_unique_parameters"]


def test_released_gref_b_checkpoint_file_loads(tmp_path):
    """A whole official-format file: ``module.`` prefixes and the training bookkeeping beside the state dict."""
    state = _official_state("grefcoco_B")
    path = tmp_path / "InstanceVG-grefcoco.pth"
    saved = OrderedDict(("module." + k, v) for k, v in state.items())
    torch.save(
        {"state_dict": saved, "epoch": 9, "lr": 5e-6, "optimizer": {"state": {}, "param_groups": []}}, path
    )
    model = load_official(path)
    assert model.cfg.num_queries == 10
    _assert_landed(model, state)


def _tiny_state() -> OrderedDict:
    return torch.load(DATA / "tiny_official.pth", map_location="cpu", weights_only=True)["state_dict"]


def test_missing_key_is_named(tmp_path):
    state = _tiny_state()
    del state["head.neck.fpn_convs.2.conv.weight"]
    with pytest.raises(InputError, match=r"missing key head\.neck\.fpn_convs\.2\.conv\.weight"):
        build_official(state, encoder_heads=4)


def test_unknown_key_is_named():
    state = _tiny_state()
    state["head.extra_branch.weight"] = torch.zeros(3)
    with pytest.raises(InputError, match=r"unknown key head\.extra_branch\.weight"):
        build_official(state, encoder_heads=4)


def test_misshapen_key_is_named():
    state = _tiny_state()
    state["head.seg_branch.predict.weight"] = torch.zeros(1, 32, 1, 1)
    with pytest.raises(InputError, match=r"head\.seg_branch\.predict\.weight: shape \(1, 32, 1, 1\)"):
        build_official(state, encoder_heads=4)


def test_diverging_shared_head_alias_is_refused():
    state = _tiny_state()
    state["head.class_embed.2.bias"] = state["head.class_embed.2.bias"] + 1.0
    with pytest.raises(
        InputError, match=r"head\.class_embed\.2\.bias differs from head\.class_embed\.0\.bias"
    ):
        build_official(state, encoder_heads=4)


def test_unknown_override_is_refused():
    with pytest.raises(InputError, match="not an InstanceVGConfig field"):
        build_official(_tiny_state(), encoder_head=4)


def test_not_an_official_checkpoint(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"model": {"encoder.layers.0.weight": torch.zeros(2)}}, path)
    with pytest.raises(InputError, match="not an official InstanceVG checkpoint"):
        load_official(path)


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_checkpoint_that_needs_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": _tiny_state(), "extra": _Payload()}, path)
    with pytest.raises(InputError, match="cannot read with weights_only=True"):
        load_official(path)
    assert "code ran" not in capsys.readouterr().out
