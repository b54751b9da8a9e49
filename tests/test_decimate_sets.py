"""The decimator's case sets: tuning and reporting (both draws) stay disjoint; the nearly still tuning footage is
still and new."""

from __future__ import annotations

import numpy as np

from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.stillgen import drift_frames, local_frames


def test_tuning_and_reporting_share_no_seed_and_no_source() -> None:
    tuning_seeds = (set(sets.TUNING_SEEDS) | set(sets.TUNING_STILL_SEEDS) | set(sets.TUNING_LOCAL_SEEDS)
                    | set(sets.TUNING_NATURAL_SEEDS))
    assert not tuning_seeds & set(sets.REPORTING_SEEDS)
    # the second reporting draw shares no seed with the tuning side or with the first draw, and no case
    assert not tuning_seeds & set(sets.REPORTING_B_SEEDS)
    assert not set(sets.REPORTING_SEEDS) & set(sets.REPORTING_B_SEEDS)
    assert not {s.key() for s in sets.reporting_b_set()} & {s.key() for s in sets.reporting_set()}
    assert not set(sets.TUNING_LOCAL_SEEDS) & (set(sets.TUNING_SEEDS) | set(sets.TUNING_STILL_SEEDS))
    tuning = {**sets.TUNING_SOURCES, **sets.TUNING_STILL_SOURCES, **sets.TUNING_LOCAL_SOURCES,
              **sets.TUNING_NATURAL_SOURCES}
    assert not set(tuning) & set(sets.REPORTING_SOURCES)
    # no clip file feeds both sets (the beach footage's re-encodings, the railway video, the 1906 film, the globe)
    assert not {c for c, _, _ in tuning.values()} & {c for c, _, _ in sets.REPORTING_SOURCES.values()}


def test_drift_footage_moves_a_little_every_frame_and_is_repeatable() -> None:
    a = drift_frames("camera", frames=40, width=160, height=120, seed=3)
    b = drift_frames("camera", frames=40, width=160, height=120, seed=3)
    assert a.shape == (40, 120, 160) and a.dtype == np.float32
    assert np.array_equal(a, b)
    step = np.abs(np.diff(a.astype(np.float64), axis=0)).mean(axis=(1, 2)) * 255.0
    # every frame is new (no repeats of its own), and the motion is small: nearly still footage
    assert step.min() > 0.02, step.min()
    assert np.median(step) < 3.0, np.median(step)
    # but it is not frozen: over the shot the picture has moved well beyond one step
    assert np.abs(a[-1].astype(np.float64) - a[0]).mean() * 255.0 > 3 * np.median(step)


def test_local_footage_moves_in_one_small_part_only() -> None:
    """A still camera: most of the picture keeps its place to a hundredth of a level, one small part moves."""
    a = local_frames("chelsea", frames=30, seed=3)
    assert np.array_equal(a, local_frames("chelsea", frames=30, seed=3))
    d = np.abs(np.diff(a.astype(np.float64), axis=0)) * 255.0
    moving = (d.max(axis=0) > 1.0).mean()  # share of the picture that ever changes by a visible level
    assert 0.01 < moving < 0.35, moving
    assert np.median(d.mean(axis=(1, 2))) < 1.0  # nearly still on the whole
