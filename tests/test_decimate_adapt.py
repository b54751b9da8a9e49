"""Copy evidence calibrated on the clip's own decided copies (:mod:`vsrestore.decimate.adapt`).

Tuning seed 126: a real photograph from a still camera with one small part moving, transferred with mixed lag-1
and lag-3 templates (grain, flicker, weave, dust, H.264). The copies show as a small steady dip; the first decode
follows the template only where the dips are deepest. Calibrated on the copies it did find, the second decode
follows it through more of the shot.
"""

from __future__ import annotations

import numpy as np
import pytest

from vsrestore.core.source import load_source
from vsrestore.decimate import HmmParams, analyze
from vsrestore.decimate import decide as decide_mod
from vsrestore.decimate.adapt import AdaptParams, adapted_evidence
from vsrestore.decimate.report import unsure_lines
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import BuiltCase, build_case
from vsrestore.testing.filmgen import accuracy


def _metrics(rng: np.random.Generator, n: int, copies: np.ndarray, dip: float) -> np.ndarray:
    """Distances (N, 3 lags) with lag-1 copies ``dip`` (log) below grain-level new frames, agreements about 0 at
    copies and 0.2 elsewhere; noise column 0.01."""
    m = np.full((n, 10), np.nan)
    for k in range(3):
        d = np.exp(np.log(0.05) + 0.03 * rng.standard_normal(n))
        if k == 0:
            d[copies] *= np.exp(-dip)
        m[k + 1 :, k] = d[k + 1 :]
        m[k + 1 :, 3 + k] = d[k + 1 :]
        a = 0.2 + 0.05 * rng.standard_normal(n)
        if k == 0:
            a[copies] = 0.05 * rng.standard_normal(int(copies.sum()))
        m[k + 1 :, 7 + k] = a[k + 1 :]
    m[:, 6] = 0.01
    return m


def test_calibration_learns_the_clips_own_copies() -> None:
    rng = np.random.default_rng(3)
    n = 240
    copies = np.zeros(n, dtype=bool)
    copies[1::2] = True  # AABB
    m = _metrics(rng, n, copies, dip=0.06)
    decided = np.where(copies, 1, 0)
    decided[: n // 2] = 0  # the first decode found the copies in the second half only
    tpl = np.where(np.arange(n) >= n // 2, 0, 1)
    extra = adapted_evidence(m, decided, tpl)
    assert extra is not None and extra.shape == (n, 3)
    first = np.arange(n) < n // 2
    # in the half the first decode missed, copies now have evidence for; new frames none (only evidence for a
    # copy is added: "no dip here" is not evidence against one)
    assert np.median(extra[first & copies, 0]) > 0.5
    assert (extra[first & copies, 0] > 0.1).mean() >= 0.8
    assert (extra[first & ~copies, 0] > 0.1).mean() <= 0.1
    assert extra.min() >= 0.0 and extra.max() <= AdaptParams().clip_llr
    assert not extra[:, 1:].any()  # no copies decided at lags 2 and 3: nothing learned there


def test_no_decided_copies_no_calibration() -> None:
    rng = np.random.default_rng(4)
    n = 240
    m = _metrics(rng, n, np.zeros(n, dtype=bool), dip=0.0)
    assert adapted_evidence(m, np.zeros(n, dtype=int), np.zeros(n, dtype=int)) is None
    few = np.zeros(n, dtype=int)
    few[[10, 50, 90, 130, 170]] = 1  # a handful of chance copies teach nothing
    assert adapted_evidence(m, few, np.zeros(n, dtype=int)) is None
    free = np.zeros(n, dtype=int)
    free[1::2] = 1  # copies decided outside any template (free decisions) do not count
    assert adapted_evidence(m, free, np.full(n, -1)) is None


@pytest.fixture(scope="module")
def still_camera_mixed(tmp_path_factory: pytest.TempPathFactory) -> BuiltCase:
    spec = next(s for s in sets.tuning_local_set() if s.seed == 126)
    assert spec.kind == "mixed"
    return build_case(spec, sets.source_frames, tmp_path_factory.mktemp("still-mixed"))


def test_second_decode_follows_the_template_through_the_shot(still_camera_mixed: BuiltCase) -> None:
    case = still_camera_mixed
    clip = load_source(case.path)
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()
    an = analyze(clip, sidecar=False, progress=False)
    assert accuracy(an.kept, case.cadence.film) >= 0.82  # 0.850 measured
    decide_mod._DECISIONS.clear()
    once = analyze(clip, sidecar=False, progress=False, hmm_params=HmmParams(adapt=None))
    assert accuracy(once.kept, case.cadence.film) <= 0.78  # 0.757 measured


def test_ranges_decided_on_the_clips_own_calibration_stay_named(still_camera_mixed: BuiltCase) -> None:
    """Where the first decode was unsure and the second, with the calibrated evidence, is not, the range is still
    named for a check (the calibration rests partly on the first decisions): in the report and in ``review``."""
    case = still_camera_mixed
    clip = load_source(case.path)
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()
    an = analyze(clip, sidecar=False, progress=False)
    assert an.rechecked
    named = {i for a, b in an.review() for i in range(a, b + 1)}
    assert all(i in named for a, b in an.rechecked for i in range(a, b + 1))
    assert an.to_dict()["rechecked"] == [list(r) for r in an.rechecked]
    text = "\n".join(unsure_lines(an))
    assert "decided again" in text and f"{an.rechecked[0][0]}" in text
    decide_mod._DECISIONS.clear()
    once = analyze(clip, sidecar=False, progress=False, hmm_params=HmmParams(adapt=None))
    assert once.rechecked == []  # one decode: nothing decided again
