"""Fuzzing what a user types (issue 18): random preset arguments, random override files, random frame-request
orders. Every outcome is a correct result or one clear error (one line, naming the input), never a traceback
from deep inside, and never a changed input file.

hypothesis runs with a fixed seed (``derandomize``) so a failure is repeatable; the cheap checks run many
examples, the ones that render real frames a few.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_fixtures import short_bw

from vsrestore.cli.main import main
from vsrestore.core.source import load_source, script_outputs
from vsrestore.decimate import analyze
from vsrestore.decimate.overrides import OverrideError, parse_overrides
from vsrestore.presets import PRESET_DIR, PRESET_PARAMS, ParamKind, check_preset_args

FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None)
SLOW = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return short_bw(tmp_path_factory.mktemp("clips"), 24)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# ---- preset arguments ----------------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers(-10, 10).map(str),
                    st.sampled_from(["1", "0", "2", "4", "24", "30000/1001", "1/0", "-1", "nan", "inf", "", " 2"]))
names = st.one_of(st.sampled_from(sorted({n for p in PRESET_PARAMS.values() for n in p})), st.from_regex(
    r"[a-z_]{1,12}", fullmatch=True))


@FAST
@given(preset=st.sampled_from(sorted(PRESET_PARAMS)),
       args=st.dictionaries(names.filter(lambda n: n != "input"), st.one_of(numbers, texts), max_size=4))
def test_random_preset_arguments(preset: str, args: dict[str, str]) -> None:
    try:
        values = check_preset_args(preset, args)
    except ValueError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("-a "), msg
        bad = msg[3:].split("=", 1)[0]
        assert bad in args  # the message names the argument at fault
        return
    params = PRESET_PARAMS[preset]
    assert set(values) == set(params)
    for name, value in values.items():
        kind = params[name].kind
        if kind == ParamKind.NUMBER:
            p = params[name]
            assert p.low is not None and p.high is not None and p.low <= value <= p.high
        elif kind == ParamKind.INT:
            assert str(value) in params[name].choices
        elif kind == ParamKind.RATE:
            assert 0 < value <= 1000


@SLOW
@given(args=st.dictionaries(st.sampled_from(["fps", "sidecar", "overrides", "fsp"]), numbers, max_size=2))
def test_random_arguments_through_the_cli(args: dict[str, str], film: Path, tmp_path_factory: pytest.TempPathFactory,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path_factory.mktemp("out")
    before = md5(film)
    argv = ["render", str(PRESET_DIR / "smooth_only.vpy"), "-a", f"input={film}", "-o", str(folder / "o.mkv"),
            "--end", "1", "--no-progress", "--codec", "ffv1"]
    for k, v in args.items():
        argv += ["-a", f"{k}={v}"]
    cwd = os.getcwd()
    os.chdir(folder)  # relative paths (-a sidecar=8) land here, in the user's folder
    try:
        rc = main(argv)
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if rc == 0:
        assert load_source(folder / "o.mkv").num_frames == 2
    else:
        assert rc == 1 and len([ln for ln in err.splitlines() if "error:" in ln]) == 1, err
    assert md5(film) == before
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    assert not list(PRESET_DIR.glob("*[!y]"))  # nothing written next to the presets


# ---- override files ------------------------------------------------------------------------------------------

frame = st.one_of(st.integers(-3, 30).map(str), st.tuples(st.integers(-3, 30), st.integers(-3, 30)).map(
    lambda t: f"{t[0]}-{t[1]}"), texts)
line = st.one_of(
    st.tuples(st.just("keep"), frame).map(" ".join),
    st.tuples(st.just("drop"), frame).map(" ".join),
    st.tuples(st.just("drop"), frame, st.just("lag"), st.one_of(st.integers(-1, 5).map(str), texts)).map(" ".join),
    st.tuples(st.just("pattern"), frame, st.one_of(st.sampled_from(["AAB", "ABA", "ABCA", "AB", "A", "ZZ"]), texts)
              ).map(" ".join),
    texts, st.just("# a comment"), st.just(""),
)
override_files = st.lists(line, max_size=6).map("\n".join)


@FAST
@given(text=override_files)
def test_random_override_text(text: str) -> None:
    try:
        ov = parse_overrides(text, name="edits.txt", num_frames=24)
    except OverrideError as e:
        assert "\n" not in str(e) and str(e).startswith("override file edits.txt line "), str(e)
        return
    assert all(0 <= f < 24 and 0 <= k <= 3 and f - k >= 0 for f, k in ov.forced.items())


@SLOW
@given(text=override_files)
def test_random_override_file_through_the_analysis(text: str, film: Path, tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    path = tmp_path_factory.mktemp("ovr") / "edits.txt"
    path.write_text(text)
    before, film_before = md5(path), md5(film)
    clip = load_source(film)
    try:
        an = analyze(clip, overrides=path, progress=False)
    except (ValueError, vs.Error) as e:
        assert "\n" not in str(e) and "edits.txt" in str(e), str(e)
    else:
        forced = parse_overrides(text, num_frames=clip.num_frames).forced
        kept = set(an.kept)
        assert all((f in kept) == (k == 0) for f, k in forced.items())  # every forced decision is obeyed
    assert md5(path) == before and md5(film) == film_before


# ---- frame-request orders ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smooth_reference(film: Path) -> tuple[vs.VideoNode, list[np.ndarray]]:
    clip = script_outputs(PRESET_DIR / "smooth_only.vpy", {"input": str(film), "fps": "30"})[0]
    return clip, [np.asarray(clip.get_frame(n)[0]).copy() for n in range(clip.num_frames)]


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 12))
def test_random_request_orders_give_the_same_frames(
    seed: int, count: int, smooth_reference: tuple[vs.VideoNode, list[np.ndarray]], film: Path
) -> None:
    """A fresh evaluation of the preset, frames asked for in a random order (with repeats), some at once:
    each equals the frame rendered in order."""
    _, ref = smooth_reference
    fresh = script_outputs(PRESET_DIR / "smooth_only.vpy", {"input": str(film), "fps": "30"})[0]
    rng = random.Random(seed)
    order = [rng.randrange(len(ref)) for _ in range(count)]
    futures = [(n, fresh.get_frame_async(n)) for n in order[: count // 2]]
    for n in order[count // 2:]:
        np.testing.assert_array_equal(np.asarray(fresh.get_frame(n)[0]), ref[n], err_msg=f"frame {n}")
    for n, fut in futures:
        np.testing.assert_array_equal(np.asarray(fut.result()[0]), ref[n], err_msg=f"frame {n} (async)")
