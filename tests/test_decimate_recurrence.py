"""A repeat template is kept only where its dips recur at the phase followed (:func:`recurrence`).

On a still shot without repeats, grain, gate weave and the codec's rhythm bring some frames closer to an earlier
one by chance; template learning fits those chance dips, and before this check the decoder dropped up to 44 % of
such a film's frames (tuning seed 125: a photograph from a tripod, one small part moving, crf 27).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsrestore.cli.main import main
from vsrestore.core.source import load_source
from vsrestore.decimate import HmmParams, analyze, parse_overrides
from vsrestore.decimate import decide as decide_mod
from vsrestore.decimate.report import summary_lines
from vsrestore.decimate.template import Decoded, Template, recurrence, token_scores
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import build_case


@pytest.fixture(autouse=True)
def _fresh_memory_cache() -> None:
    decide_mod._MEMO.clear()
    decide_mod._DECISIONS.clear()


def _decoded_with(template: int, period: int, n: int) -> Decoded:
    return Decoded(tokens=np.zeros(n, dtype=np.int64), confidence=np.ones(n), template=np.full(n, template),
                   phase=np.arange(n) % period)


def test_recurring_dips_pass_and_chance_dips_do_not() -> None:
    rng = np.random.default_rng(5)
    n, aab = 150, Template((0, 1, 0))
    # AAB: the second frame of every three is a copy of the one before (lag 1), with noisy evidence
    e = rng.normal(-2.0, 2.0, size=(n, 3))
    e[1::3, 0] = rng.normal(3.0, 2.0, size=e[1::3, 0].size)
    s = token_scores(e)
    t, clear = recurrence(s, e, _decoded_with(0, 3, n), [aab, Template((0,))], 0)
    assert t > 5.0 and 2.0 < clear < 4.0
    # the same evidence level everywhere: whatever phase a learned AAB sits at, the dips do not recur there
    e = rng.normal(-1.0, 2.5, size=(n, 3))
    s = token_scores(e)
    t, _ = recurrence(s, e, _decoded_with(0, 3, n), [aab, Template((0,))], 0)
    assert t < 3.0
    # "no repeats" and a template no frame follows are always kept; too few frames cannot pass on recurrence
    assert recurrence(s, e, _decoded_with(0, 3, n), [aab, Template((0,))], 1) == (np.inf, np.inf)
    assert recurrence(s, e, _decoded_with(1, 1, n), [aab, Template((0,))], 0) == (np.inf, np.inf)
    assert recurrence(s[:5], e[:5], _decoded_with(0, 3, 5), [aab], 0)[0] == -np.inf


@pytest.fixture(scope="module")
def still_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photograph from a still camera, one soft part moving, transferred at its own rate (no repeats) with
    grain, flicker, weave, dust and H.264 at crf 27 (tuning seed 125)."""
    spec = next(s for s in sets.tuning_local_set() if s.seed == 125)
    assert spec.kind == "none"
    return build_case(spec, sets.source_frames, tmp_path_factory.mktemp("still-camera")).path


def test_still_camera_without_repeats_stays_whole(still_camera: Path) -> None:
    clip = load_source(still_camera)
    an = analyze(clip, sidecar=False, progress=False)
    assert len(an.kept) >= 0.995 * clip.num_frames, (len(an.kept), clip.num_frames, an.templates)
    # the patterns set aside are named, with the override line that would restore one
    assert an.set_aside and all(b - a + 1 >= 12 and t != "ABCD" for a, b, t in an.set_aside)
    assert an.to_dict()["set_aside"] == [list(r) for r in an.set_aside]
    text = "\n".join(summary_lines(an, "still.mkv"))
    a, b, t = max(an.set_aside, key=lambda r: r[1] - r[0])
    line = f"pattern {a}-{b} {t}"
    assert "set aside in input frames" in text and f"'{line}'" in text
    forced = analyze(clip, sidecar=False, progress=False,
                     overrides=parse_overrides(line, num_frames=clip.num_frames))
    assert (a, b) not in [(x, y) for x, y, _ in forced.set_aside]  # the user's decision is not second-guessed
    assert not any(x <= b and y >= a for x, y, _ in forced.set_aside)
    # without the check, templates learned from chance dips drop a good part of the film
    decide_mod._DECISIONS.clear()
    old = analyze(clip, sidecar=False, progress=False, hmm_params=HmmParams(recur=0.0))
    assert len(old.kept) < 0.8 * clip.num_frames


def an_lines(out: Path) -> list[str]:
    """The set-aside ranges the report's JSON lists."""
    import json

    return json.loads((out / "report.json").read_text())["set_aside"]


def test_analyze_command_names_the_patterns_set_aside(still_camera: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "analysis"
    assert main(["analyze", str(still_camera), "-o", str(out)]) == 0
    report = (out / "report.txt").read_text()
    assert "set aside in input frames" in report and "overrides.txt ('pattern " in report
    assert (out / "timeline.png").stat().st_size > 10_000
    # the override file offers each set-aside pattern as a commented line; uncommented, the file is accepted
    lines = [ln for ln in (out / "overrides.txt").read_text().splitlines() if ln.startswith("# pattern ")]
    assert lines and all("set aside" in ln for ln in lines) and len(lines) == len(an_lines(out))
    first = lines[0][2:].split("#")[0].strip()
    assert parse_overrides(first, num_frames=load_source(still_camera).num_frames).forced
