"""Dynamic-range normalisation: the film's black to black and white to white, steadily over time.

Levels are measured per frame as robust percentiles of a small copy of the luma
(:func:`vsrestore.core.levels.robust_levels`, shared with the decimator's metrics), then smoothed over a window
of neighbouring frames with Gaussian weights, so that a flickering print does not make the stretch pump. The
stretch itself (:func:`vsrestore.core.levels.apply_levels`) is followed by a smooth tone curve: tones beyond
the measured levels are not clipped flat but rolled off into the last ``knee`` of the range, so highlights and
shadows keep their gradations. Everything is computed in 32-bit float and written back at the clip's depth.

Each output frame n depends only on source frames n-radius..n+radius, so any request order gives the same
result.
"""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from ..core.bridge import shifted
from ..core.levels import apply_levels, robust_levels
from ..core.planes import frame_to_array, plane_view
from ._common import check_input, check_int, check_range, small_gray

__all__ = ["measure_levels", "normalize", "tone_curve"]

core = vs.core

PROP_RAW_BLACK = "NormRawBlack"
PROP_RAW_WHITE = "NormRawWhite"


def _luma_small(clip: vs.VideoNode, width: int) -> vs.VideoNode:
    fmt = clip.format
    assert fmt is not None
    w = min(width, clip.width)
    h = max(8, round(clip.height * w / clip.width))
    return small_gray(clip, w, h)


def measure_levels(clip: vs.VideoNode, low: float = 0.5, high: float = 99.5, width: int = 320) -> vs.VideoNode:
    """A small GRAYS clip whose frames carry the raw per-frame levels of ``clip``'s luma.

    Props: ``NormRawBlack``, ``NormRawWhite``: the ``low``/``high`` percentiles of frame n, in luma units
    0..1 of the clip's sample range (integer samples divided by 2**bits - 1).
    """
    small = _luma_small(clip, width)

    def measure(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        black, white = robust_levels(plane_view(f, 0), low, high)
        fout = f.copy()
        fout.props[PROP_RAW_BLACK] = black
        fout.props[PROP_RAW_WHITE] = white
        return fout

    return core.std.ModifyFrame(small, small, measure)


def tone_curve(u: np.ndarray, knee: float) -> np.ndarray:
    """Map stretched values u (black at 0, white at 1, tones beyond down to -knee and up to 1+knee) into 0..1.

    Identity on [knee, 1-knee]; below and above, a quadratic roll-off with matching slope, reaching 0 at
    u = -knee and 1 at u = 1 + knee (C1-smooth, monotonic: no banding, no hard clip). knee=0 is a plain clip.
    """
    if knee <= 0:
        return np.clip(u, 0.0, 1.0).astype(np.float32)
    span = 2.0 * knee
    d_lo = np.clip(knee - u, 0.0, span)
    d_hi = np.clip(u - (1.0 - knee), 0.0, span)
    # below the knee: knee - g(d); above: 1 - knee + g(d); g(d) = d - d^2 / (2 span): g'(0) = 1, g(span) = knee
    out = np.where(u < knee, knee - (d_lo - d_lo * d_lo / (2 * span)), u)
    out = np.where(u > 1.0 - knee, 1.0 - knee + (d_hi - d_hi * d_hi / (2 * span)), out)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def normalize(
    clip: vs.VideoNode,
    *,
    low: float = 0.5,
    high: float = 99.5,
    radius: int = 24,
    knee: float = 0.03,
    full_range: bool | None = None,
    chroma: bool = True,
    measure_width: int = 320,
) -> vs.VideoNode:
    """Stretch the film's levels to the full range, with levels smoothed over time and a soft tone curve.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float. Format and depth are kept.
    :param low, high: percentiles (0..100) taken as the film's black and white in each frame; the defaults
        ignore the darkest and brightest 0.5% (dust, scratches, sprocket glare).
    :param radius: frames on each side over which levels are averaged (Gaussian weights, sigma = radius/2);
        0 measures each frame alone (pumps with flicker; use deflicker for flicker instead).
    :param knee: share of the range (0..0.25) at each end into which tones beyond the measured levels are
        rolled off smoothly instead of being clipped; 0 clips hard.
    :param full_range: target range for integer YUV: False maps black/white to 16/235 (scaled to the bit
        depth), True to 0/peak; None follows each frame's ``_Range`` prop (limited when absent). GRAY,
        RGB and float clips always use the full range.
    :param chroma: YUV only: scale chroma around neutral by the same gain as luma (keeps the tint of a
        toned print in proportion). False leaves chroma untouched.
    :param measure_width: the luma is measured on a copy this wide (pixels), for speed.
    :returns: the normalised clip. Frame props: ``NormBlack``, ``NormWhite`` (smoothed levels in 0..1 of the
        sample range that were mapped to black and white), ``NormGain`` (the luma gain applied).
    """
    func = "vsrestore.normalize"
    clip = check_input(clip, func)
    check_range(func, "low", low, 0.0, 49.9)
    check_range(func, "high", high, 50.1, 100.0)
    check_int(func, "radius", radius, 0, 500)
    check_range(func, "knee", knee, 0.0, 0.25)
    check_int(func, "measure_width", measure_width, 16, 8192)
    fmt = clip.format
    assert fmt is not None
    yuv_int = fmt.color_family == vs.YUV and fmt.sample_type == vs.INTEGER
    peak_i = (1 << fmt.bits_per_sample) - 1
    limited_levels = ((16 << (fmt.bits_per_sample - 8)) / peak_i, (235 << (fmt.bits_per_sample - 8)) / peak_i)

    def targets(props: vs.FrameProps) -> tuple[float, float]:
        if not yuv_int:
            return 0.0, 1.0
        full = full_range if full_range is not None else int(props.get("_Range", vs.RANGE_LIMITED)) == vs.RANGE_FULL
        return (0.0, 1.0) if full else limited_levels

    meas = measure_levels(clip, low, high, measure_width)
    offsets = list(range(-radius, radius + 1))
    sources = [shifted(meas, k) for k in offsets]
    sigma = max(radius / 2.0, 0.5)
    weights = np.exp(-0.5 * (np.asarray(offsets, dtype=np.float64) / sigma) ** 2)
    nframes = clip.num_frames
    is_yuv = fmt.color_family == vs.YUV
    is_int = fmt.sample_type == vs.INTEGER
    neutral = (1 << (fmt.bits_per_sample - 1)) / ((1 << fmt.bits_per_sample) - 1) if is_int else 0.0

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out_lo, out_hi = targets(f[0].props)
        valid = [i for i, k in enumerate(offsets) if 0 <= n + k < nframes]
        w = weights[valid]
        blacks = np.array([f[1 + i].props[PROP_RAW_BLACK] for i in valid], dtype=np.float64)
        whites = np.array([f[1 + i].props[PROP_RAW_WHITE] for i in valid], dtype=np.float64)
        black = float(np.dot(w, blacks) / w.sum())
        white = max(float(np.dot(w, whites) / w.sum()), black + 1e-3)
        # stretch with room for tones `knee` beyond the levels, then roll them off smoothly into 0..1
        ext = knee * (white - black)
        fout = f[0].copy()
        planes = [0, 1, 2] if fmt.color_family == vs.RGB else [0]
        for p in planes:
            x = frame_to_array(f[0], [p])[0]
            u = apply_levels(x, black - ext, white + ext, out_black=-knee, out_white=1.0 + knee)
            y = out_lo + (out_hi - out_lo) * tone_curve(u, knee)
            _write_plane(fout, p, y, is_int, fmt.bits_per_sample)
        gain = (out_hi - out_lo) / (white - black)
        if is_yuv and chroma and fmt.num_planes == 3:
            for p in (1, 2):
                c = frame_to_array(f[0], [p])[0]
                y = np.clip(neutral + (c - neutral) * np.float32(gain), neutral - 0.5, neutral + 0.5)
                _write_plane(fout, p, y, is_int, fmt.bits_per_sample)
        props = fout.props
        props["NormBlack"] = black
        props["NormWhite"] = white
        props["NormGain"] = gain
        return fout

    return core.std.ModifyFrame(clip, [clip, *sources], apply)


def _write_plane(frame: vs.VideoFrame, p: int, values: np.ndarray, is_int: bool, bits: int) -> None:
    dst = plane_view(frame, p)
    if is_int:
        peak = (1 << bits) - 1
        np.copyto(dst, np.clip(np.rint(values * peak), 0, peak), casting="unsafe")
    else:
        np.copyto(dst, values, casting="same_kind")
