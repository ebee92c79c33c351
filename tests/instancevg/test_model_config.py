"""Presets, file loading, typed overrides and the dict round trip of ``instancevg.config``."""

from __future__ import annotations

import json

import pytest

from evaluators.errors import InputError
from instancevg.config import PRESETS, config_from_dict, config_to_dict, load_config


def test_presets_carry_the_official_numbers():
    b = PRESETS["instancevg-b-grefcoco"]
    assert (b.img_size, b.max_tokens, b.num_queries, b.vocab_size) == (320, 50, 10, 64010)
    assert (b.encoder_dim, b.encoder_layers, b.encoder_heads, b.hidden_dim) == (768, 12, 12, 256)
    assert (b.cost_class, b.cost_bbox, b.cost_giou, b.cost_point) == (1, 5, 2, 2)
    assert (b.loss_detr, b.loss_neg, b.loss_exist, b.loss_attn) == (0.1, 0.2, 0.2, 0.1)
    assert (b.score_threshold, b.mask_threshold, b.w_dist) == (0.7, 0.5, 0.003)
    assert (b.train.lr, b.train.lr_encoder, b.train.grad_clip, b.train.epochs) == (5e-4, 5e-5, 0.15, 10)
    r = PRESETS["instancevg-b-refcoco"]
    assert (r.num_queries, r.max_tokens, r.loss_neg, r.train.epochs, r.train.decay_epochs) == (
        1,
        20,
        0,
        20,
        (15,),
    )
    large = PRESETS["instancevg-l-grefcoco"]
    assert (large.encoder_dim, large.encoder_layers, large.encoder_drop_path) == (1024, 24, 0.0)
    assert PRESETS["instancevg-l-refcoco"].train.batch_size == 4
    assert PRESETS["tiny-cpu"].img_size == 128
    # NMS only in the CPU demo preset; the official presets keep with_nms=False
    assert PRESETS["tiny-cpu"].nms_threshold == 0.1
    assert all(cfg.nms_threshold == 0.0 for name, cfg in PRESETS.items() if name != "tiny-cpu")


def test_overrides_are_typed_and_dotted():
    cfg = load_config("tiny-cpu", ["train.lr=1e-4", "num_queries=3", "use_dps=false", "train.betas=0.8,0.9"])
    assert cfg.train.lr == 1e-4
    assert cfg.num_queries == 3
    assert cfg.use_dps is False
    assert cfg.train.betas == (0.8, 0.9)
    assert PRESETS["tiny-cpu"].num_queries == 10  # presets are not mutated


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("num_querys=3", "did you mean num_queries"),
        ("train.lrr=1", "did you mean train.lr"),
        ("num_queries=abc", "num_queries"),
        ("use_dps=maybe", "not a boolean"),
        ("decoder_type=rnn", "decoder_type"),
        ("use_text_filter=false", "use_tiq"),
        ("noequals", "key=value"),
    ],
)
def test_bad_overrides_raise_input_error(override, message):
    with pytest.raises(InputError, match=message):
        load_config("tiny-cpu", [override])


def test_unknown_preset_suggests_a_name():
    with pytest.raises(InputError, match="did you mean tiny-cpu"):
        load_config("tiny-cpus")


def test_round_trip_through_dict_and_json():
    cfg = load_config("instancevg-b-refcoco", ["train.decay_epochs=3,5"])
    data = json.loads(json.dumps(config_to_dict(cfg)))
    assert config_from_dict(data) == cfg


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_files_with_a_base_preset(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"base": "tiny-cpu", "num_queries": 4, "train": {"epochs": 2}}))
    elif suffix == ".yaml":
        path.write_text("base: tiny-cpu\nnum_queries: 4\ntrain:\n  epochs: 2\n")
    else:
        path.write_text('base = "tiny-cpu"\nnum_queries = 4\n[train]\nepochs = 2\n')
    cfg = load_config(str(path), ["train.seed=3"])
    assert (cfg.img_size, cfg.num_queries, cfg.train.epochs, cfg.train.seed) == (128, 4, 2, 3)


def test_file_with_unknown_key(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"img_sise": 64}))
    with pytest.raises(InputError, match="img_sise.*did you mean img_size"):
        load_config(str(path))


def test_public_api_resolves():
    import instancevg

    for name in instancevg.__all__:
        assert getattr(instancevg, name) is not None, name
    with pytest.raises(AttributeError):
        instancevg.not_a_name  # noqa: B018
