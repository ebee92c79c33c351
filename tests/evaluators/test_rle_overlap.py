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


def _many_block_masks(rng):
    """Masks whose counts strings span many 64-byte blocks of the C decoder: noisy (1- and 2-byte
    groups), blobs with long runs (3-byte and longer groups), all empty, all full."""
    h, w = (int(v) for v in rng.integers(60, 240, 2))
    yy, xx = np.ogrid[:h, :w]
    blob = ((yy - h * rng.random()) / (0.3 * h)) ** 2 + ((xx - w * rng.random()) / (0.3 * w)) ** 2 <= 1
    return [
        rng.random((h, w)) < rng.choice([0.01, 0.2, 0.5]),
        blob,
        blob ^ (rng.random((h, w)) < 0.01),
        np.zeros((h, w), bool),
        np.ones((h, w), bool),
    ]


def test_overlap_on_long_strings_matches_dense_counts():
    rng = np.random.default_rng(3)
    for _ in range(12):
        masks = _many_block_masks(rng)
        for a in masks:
            for b in masks:
                ra, rb = rle.encode(a), rle.encode(b)
                assert rle.overlap(ra, rb) == (int((a & b).sum()), int(a.sum()), int(b.sum()))


def test_overlap_on_mixed_blocks_matches_dense_counts():
    """Strings whose 64-byte blocks alternate between groups of one or two bytes (noisy columns: the C
    decoder's per-block fast path) and longer groups (clean columns), with two-byte groups and 1-runs
    that straddle block ends, and a last partial block of every length."""
    rng = np.random.default_rng(5)
    for trial in range(60):
        h, w = int(rng.integers(40, 200)), int(rng.integers(20, 120))
        yy, xx = np.ogrid[:h, :w]
        blob = ((yy - h / 2) / (0.4 * h)) ** 2 + ((xx - w / 2) / (0.4 * w)) ** 2 <= 1
        noisy_columns = (np.arange(w) // int(rng.integers(2, 12))) % 2 == 1  # bands of columns
        a = (blob & (rng.random(w) < 0.5)) ^ (
            (rng.random((h, w)) < rng.choice([0.01, 0.05, 0.3])) & noisy_columns
        )
        b = np.roll(blob, int(rng.integers(-5, 6)), axis=1) if trial % 2 else a ^ (rng.random((h, w)) < 0.02)
        ra, rb = rle.encode(a), rle.encode(b)
        dense = (int((a & b).sum()), int(a.sum()), int(b.sum()))
        assert rle.overlap(ra, rb) == dense
        assert rle.overlap(rb, ra) == (dense[0], dense[2], dense[1])


def test_overlap_names_the_same_defect_as_the_counts_parser():
    """Damage anywhere in a long string: ``overlap`` refuses it with the reason `counts_totals` gives
    (both in C), for the record (index 0) and for the target (index 1)."""
    if rle._OVERLAP is None:
        pytest.skip("the C accelerator is not built")
    rng = np.random.default_rng(4)
    refused = 0
    for _ in range(150):
        a = _many_block_masks(rng)[int(rng.integers(0, 3))]
        good = rle.encode(a)
        s = list(good["counts"])
        i = int(rng.integers(0, len(s)))
        op = int(rng.integers(0, 4))
        if op == 0:
            s[i] = chr(int(rng.integers(32, 127)))
        elif op == 1:
            del s[i:]
        elif op == 2:
            s[i:i] = ["o"] * int(rng.integers(1, 10))
        else:
            s.insert(i, chr(int(rng.integers(48, 112))))
        bad = {"size": good["size"], "counts": "".join(s)}
        try:
            rle.counts_totals([bad["counts"]])
            expected = None
        except rle.CountsError as exc:
            expected = str(exc)
        for index, pair in enumerate(((bad, good), (good, bad))):
            outcome = _refusal(*pair)
            if outcome is None:
                assert expected is None  # the damage still parses (and covers the right pixel count)
                continue
            refused += 1
            assert outcome[0] == index
            if expected is not None:  # else refused for its pixel total
                assert outcome[1] == expected
    assert refused > 100


def _refusal(a, b):
    """(index, reason) of the `rle.CountsError` that ``overlap(a, b)`` raises, or None."""
    try:
        rle.overlap(a, b)
    except rle.CountsError as exc:
        return exc.index, str(exc)
    return None
