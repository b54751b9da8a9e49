"""Enhancement steps on real footage (bikes.mp4) with synthetic film damage of known truth."""

from __future__ import annotations

import numpy as np
import pytest
import vapoursynth as vs

from vsrestore.core.levels import robust_levels
from vsrestore.enhance import deflicker, denoise, despot, enhance, normalize, regrain, sharpen
from vsrestore.testing import degrade as dg
from vsrestore.testing.enhance_data import array_clip, clip_luma, flicker_index, psnr, real_luma, spot_scores

core = vs.core


@pytest.fixture(scope="module")
def truth(bikes_small: vs.VideoNode) -> np.ndarray:
    """Clean luma (T, H, W) of the first 28 frames (one shot: bikes.mp4 cuts at frame 29)."""
    return real_luma(bikes_small, range(28))


def frames_of(clip: vs.VideoNode, order: list[int]) -> dict[int, np.ndarray]:
    return {i: np.stack([np.asarray(clip.get_frame(i)[p]).copy() for p in range(clip.format.num_planes)])
            if clip.format.subsampling_w == 0 else np.asarray(clip.get_frame(i)[0]).copy() for i in order}


STEPS = {
    "normalize": lambda c: normalize(c, radius=4),
    "deflicker": lambda c: deflicker(c, radius=3),
    "denoise": lambda c: denoise(c, tr=1),
    "despot": lambda c: despot(c),
    "sharpen": lambda c: sharpen(c),
    "regrain": lambda c: regrain(c, strength=0.05),
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_random_order_and_threads_give_identical_frames(name: str, bikes_small: vs.VideoNode) -> None:
    clip = bikes_small[:12]
    step = STEPS[name]
    ordered = frames_of(step(clip), list(range(12)))
    rng = np.random.default_rng(5)
    shuffled = frames_of(step(clip), [int(i) for i in rng.permutation(12)])
    node = step(clip)
    futures = {i: node.get_frame_async(i) for i in rng.permutation(12)}
    threaded = {int(i): np.asarray(f.result()[0]).copy() for i, f in futures.items()}
    for i in range(12):
        assert np.array_equal(ordered[i], shuffled[i]), f"{name}: frame {i} differs by request order"
        assert np.array_equal(ordered[i], threaded[i]), f"{name}: frame {i} differs when threaded"


@pytest.mark.parametrize("fmt", [vs.YUV420P8, vs.YUV420P10, vs.YUV444P16, vs.GRAY8, vs.GRAYS, vs.YUV420PS])
@pytest.mark.parametrize("name", sorted(STEPS))
def test_format_and_size_kept(name: str, fmt: vs.PresetVideoFormat, bikes_small: vs.VideoNode) -> None:
    src = bikes_small[:4]
    clip = core.resize.Point(src, format=fmt) if core.get_video_format(fmt).color_family == vs.YUV else \
        core.resize.Point(core.std.ShufflePlanes(src, 0, vs.GRAY), format=fmt)
    out = STEPS[name](clip)
    f = out.get_frame(2)
    assert out.format.id == clip.format.id and (out.width, out.height) == (clip.width, clip.height)
    assert f.format.id == clip.format.id and out.num_frames == clip.num_frames


def test_rgb_accepted_where_it_makes_sense_and_refused_by_motion_steps(bikes_small: vs.VideoNode) -> None:
    rgb = core.resize.Bicubic(bikes_small[:6], format=vs.RGB24, matrix_in_s="709")
    for fn in (normalize, deflicker, sharpen, regrain):
        out = fn(rgb)
        assert out.format.id == vs.RGB24
        out.get_frame(3)
    for motion_fn in (denoise, despot):
        with pytest.raises(vs.Error, match="accepted families"):
            motion_fn(rgb)


def test_bad_parameters_refused(bikes_small: vs.VideoNode) -> None:
    c = bikes_small[:6]
    cases = [
        (lambda: normalize(c, low=60), "low"), (lambda: normalize(c, knee=0.5), "knee"),
        (lambda: normalize(c, radius=-1), "radius"), (lambda: deflicker(c, strength=2), "strength"),
        (lambda: deflicker(c, grid=(1, 4)), "grid"), (lambda: denoise(c, tr=4), "tr"),
        (lambda: denoise(c, strength=-1), "strength"), (lambda: denoise(c, blksize=12), "blksize"),
        (lambda: despot(c, threshold=0), "threshold"), (lambda: despot(c, grow=9), "grow"),
        (lambda: sharpen(c, radius=3), "radius"), (lambda: sharpen(c, amount=float("nan")), "amount"),
        (lambda: regrain(c, size=0.5), "size"), (lambda: regrain(c, strength=1), "strength"),
    ]
    for call, word in cases:
        with pytest.raises(ValueError, match=word):
            call()
    with pytest.raises(vs.Error, match="must be a VapourSynth"):
        normalize("clip.mp4")  # type: ignore[arg-type]
    with pytest.raises(vs.Error, match="reference"):
        sharpen(c, reference=core.resize.Point(c, format=vs.YUV420P16))
    with pytest.raises(vs.Error, match="at least 3"):
        despot(c[:2])


# ---------------------------------------------------------------------------------------------- normalize


def test_normalize_undoes_a_faded_print(truth: np.ndarray) -> None:
    faded = 0.12 + 0.65 * truth
    ref = clip_luma(normalize(array_clip(truth, vs.GRAY16)))
    out = clip_luma(normalize(array_clip(faded, vs.GRAY16)))
    assert psnr(out, ref) > 40.0 > psnr(faded, ref) + 15
    black, white = robust_levels(out)
    assert black < 0.02 and white > 0.98


def test_normalize_limited_range_yuv_and_no_pumping(bikes_small: vs.VideoNode, truth: np.ndarray) -> None:
    clip = core.resize.Point(bikes_small[:28], format=vs.YUV420P16)
    faded = core.std.Expr(clip, ["x 0.6 * 12000 +", ""])
    ref, out = real_luma(normalize(clip)), real_luma(normalize(faded))
    assert psnr(out, ref) > 40.0 > psnr(real_luma(faded), ref) + 10
    assert out.min() >= -0.002 and out.max() <= 1.002  # stays within 16..235 (limited range)
    lo, hi = robust_levels(out)
    assert lo < 0.1 and hi > 0.85
    flick = dg.add_flicker(truth, np.random.default_rng(3), gain=0.1, offset=0.03)
    smooth = normalize(array_clip(flick, vs.GRAY16), radius=12)
    per_frame = normalize(array_clip(flick, vs.GRAY16), radius=0)

    def gains(c: vs.VideoNode) -> np.ndarray:
        return np.array([c.get_frame(i).props["NormGain"] for i in range(c.num_frames)])

    assert np.abs(np.diff(gains(smooth), 2)).mean() < 0.2 * np.abs(np.diff(gains(per_frame), 2)).mean()


# ---------------------------------------------------------------------------------------------- deflicker


def test_deflicker_halves_flicker_and_moves_towards_truth(truth: np.ndarray) -> None:
    flick = dg.add_flicker(truth, np.random.default_rng(1), gain=0.1, offset=0.03)
    out = clip_luma(deflicker(array_clip(flick, vs.GRAY16)))
    assert flicker_index(out, truth) < 0.5 * flicker_index(flick, truth)
    assert psnr(out, truth) > psnr(flick, truth) + 1.0


def test_deflicker_keeps_slow_lighting_changes_and_cuts(truth: np.ndarray, bikes_small: vs.VideoNode) -> None:
    ramp = np.linspace(0.7, 1.0, truth.shape[0], dtype=np.float32)[:, None, None]
    lit = truth * ramp
    out = clip_luma(deflicker(array_clip(lit, vs.GRAYS)))
    assert psnr(out, lit) > 38.0  # a slow fade is not flicker
    other_shot = np.clip(real_luma(bikes_small, range(30, 40)) * 0.6 + 0.35, 0, 1)  # bright, other content
    cut = np.concatenate([truth[:14], other_shot])
    out = clip_luma(deflicker(array_clip(cut, vs.GRAYS)))
    assert abs(out[14].mean() - cut[14].mean()) < 0.01 and abs(out[13].mean() - cut[13].mean()) < 0.01


# ---------------------------------------------------------------------------------------------- denoise


def test_denoise_removes_grain(truth: np.ndarray) -> None:
    noisy = dg.add_grain(truth[:12], np.random.default_rng(2), sigma=0.03, size=1.5)
    out = clip_luma(denoise(array_clip(noisy, vs.GRAY16)))
    assert psnr(out, truth[:12]) > psnr(noisy, truth[:12]) + 3.0
    weak = clip_luma(denoise(array_clip(noisy, vs.GRAY16), strength=0.3))
    assert psnr(weak, truth[:12]) < psnr(out, truth[:12])


def test_denoise_luma_only_keeps_chroma(bikes_small: vs.VideoNode) -> None:
    clip = bikes_small[:6]
    out = denoise(clip, luma_only=True)
    f, g = out.get_frame(3), clip.get_frame(3)
    assert np.array_equal(np.asarray(f[1]), np.asarray(g[1])) and np.array_equal(np.asarray(f[2]), np.asarray(g[2]))
    assert not np.array_equal(np.asarray(f[0]), np.asarray(g[0]))
    assert denoise(clip, strength=0) is clip


# ---------------------------------------------------------------------------------------------- despot


def test_despot_removes_spots_and_leaves_clean_pixels(truth: np.ndarray) -> None:
    rng = np.random.default_rng(4)
    grainy = dg.add_grain(truth, rng, sigma=0.015)
    dusty, mask = dg.add_dust(grainy, rng, density=3e-4, return_mask=True)
    out_clip = despot(array_clip(dusty, vs.GRAY16))
    out = clip_luma(out_clip)
    recall, false_rate = spot_scores(out, dusty, truth, mask)
    assert recall >= 0.9 and false_rate < 0.01
    assert psnr(out, truth) > psnr(dusty, truth) + 2.0
    assert 0 < out_clip.get_frame(5).props["DespotPixels"] < 0.05


def test_despot_does_not_eat_fast_motion(bikes_small: vs.VideoNode) -> None:
    fast = real_luma(bikes_small, range(30, 40))  # after the cut: fast pan
    out = clip_luma(despot(array_clip(fast, vs.GRAY16)))
    assert np.mean(np.abs(out - fast) > 2 / 255) < 0.01


# ---------------------------------------------------------------------------------------------- sharpen


def test_sharpen_restores_blurred_detail_without_overshoot(truth: np.ndarray) -> None:
    soft = np.clip(dg.blur(truth[:4], 0.8), 0, 1)
    out = clip_luma(sharpen(array_clip(soft, vs.GRAYS), amount=1.0))
    assert psnr(out, truth[:4]) > psnr(soft, truth[:4]) + 0.5
    from scipy.ndimage import maximum_filter, minimum_filter

    assert np.all(out <= maximum_filter(soft, size=(1, 3, 3)) + 1e-6)
    assert np.all(out >= minimum_filter(soft, size=(1, 3, 3)) - 1e-6)


def test_contra_sharpen_restores_what_denoising_took_and_never_more(truth: np.ndarray) -> None:
    from vsrestore.testing.degrade import blur

    src = array_clip(truth[:4], vs.GRAYS)
    softened = array_clip(blur(truth[:4], 1.0), vs.GRAYS)  # a denoiser that also softened edges
    out = clip_luma(sharpen(softened, reference=src, amount=2.0))
    d = clip_luma(softened)
    assert psnr(out, truth[:4]) > psnr(d, truth[:4]) + 1.0
    limit = dg.blur(truth[:4], 0.85) - dg.blur(d, 0.85)  # the locally averaged removed detail
    assert np.mean(np.abs(out - d) <= np.abs(limit) + 0.01) > 0.99
    noisy = dg.add_grain(truth[:8], np.random.default_rng(6), sigma=0.03)
    nclip = array_clip(noisy, vs.GRAYS)
    den = denoise(nclip)
    clip_luma(den)
    grainy_back = clip_luma(sharpen(den, reference=nclip, amount=1.0))
    assert psnr(grainy_back, truth[:8]) > psnr(noisy, truth[:8]) + 3.0  # grain is not brought back


# ---------------------------------------------------------------------------------------------- regrain


def test_regrain_strength_size_and_determinism(truth: np.ndarray) -> None:
    flat = np.full((4, 128, 128), 0.5, np.float32)
    src = array_clip(flat, vs.GRAYS)
    a = clip_luma(regrain(src, strength=0.04, size=1.0)) - 0.5
    assert abs(a.std() - 0.04) < 0.004
    b = clip_luma(regrain(src, strength=0.04, size=3.0)) - 0.5
    assert abs(b.std() - 0.04) < 0.008

    def neighbour_corr(x: np.ndarray) -> float:
        return float(np.corrcoef(x[:, :, 1:].ravel(), x[:, :, :-1].ravel())[0, 1])

    assert neighbour_corr(b) > neighbour_corr(a) + 0.3
    again = clip_luma(regrain(src, strength=0.04, size=1.0), [3, 1, 2, 0])
    assert np.array_equal(again[0] - 0.5, a[3])
    other = clip_luma(regrain(src, strength=0.04, size=1.0, seed=7)) - 0.5
    assert not np.allclose(other, a)
    assert not np.allclose(a[0], a[1])


# ---------------------------------------------------------------------------------------------- chain


def test_default_chain_moves_old_film_towards_truth(truth: np.ndarray) -> None:
    t = truth[:16]
    lo, hi = robust_levels(t)
    target = np.clip((t - lo) / (hi - lo), 0, 1)
    look = dg.FilmLook(scratches=0.0, weave=0.0, vignette=0.0)
    old = dg.film_look(target, np.random.default_rng(8), look)
    clip = array_clip(old, vs.YUV420P16)
    out = enhance(clip)
    assert out.format.id == clip.format.id
    y = clip_luma(out)
    assert psnr(y, target) > psnr(old, target) + 3.0


def test_chain_with_upscale_and_grain_keeps_format(bikes_small: vs.VideoNode) -> None:
    gray = core.resize.Point(core.std.ShufflePlanes(bikes_small[:6], 0, vs.GRAY), format=vs.GRAYS)
    out = enhance(gray, upscale=2, upscale_method="nnedi3", grain=0.01)
    assert out.format.id == vs.GRAYS and (out.width, out.height) == (2 * gray.width, 2 * gray.height)
    assert out.get_frame(3).props["RegrainStrength"] == 0.01
    with pytest.raises(vs.Error, match="accepted families"):
        enhance(core.resize.Bicubic(bikes_small[:6], format=vs.RGB24, matrix_in_s="709"))
