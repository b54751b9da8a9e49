"""Test and benchmark helpers for the enhancement steps: numpy <-> clip, and quality measures.

* :func:`array_clip` turns (T, H, W) luma in 0..1 into a real VapourSynth clip (GRAY/YUV, any depth), so
  degradations of known truth from :mod:`vsrestore.testing.degrade` can be fed to the filters;
* :func:`clip_luma` reads plane 0 back as float32 (T, H, W) in 0..1;
* :func:`psnr`, :func:`ssim`, :func:`flicker_index`, :func:`spot_scores` measure the results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import vapoursynth as vs
from scipy.ndimage import binary_dilation, gaussian_filter

from ..core.planes import frame_to_array, plane_view

__all__ = ["array_clip", "clip_luma", "flicker_index", "psnr", "real_luma", "spot_scores", "ssim"]

core = vs.core


def array_clip(frames: np.ndarray, fmt: int | vs.PresetVideoFormat = vs.GRAYS, fps: int = 24) -> vs.VideoNode:
    """A clip whose plane 0 is ``frames`` (T, H, W) in 0..1; chroma (if any) is neutral grey.

    Integer formats get the values rounded to their depth (full-range scaling: 0..1 -> 0..2**bits-1).
    """
    arr = np.ascontiguousarray(np.clip(frames, 0.0, 1.0), dtype=np.float32)
    t, h, w = arr.shape
    blank = core.std.BlankClip(width=w, height=h, format=vs.GRAYS, length=t, fpsnum=fps, fpsden=1)

    def put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        np.copyto(plane_view(fout, 0), arr[n])
        return fout

    gray = core.std.ModifyFrame(blank, blank, put)
    target = core.get_video_format(fmt)
    if target.color_family == vs.GRAY:
        return core.resize.Point(gray, format=target.id, dither_type="none", range=1)
    if target.color_family != vs.YUV:
        raise ValueError("array_clip: fmt must be a GRAY or YUV format")
    y = core.resize.Point(gray, format=target.replace(color_family=vs.GRAY, subsampling_w=0, subsampling_h=0).id,
                          dither_type="none", range=1)
    cw, ch = w >> target.subsampling_w, h >> target.subsampling_h
    neutral = 0.0 if target.sample_type == vs.FLOAT else float(1 << (target.bits_per_sample - 1))
    uv = core.std.BlankClip(y, width=cw, height=ch, color=[neutral])
    return core.std.ShufflePlanes([y, uv, uv], [0, 0, 0], vs.YUV)


def clip_luma(clip: vs.VideoNode, frames: Sequence[int] | None = None) -> np.ndarray:
    """Plane 0 of the clip's frames as float32 (T, H, W); integer samples scaled to 0..1."""
    idx = range(clip.num_frames) if frames is None else frames
    return np.stack([frame_to_array(clip.get_frame(i), [0])[0] for i in idx])


def real_luma(clip: vs.VideoNode, frames: Sequence[int] | None = None) -> np.ndarray:
    """Luma of real footage (e.g. YUV420P8 limited range) as full-range float32 (T, H, W) in 0..1."""
    gray = core.resize.Point(core.std.ShufflePlanes(clip, 0, vs.GRAY), format=vs.GRAYS, range_in=0, range=1)
    return clip_luma(gray, frames)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """PSNR in dB over all samples."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 10.0 * np.log10(peak * peak / max(mse, 1e-12))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Gaussian window sigma 1.5, values in 0..1), averaged over frames of (T, H, W) or (H, W)."""
    x = np.asarray(a, np.float64)
    y = np.asarray(b, np.float64)
    if x.ndim == 2:
        x, y = x[None], y[None]
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for xi, yi in zip(x, y, strict=True):
        mx, my = gaussian_filter(xi, 1.5), gaussian_filter(yi, 1.5)
        sxx = gaussian_filter(xi * xi, 1.5) - mx * mx
        syy = gaussian_filter(yi * yi, 1.5) - my * my
        sxy = gaussian_filter(xi * yi, 1.5) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(float(m[5:-5, 5:-5].mean()))
    return float(np.mean(vals))


def flicker_index(frames: np.ndarray, truth: np.ndarray | None = None, blocks: int = 4) -> float:
    """Frame-to-frame brightness jitter: mean |second temporal difference| of block-mean luma (0..1 units).

    Block means over a ``blocks`` x ``blocks`` grid catch global and slowly varying flicker. With ``truth``,
    the truth's own brightness changes (real motion and lighting) are subtracted first, so the index measures
    only what the film damage added.
    """
    def block_means(f: np.ndarray) -> np.ndarray:
        t, h, w = f.shape
        hb, wb = h // blocks * blocks, w // blocks * blocks
        return f[:, :hb, :wb].reshape(t, blocks, hb // blocks, blocks, wb // blocks).mean(axis=(2, 4))

    m = block_means(np.asarray(frames, np.float64))
    if truth is not None:
        m = m - block_means(np.asarray(truth, np.float64))
    d2 = m[2:] - 2 * m[1:-1] + m[:-2]
    return float(np.mean(np.abs(d2)) / 2.0)


def spot_scores(
    out: np.ndarray, damaged: np.ndarray, truth: np.ndarray, mask: np.ndarray, visible: float = 0.1,
    changed: float = 2.0 / 255.0,
) -> tuple[float, float]:
    """(recall, false_change_rate) of a spot remover.

    recall: share of planted spots (connected blobs of the mask, per frame) that were visible (some pixel off
    the truth by more than ``visible``) and whose visible damage was at least halved on average.
    false_change_rate: share of clean pixels (farther than 2 px from any spot) changed by more than ``changed``.
    """
    from scipy.ndimage import label

    found = total = 0
    for t in range(mask.shape[0]):
        lab, n = label(mask[t])
        for i in range(1, n + 1):
            sel = lab == i
            err_in = np.abs(damaged[t][sel] - truth[t][sel])
            if err_in.max() <= visible:
                continue
            total += 1
            err_out = np.abs(out[t][sel] - truth[t][sel])
            if err_out.mean() <= 0.5 * err_in.mean():
                found += 1
    near = binary_dilation(mask, iterations=2, structure=np.ones((1, 3, 3), bool))
    clean = ~near
    false = float(np.mean(np.abs(out[clean] - damaged[clean]) > changed))
    return (found / total if total else 1.0), false
