"""Fixtures shared across the test packages."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def official_built(tmp_path_factory):
    """``(root, data, spm model)`` of the official tiny fixture's inputs, built once per test module
    (tests/instancevg/official_inputs.py)."""
    from tests.instancevg.official_inputs import build_official_inputs

    return build_official_inputs(tmp_path_factory.mktemp("official"))
