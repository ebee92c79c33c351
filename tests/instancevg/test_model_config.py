"""Presets, file loading, typed overrides and the dict round trip of ``instancevg.config``."""

from __future__ import annotations

import dataclasses
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
    # one box per expression only in the CPU demo preset; the official presets keep every kept query
    assert PRESETS["tiny-cpu"].postprocess.max_instances == 1
    assert all(cfg.postprocess.max_instances == 0 for name, cfg in PRESETS.items() if name != "tiny-cpu")


def test_overrides_are_typed_and_dotted():
    cfg = load_config("tiny-cpu", ["train.lr=1e-4", "num_queries=3", "use_dps=false", "train.betas=0.8,0.9"])
    assert cfg.train.lr == 1e-4
    assert cfg.num_queries == 3
    assert cfg.use_dps is False
    assert cfg.train.betas == (0.8, 0.9)
    assert PRESETS["tiny-cpu"].num_queries == 5  # presets are not mutated


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
    with pytest.raises(InputError, match=r"img_sise.*did you mean img_size"):
        load_config(str(path))


def test_public_api_resolves():
    import instancevg

    for name in instancevg.__all__:
        assert getattr(instancevg, name) is not None, name
    with pytest.raises(AttributeError):
        instancevg.not_a_name  # noqa: B018


# ------------------------------------------------------------------ nested groups, aliases, legacy dicts
def test_groups_and_their_flat_aliases_are_the_same_field():
    from instancevg.config import LEGACY_KEYS

    cfg = PRESETS["tiny-cpu"]
    assert (cfg.input.img_size, cfg.encoder.dim, cfg.head.hidden_dim, cfg.postprocess.nms_threshold) == (
        cfg.img_size,
        cfg.encoder_dim,
        cfg.hidden_dim,
        cfg.nms_threshold,
    )
    for flat, dotted in LEGACY_KEYS.items():  # every alias reads its nested field
        group, leaf = dotted.split(".")
        assert getattr(cfg, flat) == getattr(getattr(cfg, group), leaf), flat
    assert len(set(LEGACY_KEYS.values())) == len(LEGACY_KEYS)  # one nested key per alias


def test_nested_and_flat_overrides_agree():
    nested = load_config(
        "tiny-cpu", ["input.img_size=64", "postprocess.nms_threshold=0.3", "decoder.type=detr"]
    )
    flat = load_config("tiny-cpu", ["img_size=64", "nms_threshold=0.3", "decoder_type=detr"])
    assert nested == flat
    assert (nested.input.img_size, nested.postprocess.nms_threshold, nested.decoder.type) == (64, 0.3, "detr")


def test_replace_and_setattr_with_flat_names_copy_the_group():
    import dataclasses

    base = load_config("tiny-cpu")
    changed = dataclasses.replace(base, score_threshold=0.2, encoder_dim=64)
    assert (changed.postprocess.score_threshold, changed.encoder.dim) == (0.2, 64)
    assert (base.postprocess.score_threshold, base.encoder.dim) == (0.7, 128)  # base untouched
    shared = dataclasses.replace(base, name="other")  # shares the groups with base
    shared.nms_threshold = 0.5
    assert shared.postprocess.nms_threshold == 0.5
    assert base.postprocess.nms_threshold == 0.1


def test_string_switches_are_literals_validated_from_their_arguments():
    import typing

    from instancevg.config import GROUPS, InstanceVGConfig, QuirkConfig, literal_choices

    switches = {
        f"{g}.{name}": choices
        for g, cls in GROUPS.items()
        for name, hint in typing.get_type_hints(cls).items()
        if (choices := literal_choices(hint)) is not None
    }
    assert switches["decoder.type"] == ("detr", "deformable", "ms_deformable", "point_ms_deformable")
    assert len(switches) == 11
    for group, cls in GROUPS.items():  # no plain str field is left: every string switch is a Literal
        assert str not in typing.get_type_hints(cls).values(), group
    with pytest.raises(InputError, match=r"quirks\.reference_point='middle' is not one of offset, prior"):
        InstanceVGConfig(quirks=QuirkConfig(reference_point="middle"))  # type: ignore[arg-type]


def test_a_flat_checkpoint_config_of_the_previous_version_loads():
    from instancevg.config import LEGACY_KEYS

    data = config_to_dict(PRESETS["tiny-cpu"])
    # the form `config_to_dict` wrote before the groups: flat fields, the speed switch, and "train"
    flat = {"name": "tiny-cpu", "onednn_linear": True, "train": data["train"]}
    for alias, dotted in LEGACY_KEYS.items():
        group, leaf = dotted.split(".")
        flat[alias] = data[group][leaf]
    # a field added after that version (max_instances) takes its default: the behaviour of the version that wrote it
    preset = PRESETS["tiny-cpu"]
    expected = dataclasses.replace(
        preset, postprocess=dataclasses.replace(preset.postprocess, max_instances=0)
    )
    assert config_from_dict(flat) == expected
    with pytest.raises(InputError, match="nms_treshold: unknown key"):
        config_from_dict({**flat, "nms_treshold": 0.1})


def test_a_file_may_use_groups_and_flat_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: tiny-cpu\nencoder:\n  layers: 1\nnum_queries: 4\n")
    cfg = load_config(str(path))
    assert (cfg.encoder.layers, cfg.encoder.dim, cfg.head.num_queries) == (1, 128, 4)


def test_runtime_switches_are_not_in_the_model_config():
    from instancevg.training.options import RunOptions, split_overrides

    with pytest.raises(InputError, match="onednn_linear: unknown key"):
        load_config("tiny-cpu", ["onednn_linear=false"])
    model, run = split_overrides(["img_size=64", "onednn_linear=false", "run.threads=1"])
    assert model == ["img_size=64"]
    assert run == ["onednn_linear=false", "run.threads=1"]
    options = RunOptions().with_overrides(run)
    assert options.model_runtime().onednn_linear is False
    assert options.threads == 1
