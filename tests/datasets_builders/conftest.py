"""Shared fixtures: one small synthetic source and its build, made once per test session."""

import os

import pytest

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def synth_src(tmp_path_factory):
    from datasets_builders.synth import write_synth

    return write_synth(tmp_path_factory.mktemp("synth") / "src", images=24, seed=7)


@pytest.fixture(scope="session")
def built(synth_src, tmp_path_factory):
    from datasets_builders.build import build_dataset

    return build_dataset(synth_src, tmp_path_factory.mktemp("built") / "data", quiet=True)
