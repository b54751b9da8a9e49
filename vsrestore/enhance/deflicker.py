"""Flicker removal: frame-to-frame brightness changes of old prints, global and slowly varying over the frame.

Every frame is reduced to a coarse grid of block means of its luma. For frame n, a reference grid is the
Gaussian-weighted mean of the grids of frames n-radius..n+radius that lie in the same shot (the window stops
at scene cuts, found where consecutive grids stop being correlated). A brightness model

    reference ~= (gain + tilt_x * x + tilt_y * y) * current + offset

(x, y in -0.5..0.5 across the frame) is fitted by robustly reweighted least squares over the grid cells, so
cells where something moves get little weight, and applied to the full-resolution luma. Real lighting changes
slower than the window survive; flicker, which changes from one frame to the next, is removed.

Each output frame depends only on source frames n-radius..n+radius: any request order gives the same result.
"""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from ..core.bridge import shifted
from ..core.planes import frame_to_array, plane_view
from ._common import check_input, check_int, check_range, small_gray

__all__ = ["deflicker"]

core = vs.core


def _grid_clip(clip: vs.VideoNode, cols: int, rows: int) -> vs.VideoNode:
    return small_gray(clip, cols, rows)


def _fit(cur: np.ndarray, ref: np.ndarray, xs: np.ndarray, ys: np.ndarray, iters: int = 4) -> np.ndarray:
    """Robust least squares of ref ~ (g + tx*x + ty*y) * cur + o; returns (g, tx, ty, o)."""
    a = np.stack([cur, cur * xs, cur * ys, np.ones_like(cur)], axis=1)
    w = np.ones_like(cur)
    coef = np.array([1.0, 0.0, 0.0, 0.0])
    for _ in range(iters):
        sw = np.sqrt(w)[:, None]
        reg = np.diag([1e-4, 1e-3, 1e-3, 1e-4])  # mild pull towards no change where the data says little
        lhs = (a * sw).T @ (a * sw) + reg
        rhs = (a * sw).T @ (ref * sw[:, 0]) + reg @ np.array([1.0, 0.0, 0.0, 0.0])
        coef = np.linalg.solve(lhs, rhs)
        res = ref - a @ coef
        scale = 1.4826 * float(np.median(np.abs(res))) + 1e-4
        w = 1.0 / (1.0 + (res / (2.0 * scale)) ** 2)
    return coef


def deflicker(
    clip: vs.VideoNode,
    *,
    radius: int = 8,
    strength: float = 1.0,
    grid: tuple[int, int] = (16, 12),
    cut_threshold: float = 0.6,
    max_gain: float = 2.0,
) -> vs.VideoNode:
    """Remove brightness flicker while keeping slow lighting changes and scene cuts.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float; format and depth are kept. YUV: luma is
        corrected, chroma is left as is (old films are black and white). RGB: the same correction on all
        three planes.
    :param radius: frames on each side that form the reference brightness (Gaussian weights, sigma =
        radius/2). Flicker faster than this is removed; slower changes are kept.
    :param strength: 0..1, how much of the correction is applied.
    :param grid: (columns, rows) of the block grid the brightness is measured on (>= 2x2).
    :param cut_threshold: correlation (0..1) between consecutive grids below which a scene cut is assumed;
        the reference never reaches across a cut.
    :param max_gain: the correction's gain is limited to 1/max_gain .. max_gain.
    :returns: the corrected clip. Frame props: ``DeflickerGain``, ``DeflickerOffset`` (offset in 0..1 units),
        ``DeflickerTiltX``, ``DeflickerTiltY`` (gain change across the frame), ``DeflickerFrames`` (frames in
        the reference window).
    """
    func = "vsrestore.deflicker"
    clip = check_input(clip, func)
    check_int(func, "radius", radius, 1, 200)
    check_range(func, "strength", strength, 0.0, 1.0)
    check_range(func, "cut_threshold", cut_threshold, 0.0, 1.0)
    check_range(func, "max_gain", max_gain, 1.0, 10.0)
    if not (isinstance(grid, tuple | list) and len(grid) == 2):
        raise ValueError(f"{func}: grid={grid!r} must be a (columns, rows) pair")
    cols = check_int(func, "grid[0]", grid[0], 2, 256)
    rows = check_int(func, "grid[1]", grid[1], 2, 256)
    fmt = clip.format
    assert fmt is not None
    small = _grid_clip(clip, cols, rows)
    offsets = list(range(-radius, radius + 1))
    sources = [shifted(small, k) for k in offsets]
    sigma = max(radius / 2.0, 0.5)
    weights = np.exp(-0.5 * (np.asarray(offsets, np.float64) / sigma) ** 2)
    gx = (np.arange(cols) + 0.5) / cols - 0.5
    gy = (np.arange(rows) + 0.5) / rows - 0.5
    xs = np.tile(gx, rows)
    ys = np.repeat(gy, cols)
    planes = [0, 1, 2] if fmt.color_family == vs.RGB else [0]
    is_int = fmt.sample_type == vs.INTEGER
    nframes = clip.num_frames
    center = radius
    ramps: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        a0, b0 = a - a.mean(), b - b.mean()
        den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
        return float((a0 * b0).sum() / den) if den > 1e-12 else 1.0

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        grids = [np.asarray(plane_view(fr, 0), np.float64).reshape(-1) for fr in f[1:]]
        lo, hi = center, center
        while lo > 0 and n + offsets[lo - 1] >= 0 and corr(grids[lo - 1], grids[lo]) >= cut_threshold:
            lo -= 1
        last = len(offsets) - 1
        while hi < last and n + offsets[hi + 1] < nframes and corr(grids[hi], grids[hi + 1]) >= cut_threshold:
            hi += 1
        w = weights[lo : hi + 1]
        ref = np.tensordot(w, np.stack(grids[lo : hi + 1]), axes=1) / w.sum()
        g, tx, ty, o = _fit(grids[center], ref, xs, ys) if hi > lo else (1.0, 0.0, 0.0, 0.0)
        g = float(np.clip(1.0 + strength * (g - 1.0), 1.0 / max_gain, max_gain))
        tx, ty, o = strength * tx, strength * ty, strength * o
        fout = f[0].copy()
        h, wd = plane_view(fout, 0).shape
        key = (h, wd)
        if key not in ramps:
            ramps[key] = (
                ((np.arange(wd, dtype=np.float32) + 0.5) / wd - 0.5)[None, :],
                ((np.arange(h, dtype=np.float32) + 0.5) / h - 0.5)[:, None],
            )
        rx, ry = ramps[key]
        gain_map = np.float32(g) + np.float32(tx) * rx + np.float32(ty) * ry
        for p in planes:
            x = frame_to_array(f[0], [p])[0]
            y = x * gain_map + np.float32(o)
            dst = plane_view(fout, p)
            if is_int:
                peak = (1 << fmt.bits_per_sample) - 1
                np.copyto(dst, np.clip(np.rint(y * peak), 0, peak), casting="unsafe")
            else:
                np.copyto(dst, y, casting="same_kind")
        props = fout.props
        props["DeflickerGain"] = g
        props["DeflickerOffset"] = float(o)
        props["DeflickerTiltX"] = float(tx)
        props["DeflickerTiltY"] = float(ty)
        props["DeflickerFrames"] = hi - lo + 1
        return fout

    return core.std.ModifyFrame(clip, [clip, *sources], apply)
