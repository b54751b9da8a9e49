"""Per-frame difference metrics: how far each frame is from the frames 1..L places before it.

The luma is reduced by VapourSynth nodes (downscale to about :attr:`MetricParams.width` pixels wide with a 5x5
median in between, which removes dust specks, thin scratches and most grain, and blurs away one-pixel gate
weave), then numpy does the rest on the small planes: per-frame dynamic-range normalisation with
:func:`vsrestore.core.levels.robust_levels` in vertical strips (robust to flicker, including a left-right
tilt), and a robust mean absolute difference (large differences capped, so a leftover speck counts little).

Beside the distances, the *motion agreement* of frame n and n-k (:mod:`vsrestore.decimate.agreement`): how
much their difference correlates with the motion of the frames around them (the mean of the frames after n less
the mean of the frames before n-k). Those share no frame with the pair, so grain does not enter it: copies score
about 0, film motion above 0, even where the grain buries the motion in the distances.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import vapoursynth as vs

from vsrestore.core.levels import apply_levels, robust_levels
from vsrestore.core.progress import Progress
from vsrestore.decimate.agreement import AgreementStream

__all__ = ["MetricParams", "agreement", "block_errors", "compute_metrics", "lags_of", "reduce_clip", "split"]

core = vs.core


@dataclass(frozen=True)
class MetricParams:
    """How metrics are computed (part of the sidecar key).

    :param lags: compare each frame with the frames 1..``lags`` places before (at least 3).
    :param width: width in pixels of the reduced luma the differences are taken on (height keeps the aspect).
    :param strips: vertical strips with their own black/white levels (flicker with a left-right tilt).
    :param cap: differences above this (in normalised 0..1 units) count as this much (dust, scratches).
    :param noise_norm: divide each distance by the two frames' own noise level (estimated from the fine
        detail of the reduced frame), so grainy, dark or soft passages are judged on one scale.
    :param speck: a pixel the dust-removing median moves by more than this (0..1 units) counts as dust.
    :param block: block size in reduced pixels; ``top``: fraction of the most different blocks measured.
    :param match: before two frames are compared, give the earlier one the later one's mean and spread in each
        strip (flicker between two copies of one film frame then leaves no difference, even where the picture
        has so little contrast that its percentile levels are mostly grain).
    :param motion_corr: also measure how much the difference between frame n and n-k looks like the film's
        motion around it (:mod:`vsrestore.decimate.agreement`): grain of other frames does not enter it, so it
        shows motion far smaller than the grain.
    :param agreement_window: the agreement's reference is the mean of this many frames after n less the mean of
        this many before n-k (fewer next to a cut or an end).
    :param agreement_focus: each pixel of the agreement weighted by the local RMS of the reference's motion to
        this power (0: all pixels alike; 1: a small moving part of a still shot counts, its still rest less).
    """

    lags: int = 3
    width: int = 160
    strips: int = 4
    cap: float = 0.25
    block: int = 8
    top: float = 0.15
    speck: float = 0.08
    noise_norm: bool = False
    match: bool = True
    motion_corr: bool = True
    agreement_window: int = 5
    agreement_focus: float = 1.0


def reduce_clip(clip: vs.VideoNode, params: MetricParams = MetricParams()) -> vs.VideoNode:
    """The small, denoised GRAYS luma the metrics are computed on (a VapourSynth node)."""
    luma = clip
    assert clip.format is not None
    if clip.format.color_family == vs.YUV:
        luma = core.std.ShufflePlanes(clip, 0, vs.GRAY)
    elif clip.format.color_family == vs.RGB:
        luma = core.resize.Bilinear(clip, format=vs.GRAYS, matrix_s="709")
    w = max(16, min(params.width, clip.width))
    h = max(8, int(round(clip.height * w / clip.width / 2)) * 2)
    # half way down first (cheap), a 5x5 median there (dust up to ~5 px across at full size), then down
    mw = max(w, min(clip.width, w * 2))
    mh = max(h, min(clip.height, h * 2))
    mid = core.resize.Bilinear(luma, mw, mh, format=vs.GRAYS) if (mw, mh) != (clip.width, clip.height) else (
        core.resize.Point(luma, format=vs.GRAYS))
    med = core.zsmooth.Median(mid, radius=2)
    # small fixed caches: the full-size intermediates are used twice per frame, never again
    core.std.SetVideoCache(mid, mode=1, fixedsize=1, maxsize=8, maxhistory=8)  # changes the node in place
    core.std.SetVideoCache(med, mode=1, fixedsize=1, maxsize=8, maxhistory=8)
    small = core.resize.Bilinear(med, w, h)
    # share of pixels the median changed a lot: dust specks and scratches (for pick="cleanest")
    specks = core.std.Expr([mid, med], f"x y - abs {params.speck} > 1 0 ?")
    return core.std.CopyFrameProps(small, core.std.PlaneStats(specks), props=["PlaneStatsAverage"])


def _normalise(plane: np.ndarray, strips: int) -> np.ndarray:
    """Levels per vertical strip (interpolated across x), so every frame spans 0..1."""
    h, w = plane.shape
    n = max(1, min(strips, w // 8))
    if n == 1:
        black, white = robust_levels(plane, 1.0, 99.0)
        return apply_levels(plane, black, white)
    edges = np.linspace(0, w, n + 1).astype(int)
    centres = (edges[:-1] + edges[1:]) / 2.0
    levels = np.array([robust_levels(plane[:, edges[i] : edges[i + 1]], 1.0, 99.0) for i in range(n)],
                      dtype=np.float32)
    lo, hi = levels[:, 0], levels[:, 1]
    x = np.arange(w, dtype=np.float32)
    lo_x = np.interp(x, centres, lo).astype(np.float32)
    hi_x = np.interp(x, centres, hi).astype(np.float32)
    out = (plane - lo_x[None, :]) / np.maximum(hi_x - lo_x, 1e-3)[None, :]
    return np.clip(out, 0.0, 1.0)


def _strip_stats(plane: np.ndarray, strips: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column edges of the strips, and each strip's mean and standard deviation."""
    w = plane.shape[1]
    n = max(1, min(strips, w // 8))
    edges = np.linspace(0, w, n + 1).astype(int)
    parts = [plane[:, edges[i] : edges[i + 1]] for i in range(n)]
    return edges, np.array([p.mean() for p in parts]), np.array([p.std() for p in parts])


def _matched(prev: np.ndarray, prev_stats: tuple[np.ndarray, np.ndarray, np.ndarray],
             cur_stats: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """``prev`` with each strip's mean and spread set to ``cur``'s (a gain and an offset per strip, the gain
    within 0.5-2)."""
    edges, pm, ps = prev_stats
    _, cm, cs = cur_stats
    gain = np.clip(cs / np.maximum(ps, 1e-4), 0.5, 2.0)
    col_gain = np.repeat(gain, np.diff(edges)).astype(np.float32)
    col_off = np.repeat(cm - gain * pm, np.diff(edges)).astype(np.float32)
    return prev * col_gain[None, :] + col_off[None, :]


def block_errors(a: np.ndarray, b: np.ndarray, cap: float, block: int) -> np.ndarray | None:
    """Mean squared difference (each pixel's capped at ``cap``) of every ``block`` x ``block`` block, flat; None
    where the planes hold no whole block."""
    d = np.abs(a - b)
    np.minimum(d, cap, out=d)
    d *= d
    hb, wb = d.shape[0] // block, d.shape[1] // block
    if hb == 0 or wb == 0:
        return None
    return d[: hb * block, : wb * block].reshape(hb, block, wb, block).mean(axis=(1, 3)).reshape(-1)


def _distance(a: np.ndarray, b: np.ndarray, cap: float, block: int, top: float) -> tuple[float, float]:
    """RMS difference of the ``top`` fraction of ``block`` x ``block`` blocks that differ most, and over all.

    Motion shows in some blocks; grain in all of them: the top blocks separate the two even when little moves,
    the whole frame averages strong grain away (and does not see a lone moving object).
    """
    bm = block_errors(a, b, cap, block)
    if bm is None:
        d = np.minimum(np.abs(a - b), cap)
        v = float(np.sqrt((d * d).mean()))
        return v, v
    k = max(1, int(round(bm.size * top)))
    return float(np.sqrt(np.partition(bm, bm.size - k)[bm.size - k :].mean())), float(np.sqrt(bm.mean()))


def _noise(plane: np.ndarray) -> float:
    """Robust noise level of a plane: the median absolute second difference, scaled (grain, not edges)."""
    lap = 4.0 * plane[1:-1, 1:-1] - plane[:-2, 1:-1] - plane[2:, 1:-1] - plane[1:-1, :-2] - plane[1:-1, 2:]
    return float(np.median(np.abs(lap))) * 1.4826 / np.sqrt(20.0) + 1e-4


def lags_of(m: np.ndarray) -> int:
    """How many lags :func:`compute_metrics`'s array (N, 3 * lags + 1) holds."""
    return (m.shape[1] - 1) // 3


def split(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-block and whole-frame distances (N, lags) each and the noise (N,) of :func:`compute_metrics`'s
    array (N, 3 * lags + 1)."""
    lags = lags_of(m)
    return m[:, :lags], m[:, lags : 2 * lags], m[:, 2 * lags]


def agreement(m: np.ndarray) -> np.ndarray:
    """The motion agreements (N, lags) of :func:`compute_metrics`'s array (NaN where not measured)."""
    lags = lags_of(m)
    return m[:, 2 * lags + 1 : 3 * lags + 1]


def compute_metrics(
    clip: vs.VideoNode, params: MetricParams = MetricParams(), *, progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Distances between frame n and frame n-k for k = 1..lags, each frame's noise and the motion agreements,
    shape (N, 3 * lags + 1), float64, and the dust score of every frame (share of its pixels covered by specks),
    shape (N,).

    ``m[n, k-1]`` is the RMS difference of normalised luma (0..1 units, capped per pixel at ``params.cap``) over
    the most different blocks; ``m[n, lags + k-1]`` the same over the whole frame; ``m[n, 2 * lags]`` the frame's
    own noise (grain and compression left in the reduced picture, :func:`_noise`): two copies of one film frame
    differ by about that much; ``m[n, 2 * lags + k]`` the motion agreement of frame n and n-k
    (:func:`~vsrestore.decimate.agreement.motion_agreement`, -1..1; NaN where ``params.motion_corr`` is off, the
    pair spans a cut or too few frames are left around it for a reference). Entries with n-k < 0 are NaN. Frames are
    read once, in order, through the reduced node (memory: about ``lags + 2 * agreement_window + 7`` small
    planes).
    """
    small = reduce_clip(clip, params)
    n = small.num_frames
    lags = params.lags
    m = np.full((n, 3 * lags + 1), np.nan, dtype=np.float64)
    dust = np.zeros(n, dtype=np.float64)
    hist: deque[np.ndarray] = deque(maxlen=lags)
    noise: deque[float] = deque(maxlen=lags)
    stats: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(maxlen=lags)
    stream = AgreementStream(n, lags, params.agreement_window, params.agreement_focus, params.cap)

    with Progress(n, "vsrestore.decimate: analysing", enabled=progress) as bar:
        for i, f in enumerate(small.frames(close=True)):
            cur = _normalise(np.array(f[0], dtype=np.float32), params.strips)
            nz = _noise(cur)
            m[i, 2 * lags] = nz
            st = _strip_stats(cur, params.strips)
            for k, (prev, pn, ps) in enumerate(zip(reversed(hist), reversed(noise), reversed(stats), strict=True),
                                               start=1):
                if params.match:
                    prev = _matched(prev, ps, st)
                d_top, d_all = _distance(cur, prev, params.cap, params.block, params.top)
                scale = 1.0 / np.sqrt(nz * nz + pn * pn) if params.noise_norm else 1.0
                m[i, k - 1] = d_top * scale
                m[i, lags + k - 1] = d_all * scale
            if params.motion_corr:
                edges, mean, sd = st
                col_mean = np.repeat(mean, np.diff(edges)).astype(np.float32)
                col_sd = np.repeat(np.maximum(sd, 1e-4), np.diff(edges)).astype(np.float32)
                stream.push(i, (cur - col_mean) / col_sd, col_sd, m[i, lags])
            hist.append(cur)
            noise.append(nz)
            stats.append(st)
            dust[i] = float(f.props.get("PlaneStatsAverage", 0.0))  # type: ignore[arg-type]
            if i % 16 == 0 and i < n - 1:
                bar.update(i + 1)
        if params.motion_corr:
            m[:, 2 * lags + 1 :] = stream.finish()
        bar.done = n  # the closing line reports the whole pass
    return m, dust
