"""Run options (`--set run.*`), the task mapping of the per-epoch evaluation, checkpoint files."""

import random

import numpy as np
import pytest
import torch

from evaluators.errors import InputError
from instancevg.training.checkpoint_io import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from instancevg.training.evaluation import tasks_for_config
from instancevg.training.options import RunOptions, split_overrides
from instancevg.training.run_setup import torch_threads


def test_overrides_are_typed_and_prefix_optional():
    opts = RunOptions().with_overrides(["run.data_config=refzom_final", "run.evaluate=false", "log_every=3"])
    assert opts.data_config == "refzom_final"
    assert opts.evaluate is False
    assert opts.log_every == 3


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ("run.evalute=1", "did you mean run.evaluate"),
        ("run.log_every=x", "not an integer"),
        ("run.x", "key=value"),
    ],
)
def test_bad_overrides_name_the_key(item, match):
    with pytest.raises(InputError, match=match):
        RunOptions().with_overrides([item])


def test_split_overrides_routes_run_keys():
    model, run = split_overrides(["train.lr=1e-4", "run.spm=a.model", "img_size=64"])
    assert model == ["train.lr=1e-4", "img_size=64"]
    assert run == ["run.spm=a.model"]


def test_options_dict_round_trip_ignores_unknown_keys():
    opts = RunOptions(data_config="refcoco_unc", log_every=2)
    assert RunOptions.from_dict({**opts.to_dict(), "future": 1}) == opts


@pytest.mark.parametrize(
    ("config", "tasks"),
    [
        ("grefcoco_unc", ("grec", "gres")),
        ("refcoco_unc", ("rec", "res")),
        ("refcocoplus_unc", ("rec", "res")),
        ("refcocog_umd", ("rec", "res")),
        ("refzom_final", ("refzom",)),
        ("rrefcoco_unc", ("rrefcoco",)),
        ("rrefcocog_umd", ("rrefcoco",)),
    ],
)
def test_tasks_for_config(config, tasks):
    assert tasks_for_config(config) == tasks


def test_unknown_dataset_is_an_input_error():
    with pytest.raises(InputError, match="unknown dataset"):
        tasks_for_config("coco_2017")


def test_checkpoint_round_trip_and_rng_restore(tmp_path):
    state = get_rng_state()
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    path = save_checkpoint(tmp_path / "run" / "last.pt", {"config": {"a": 1}, "model": {}, "rng": [state]})
    ckpt = load_checkpoint(path)
    assert ckpt["config"] == {"a": 1}
    assert ckpt["format_version"] == 2
    set_rng_state(ckpt["rng"][0])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left behind


def test_foreign_or_missing_checkpoint_is_an_input_error(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a vgbench InstanceVG training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(InputError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_torch_threads_is_scoped():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(0):  # 0 leaves the setting alone
        assert torch.get_num_threads() == before
