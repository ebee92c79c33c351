"""The torch.topk tie rule of GREC matching, checked against torch.topk itself."""

import numpy as np
import pytest

from evaluators.topk_tie import first_maximum, topk1_index

torch = pytest.importorskip("torch")


def _torch_index(values: np.ndarray) -> int:
    return int(torch.topk(torch.from_numpy(values.astype(np.float32)), 1).indices[0])


def test_thousands_of_random_arrays_with_ties_and_nan():
    rng = np.random.default_rng(0)
    levels = np.array([0.0, 0.5, 0.7, 1.0, -0.3, np.nan, np.inf, -np.inf], np.float32)
    checked = not_first = 0
    for trial in range(6000):
        n = int(rng.integers(1, 130))
        pool = levels[: int(rng.integers(1, len(levels) + 1))]
        values = rng.choice(pool, n).astype(np.float32)
        if trial % 5 == 0:
            values = rng.choice(np.array([0.0, 0.6, 0.6], np.float32), n)  # zeroed rows and a tie
        assert topk1_index(values) == _torch_index(values), values.tolist()
        checked += 1
        not_first += _torch_index(values) != first_maximum(values)
    assert checked == 6000
    assert not_first > 1000  # the cases where "first maximum" would be wrong are well represented


def test_greedy_matrix_shapes_as_in_grec():
    rng = np.random.default_rng(1)
    for _ in range(1000):
        rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 6))
        giou = np.round(rng.uniform(-0.5, 1.0, (rows, cols)), 1).astype(np.float32)
        giou[rng.random((rows, cols)) < 0.3] = 0.0
        flat = giou.reshape(-1)
        assert topk1_index(flat) == _torch_index(flat)


def test_small_hand_cases():
    assert topk1_index(np.array([1.0], np.float32)) == 0
    assert topk1_index(np.array([0.0, np.nan, 1.0], np.float32)) == 1  # NaN ranks highest
    same = np.full(10, 0.5, np.float32)
    assert topk1_index(same) == _torch_index(same)
    big = np.full(64, 0.5, np.float32)
    assert topk1_index(big) == 0  # >= 64 entries: the first maximum
    with pytest.raises(ValueError, match="empty array"):
        topk1_index(np.array([], np.float32))
