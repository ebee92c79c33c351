"""Greedy one-to-one matching of predicted and target boxes, as the official gRefCOCO evaluation does."""

from __future__ import annotations

import numpy as np

from evaluators.topk_tie import first_maximum, topk1_index

__all__ = ["greedy_match_count"]


def greedy_match_count(similarity: np.ndarray, threshold: float = 0.5, tie_rule: str = "torch_topk") -> int:
    """Number of matches of a greedy assignment on the global maximum.

    ``similarity`` is ``(P, T)`` (rows: kept predictions ordered by (score, box) descending; columns:
    targets). Repeatedly take the largest remaining entry; stop at the first one below ``threshold``
    (a NaN entry counts as a match, since ``NaN < threshold`` is false); zero its row and column; at
    most ``min(P, T)`` rounds. ``tie_rule`` picks among exact ties: ``"torch_topk"`` reproduces CPU
    ``torch.topk(flat, 1)`` (see `evaluators.topk_tie`), ``"first"`` takes the first maximum in
    row-major order (NaN ranks highest in both).
    """
    sim = np.array(similarity, copy=True)
    rows, cols = sim.shape
    matches = 0
    for _ in range(min(rows, cols)):
        flat = sim.reshape(-1)
        if not np.isnan(flat).any() and flat.max() < threshold:
            break  # whichever entry the tie rule picks, it is below the threshold
        index = topk1_index(flat) if tie_rule == "torch_topk" else first_maximum(flat)
        value = flat[index]
        if value < threshold:
            break
        matches += 1
        r, c = divmod(index, cols)
        sim[r, :] = 0
        sim[:, c] = 0
    return matches
