"""`rle.overlap`: the one-pass C accelerator agrees with pycocotools and with dense counting."""

from __future__ import annotations

import numpy as np
import pytest

from evaluators import rle


def test_overlap_matches_pycocotools_and_dense_counts():
    rng = np.random.default_rng(11)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        a = rng.random((h, w)) < rng.random()
        b = rng.random((h, w)) < rng.random()
        ra, rb = rle.encode(a), rle.encode(b)
        dense = (int((a & b).sum()), int(a.sum()), int(b.sum()))
        assert rle.overlap(ra, rb) == dense
        assert rle.overlap_pycocotools(ra, rb) == dense


def test_overlap_refuses_inconsistent_masks():
    if rle._OVERLAP is None:
        pytest.skip("the C accelerator is not built")
    a = rle.encode(np.ones((3, 4), np.uint8))
    with pytest.raises(ValueError, match="sizes differ"):
        rle.overlap(a, rle.encode(np.ones((4, 3), np.uint8)))
    with pytest.raises(ValueError, match="cover"):
        rle.overlap(a, {"size": [3, 4], "counts": "1"})
    with pytest.raises(ValueError, match="alphabet"):
        rle.overlap(a, {"size": [3, 4], "counts": "\x7f"})
