"""On a still shot, dips that recur at one phase still count (:func:`vsrestore.decimate.template.fit`).

The stillness weight (:mod:`vsrestore.decimate.stillness`) silences the evidence model on passages where every
lag is at one distance, because there its ups and downs are chance. Dips that recur at a fixed phase over a
window (:mod:`vsrestore.decimate.periodic`) are not chance: a person sees them in the timeline plot. Tuning
seed 131: a real photograph from a still camera with one soft part moving, transferred with a lag-2 template
switching to a lag-3 one (720x540, grain, flicker, weave, dust, H.264 crf 21); every frame of it is "still".
Where the grain buries the motion, the dips recur in the motion agreement instead (tuning seed 114).
"""

from __future__ import annotations

import pytest

from vsrestore.core.source import load_source
from vsrestore.decimate import HmmParams, analyze
from vsrestore.decimate import decide as decide_mod
from vsrestore.decimate.periodic import PeriodicParams
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import BuiltCase, build_case
from vsrestore.testing.filmgen import accuracy


@pytest.fixture(scope="module")
def still_camera_with_repeats(tmp_path_factory: pytest.TempPathFactory) -> BuiltCase:
    spec = next(s for s in sets.tuning_local_set() if s.seed == 131)
    assert spec.kind == "switch"
    return build_case(spec, sets.source_frames, tmp_path_factory.mktemp("still-repeats"))


def test_recurring_dips_are_followed_on_a_still_shot(still_camera_with_repeats: BuiltCase) -> None:
    case = still_camera_with_repeats
    clip = load_source(case.path)
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()
    an = analyze(clip, sidecar=False, progress=False)
    # the whole shot is too still for a single repeat to show ...
    assert sum(b - a + 1 for a, b in an.still) >= 0.9 * clip.num_frames
    # ... yet the repeats are found from their recurring dips (0.80 measured)
    assert accuracy(an.kept, case.cadence.film) >= 0.75
    # without the recurring dips (as when the stillness weight silenced them too) nearly every copy is kept
    decide_mod._DECISIONS.clear()
    old = analyze(clip, sidecar=False, progress=False, hmm_params=HmmParams(periodic=None))
    assert accuracy(old.kept, case.cadence.film) <= 0.4


@pytest.fixture(scope="module")
def grainy_drift_with_repeats(tmp_path_factory: pytest.TempPathFactory) -> BuiltCase:
    spec = next(s for s in sets.tuning_set() if s.seed == 114)
    assert spec.kind == "switch" and spec.conditions.grain > 3
    return build_case(spec, sets.source_frames, tmp_path_factory.mktemp("grainy-drift"))


def test_copies_under_grain_are_found_by_their_motion_agreement(grainy_drift_with_repeats: BuiltCase) -> None:
    """Tuning seed 114: a photograph filmed by a slowly drifting camera, grain 3.7 levels, flicker 7%, weave,
    dust, H.264, a template switching half way. The drift is too slow for the distances to show many copies;
    the motion agreement (:mod:`vsrestore.decimate.agreement`) recurs near 0 at the copies."""
    case = grainy_drift_with_repeats
    clip = load_source(case.path)
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()
    an = analyze(clip, sidecar=False, progress=False)
    assert accuracy(an.kept, case.cadence.film) >= 0.9  # 0.923 measured (0.984 with the eleventh session's form)
    decide_mod._DECISIONS.clear()
    without = analyze(clip, sidecar=False, progress=False,
                      hmm_params=HmmParams(periodic=PeriodicParams(agreement=False)))
    assert accuracy(without.kept, case.cadence.film) <= 0.85  # 0.776 measured
