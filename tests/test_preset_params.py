"""Every parameter of every shipped preset reaches the picture (issue 18, item 2).

The presets are evaluated in this process exactly as vspipe does it (``-a`` values put in the script's globals
before it runs), on the bundled sample cut to 48 frames, and a parameter's effect is read off the output: its
size, rate, format, frame count or pixels. Before the fix, ``from vsrestore.enhance import upscale`` in
silent_film replaced ``-a upscale=1`` with the function, so the value was silently ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from media_fixtures import colour_clip, short_bw

from vsrestore.core.source import load_source, script_outputs
from vsrestore.presets import PRESET_DIR, PRESET_PARAMS, ScriptArgs, check_preset_args

core = vs.core


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"bw": short_bw(folder), "colour": colour_clip(folder), "bw16": short_bw(folder, 16, "bw16.mkv")}


def output(preset: str, args: dict[str, str], index: int = 0) -> vs.VideoNode:
    return script_outputs(PRESET_DIR / f"{preset}.vpy", args)[index]


def plane(clip: vs.VideoNode, n: int, p: int) -> np.ndarray:
    return np.asarray(clip.get_frame(n)[p]).astype(np.float64)


def differs(a: vs.VideoNode, b: vs.VideoNode, n: int = 3, p: int = 0, by: float = 0.05) -> bool:
    """The mean absolute difference of plane ``p`` of frame ``n`` is above ``by`` (in the clip's own units)."""
    return float(np.abs(plane(a, n, p) - plane(b, n, p)).mean()) > by


# the fast base for silent_film: no upscaling and no colour (the colouriser renders every film frame when the
# script is evaluated), so evaluating it and rendering a frame take seconds
def sf(clips: dict[str, Path], **kw: str) -> dict[str, str]:
    return {"input": str(clips["bw"]), "upscale": "1", "color": "0", **kw}


def test_every_parameter_is_declared_and_tested() -> None:
    """The table below names every parameter; a new one without a test fails here."""
    tested = {
        "silent_film": {"input", "sidecar", "overrides", "fps", "color", "color_model", "saturation", "keep_chroma",
                        "keyframes",
                        "denoise", "sharpen", "upscale", "upscaler", "grain", "motion"},  # upscaler: test_speed.py
        "newsreel_bw": {"input", "sidecar", "overrides", "fps", "denoise", "sharpen", "upscale", "grain", "motion"},
        "colorize_only": {"input", "color_model", "stabilize", "saturation", "keep_chroma", "keyframes"},
        "smooth_only": {"input", "sidecar", "overrides", "fps", "motion"},
    }
    assert {k: set(v) for k, v in PRESET_PARAMS.items()} == tested
    assert {p.stem for p in PRESET_DIR.glob("*.vpy")} == set(PRESET_PARAMS)


@pytest.mark.parametrize("preset", ["silent_film", "newsreel_bw"])
def test_upscale_sets_the_size(preset: str, clips: dict[str, Path]) -> None:
    base = sf(clips) if preset == "silent_film" else {"input": str(clips["bw"])}
    sizes = {f: output(preset, {**base, "upscale": f}).width for f in ("1", "2", "4")}
    assert sizes == {"1": 640, "2": 1280, "4": 2560}


@pytest.mark.parametrize("preset", ["silent_film", "newsreel_bw", "smooth_only"])
def test_fps_sets_the_rate(preset: str, clips: dict[str, Path]) -> None:
    for fps, want in (("25", (25, 1)), ("30000/1001", (30000, 1001)), ("48", (48, 1))):
        args = sf(clips, fps=fps) if preset == "silent_film" else {"input": str(clips["bw"]), "fps": fps}
        clip = output(preset, args)
        assert (clip.fps.numerator, clip.fps.denominator) == want
        assert clip.num_frames == round(48 / 24 * want[0] / want[1])  # the transfer's duration is kept


@pytest.mark.parametrize("preset", ["silent_film", "newsreel_bw", "smooth_only", "colorize_only"])
def test_input_picks_the_film(preset: str, clips: dict[str, Path]) -> None:
    clip = output(preset, {"input": str(clips["colour"]), **({"color": "0"} if preset == "silent_film" else {})})
    assert (clip.width, clip.height) == ((352, 288) if preset == "silent_film" else (176, 144))


@pytest.mark.parametrize("preset", ["silent_film", "newsreel_bw", "smooth_only"])
def test_overrides_and_sidecar_reach_the_decimator(preset: str, clips: dict[str, Path], tmp_path: Path) -> None:
    base = sf(clips) if preset == "silent_film" else {"input": str(clips["bw"])}
    plain = output(preset, base, index=2).num_frames
    ovr = tmp_path / "keep_all.txt"
    ovr.write_text("keep 0-47\n")
    side = tmp_path / "mine.sidecar"
    forced = output(preset, {**base, "overrides": str(ovr), "sidecar": str(side)}, index=2).num_frames
    assert plain < 40 and forced == 48  # the sample repeats frames; the override keeps every one
    assert side.is_file()  # the analysis went where it was asked to


def test_silent_film_color_and_saturation(clips: dict[str, Path]) -> None:
    assert output("silent_film", sf(clips)).format.id == vs.GRAY16
    coloured = output("silent_film", sf(clips, color="1"))
    assert coloured.format.id == vs.YUV420P10 and plane(coloured, 3, 1).std() > 2
    grey = output("silent_film", sf(clips, color="1", saturation="0"))
    assert plane(grey, 3, 1).std() < 0.5  # no colour at saturation 0


@pytest.mark.parametrize("param,value", [("denoise", "0"), ("sharpen", "0"), ("sharpen", "2"), ("grain", "0"),
                                         ("grain", "0.1")])
def test_silent_film_cleaning_parameters_change_pixels(param: str, value: str, clips: dict[str, Path]) -> None:
    base = output("silent_film", sf(clips))
    changed = output("silent_film", sf(clips, **{param: value}))
    assert differs(base, changed, by=16.0)  # GRAY16: 16 = one 8-bit step on average


@pytest.mark.parametrize("param,value", [("denoise", "0"), ("sharpen", "0"), ("grain", "0")])
def test_newsreel_cleaning_parameters_change_pixels(param: str, value: str, clips: dict[str, Path]) -> None:
    base = output("newsreel_bw", {"input": str(clips["bw"])})
    changed = output("newsreel_bw", {"input": str(clips["bw"]), param: value})
    assert differs(base, changed, by=16.0)


@pytest.mark.parametrize("preset", ["silent_film", "colorize_only"])
def test_color_model_reaches_the_colorizer(preset: str, clips: dict[str, Path]) -> None:
    args = sf(clips, color="1") if preset == "silent_film" else {"input": str(clips["bw16"])}
    with pytest.raises(ValueError, match="nonesuch_model"):
        output(preset, {**args, "color_model": "/nonexistent/nonesuch_model.pth"})


@pytest.mark.parametrize("preset", ["silent_film", "newsreel_bw", "smooth_only"])
def test_motion_fine_redraws_only_the_drawn_frames(preset: str, clips: dict[str, Path]) -> None:
    args = sf(clips) if preset == "silent_film" else {"input": str(clips["bw"])}
    standard = output(preset, args)
    fine = output(preset, {**args, "motion": "fine"})
    assert fine.num_frames == standard.num_frames
    drawn = [n for n in range(12) if standard.get_frame(n).props.get("InterpolatePhase", 0) != 0]
    kept = [n for n in range(12) if n not in drawn]
    assert drawn and kept
    for n in kept:  # film frames are the same either way
        np.testing.assert_array_equal(plane(fine, n, 0), plane(standard, n, 0))
    assert any(differs(fine, standard, n=n, by=0.01) for n in drawn)


def test_colorize_only_stabilize(clips: dict[str, Path]) -> None:
    steady = output("colorize_only", {"input": str(clips["bw16"])})
    raw = output("colorize_only", {"input": str(clips["bw16"]), "stabilize": "0"})
    assert differs(steady, raw, n=10, p=1, by=0.05)
    np.testing.assert_array_equal(plane(steady, 10, 0), plane(raw, 10, 0))  # the luma is kept either way


@pytest.mark.parametrize("preset", ["silent_film", "colorize_only"])
def test_keep_chroma_keeps_a_colour_inputs_colours(preset: str, clips: dict[str, Path]) -> None:
    src = load_source(clips["colour"])
    args = {"input": str(clips["colour"]), **({"upscale": "1"} if preset == "silent_film" else {})}
    kept = output(preset, {**args, "keep_chroma": "1"})
    recoloured = output(preset, args)
    n = 0  # frame 0 is a film frame in both (nothing is interpolated there)
    u_src = plane(core.resize.Bicubic(src, kept.width, kept.height, format=vs.YUV444P8), n, 1)
    u_kept = plane(core.resize.Bicubic(kept, format=vs.YUV444P8), n, 1)
    u_new = plane(core.resize.Bicubic(recoloured, format=vs.YUV444P8), n, 1)
    err_kept, err_new = np.abs(u_kept - u_src).mean(), np.abs(u_new - u_src).mean()
    assert err_kept < 1.5 < err_new, (err_kept, err_new)
    if preset == "colorize_only":  # a black-and-white input is coloured as usual with keep_chroma=1
        bw = output(preset, {"input": str(clips["bw16"]), "keep_chroma": "1"})
        assert plane(bw, 3, 1).std() > 1.0


def test_shadowing_import_is_refused() -> None:
    """A script that reads its globals after an import named like a parameter is a bug, refused loudly."""
    from vsrestore import enhance

    with pytest.raises(ValueError, match="upscale.*before any import"):
        ScriptArgs({"upscale": enhance, "input": "x"}, preset="silent_film")
    assert ScriptArgs({"upscale": "1", "__name__": "__vapoursynth__"}, preset="silent_film")["upscale"] == 1


@pytest.mark.parametrize("args,message", [
    ({"saturaton": "2"}, "has no parameter 'saturaton' (did you mean saturation?); its parameters: input,"),
    ({"upscale": "3"}, "-a upscale=3: must be one of 1, 2, 4"),
    ({"fps": "abc"}, "-a fps=abc: not a frame rate"),
    ({"fps": "0"}, "-a fps=0: not a frame rate"),
    ({"denoise": "-1"}, "-a denoise=-1: must be a number from 0 to 4"),
    ({"grain": "nan"}, "-a grain=nan: must be a number from 0 to 0.2"),
    ({"color": "maybe"}, "-a color=maybe: must be 1 or 0"),
    ({"motion": "best"}, "-a motion=best: must be one of standard, fine"),
    ({"input": "/no/such/film.mkv"}, "-a input=/no/such/film.mkv: file '/no/such/film.mkv' does not exist"),
])
def test_bad_values_are_one_line(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_preset_args("silent_film", args)
    assert message in str(err.value) and "\n" not in str(err.value)
