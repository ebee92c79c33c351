"""Invariants of every registered protocol: permutation invariance, split + merge == one shot, perfect
predictions score 100."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators import PROTOCOLS, Evaluator, evaluate
from tests.evaluators.factory import perfect_prediction, random_dataset

ALL_PROTOCOLS = sorted(PROTOCOLS)


def _dataset(protocol: str, n: int, seed: int):
    """``(task, rows, predictions)``: REC rows have exactly one target box, the others any number."""
    task = PROTOCOLS[protocol].task
    rows, preds = random_dataset(n, seed, with_refs=True, one_box=task == "rec")
    return task, rows, preds


def _strip(result):
    return {k: result[k] for k in ("metrics", "breakdown", "counts", "notes")}


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30))
def test_permutation_invariance(protocol, seed, n):
    task, rows, preds = _dataset(protocol, n, seed)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    one = evaluate(task, preds, rows, protocol=protocol)
    two = evaluate(task, [preds[i] for i in order[::-1]], [rows[i] for i in order], protocol=protocol)
    assert _strip(one) == _strip(two)


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 30), cut=st.floats(0.0, 1.0))
def test_split_and_merge_equals_one_shot(protocol, seed, n, cut):
    task, rows, preds = _dataset(protocol, n, seed)
    k = int(cut * n)
    whole = Evaluator(task, protocol)
    for p, r in zip(preds, rows):
        whole.update(p, r)
    a, b = Evaluator(task, protocol), Evaluator(task, protocol)
    for p, r in zip(preds[:k], rows[:k]):
        a.update(p, r)
    for p, r in zip(preds[k:], rows[k:]):
        b.update(p, r)
    assert _strip(b.merge(a).compute()) == _strip(whole.compute())


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25))
def test_perfect_predictions_score_100(protocol, seed, n):
    task, rows, _ = _dataset(protocol, n, seed)
    perfect = [perfect_prediction(r) for r in rows]
    # RES (LAVT) has no no-target rule: an empty gt and an empty prediction give U = 0, IoU 0. The refer
    # toolkit counts an intersection only when x1 < x2 and y1 < y2 on inclusive corners: a box 1 pixel wide
    # or tall never overlaps itself.
    keep = [
        i
        for i, r in enumerate(rows)
        if (task != "res" or not r["no_target"])
        and (protocol != "rec/refer" or all(min(t["bbox"][2:]) >= 2 for t in r["targets"]))
    ]
    if not keep:
        return
    metrics = evaluate(task, [perfect[i] for i in keep], [rows[i] for i in keep], protocol=protocol)[
        "metrics"
    ]
    for key, value in metrics.items():
        if key == "mrr" or value is None:  # mRR is NaN when an object has no negative
            continue
        assert value == pytest.approx(100.0), key
