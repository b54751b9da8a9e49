"""Recurring dips found on the footage's own scale (vsrestore.decimate.periodic)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vsrestore.decimate.periodic import PeriodicParams, periodic_evidence


def _metrics(lag1: np.ndarray, lag2: np.ndarray, lag3: np.ndarray, noise: float = 0.002) -> np.ndarray:
    """Distances (N, 7) in the layout of compute_metrics: top lags 1-3, whole lags 1-3, noise; top = 1.5 whole."""
    whole = np.stack([lag1, lag2, lag3], axis=1)
    m = np.concatenate([1.5 * whole, whole, np.full((lag1.size, 1), noise)], axis=1)
    for k in range(1, 4):
        m[:k, k - 1] = m[:k, 3 + k - 1] = np.nan
    return m


def test_held_copies_of_a_nearly_still_shot_are_found() -> None:
    """Every second frame a copy, its distance only 0.6x a new frame's, all far above the noise: the dips
    recur at one phase, so copies get positive evidence and new frames negative."""
    rng = np.random.default_rng(1)
    n = 200
    new = 0.03 * np.exp(rng.normal(0, 0.12, n))
    lag1 = np.where(np.arange(n) % 2 == 1, 0.6 * new, new)
    lag2 = 1.2 * new  # each frame two places back is another film frame
    e = periodic_evidence(_metrics(lag1, lag2, 1.5 * new))
    copies, fresh = e[3:, 0][np.arange(3, n) % 2 == 1], e[3:, 0][np.arange(3, n) % 2 == 0]
    assert np.median(copies) > 2.0 and np.median(fresh) < -2.0
    assert np.abs(e[:, 1:]).max() < 1.0  # no dips at lags 2 and 3


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spread=st.floats(0.05, 0.6), n=st.integers(20, 400))
def test_footage_without_dips_gets_no_evidence(seed: int, spread: float, n: int) -> None:
    """Distances that wander (slow motion, pans, grain) with no phase that stays low: nothing at all."""
    rng = np.random.default_rng(seed)
    drift = np.exp(np.cumsum(rng.normal(0, 0.05, n)))
    lags = [0.02 * k * drift * np.exp(rng.normal(0, spread, n)) for k in (1, 2, 3)]
    e = periodic_evidence(_metrics(lags[0], lags[1], lags[2]))
    assert np.abs(e).max() < 1.0, f"largest evidence {np.abs(e).max():.2f}"


def test_motion_of_different_lengths_is_not_a_copy() -> None:
    """An ABCA transfer: lag-1 distances alternate between one and two film steps (a recurring low phase), but
    the real copies are the lag-3 dips far below them; only lag 3 gets copy evidence."""
    rng = np.random.default_rng(3)
    n = 240
    ph = np.arange(n) % 4
    step = 0.03 * np.exp(rng.normal(0, 0.08, n))
    lag1 = np.where(ph == 3, 2.0 * step, np.where(ph == 0, 2.0 * step, step))
    lag2 = 2.0 * step
    lag3 = np.where(ph == 3, 0.004 * np.exp(rng.normal(0, 0.1, n)), 3.0 * step)
    e = periodic_evidence(_metrics(lag1, lag2, lag3))
    assert np.median(e[4:, 2][ph[4:] == 3]) > 2.0
    assert e[:, 0].max() < 1.0


def test_parameters_are_part_of_the_decision() -> None:
    from vsrestore.decimate.template import HmmParams

    assert "PeriodicParams" in repr(HmmParams()) and HmmParams(periodic=None) != HmmParams()
    assert PeriodicParams().penalty > 0
