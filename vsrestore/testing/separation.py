"""How well a measure tells copies from new film frames, for the decimator's probes and tests."""

from __future__ import annotations

import numpy as np

__all__ = ["copy_auc"]


def copy_auc(copies: np.ndarray, new: np.ndarray) -> float:
    """The chance that a copy's value is below a new frame's (Mann-Whitney AUC, ties counting half): 0.5 means
    the measure keeps no trace of the copies, 1 separates them fully. NaN values are left out; NaN with fewer
    than two values on either side."""
    a = np.asarray(copies, dtype=np.float64)
    b = np.asarray(new, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return float("nan")
    both = np.concatenate([a, b])
    _, inv, counts = np.unique(both, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # the rank of each distinct value's last occurrence
    ranks = (upper - (counts - 1) / 2.0)[inv]  # mean rank over ties
    u = ranks[: a.size].sum() - a.size * (a.size + 1) / 2
    return float(1 - u / (a.size * b.size))
