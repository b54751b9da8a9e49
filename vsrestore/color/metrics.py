"""Measures of colorization quality used by the benchmark and the tests.

* :func:`chroma_psnr`: PSNR of the (Cb, Cr) planes against the truth, float chroma (peak-to-peak 1.0).
* :func:`colourfulness`: Hasler & Suesstrunk's colourfulness M of an RGB picture (0..255 units; about 15 is
  "slightly colourful", 33 "moderately", 45 "averagely", 59 "quite").
* :func:`compensated_flicker`: mean absolute frame-to-frame chroma change after motion compensation (vectors
  from a given luma, so all methods are measured along the same motion; only where the compensated luma
  matches), in float chroma units x 255.
* :func:`colour_distribution_consistency`: CDC of the NTIRE 2023 video-colourisation challenge: the
  Jensen-Shannon divergence between the per-channel colour histograms of frames 1, 2 and 4 apart, averaged
  (smaller is steadier; unlike chroma PSNR it does not reward grey, whose histograms are the luma's).
"""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from .stabilize import MotionSettings, box_mean

__all__ = [
    "chroma_psnr",
    "colour_distribution_consistency",
    "colourfulness",
    "compensated_flicker",
    "uv_planes",
]

core = vs.core


def uv_planes(frame: vs.VideoFrame) -> np.ndarray:
    """(2, H, W) float32 chroma of a YUV444PS frame."""
    return np.stack([np.asarray(frame[1], dtype=np.float32), np.asarray(frame[2], dtype=np.float32)])


def chroma_psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of float chroma arrays (-0.5..0.5, so the peak-to-peak range is 1)."""
    mse = float(np.mean((np.asarray(pred, np.float64) - np.asarray(truth, np.float64)) ** 2))
    return float(10.0 * np.log10(1.0 / max(mse, 1e-12)))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of (..., 3) RGB in 0..1."""
    r, g, b = (np.asarray(rgb, np.float64)[..., i] * 255.0 for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def compensated_flicker(
    luma: vs.VideoNode, chroma: vs.VideoNode, frames: range | None = None, luma_tol: float = 0.02
) -> float:
    """Mean |UV(n) - compensated UV(n-1)| x 255 over ``frames`` (default all but the first), counted only where
    the compensation worked (local 5x5 RMS luma error below ``luma_tol``, 0..1 units), so occlusions and
    vector errors do not count as flicker.

    :param luma: GRAY clip whose motion is used (e.g. the truth's luma), same size as ``chroma``.
    :param chroma: YUV444PS clip whose U/V are measured.
    """
    y16 = core.resize.Point(luma, format=vs.GRAY16, range_s="full")
    uv16 = core.resize.Point(chroma, format=vs.YUV444P16, range_s="full")
    mixed = core.std.ShufflePlanes([y16, uv16], [0, 1, 2], vs.YUV)
    ms = MotionSettings
    sup = core.mv.Super(mixed, pel=2, sharp=2, hpad=16, vpad=16)
    vec = core.mv.Analyse(
        sup, isb=False, delta=1, blksize=ms.blksize, overlap=ms.overlap, chroma=False, truemotion=True
    )
    comp = core.mv.Compensate(mixed, sup, vec, thscd1=10000, thscd2=255)
    rng = frames if frames is not None else range(1, chroma.num_frames)
    diffs = []
    for n in rng:
        a, b = mixed.get_frame(n), comp.get_frame(n)
        ya, yb = (np.asarray(fr[0], np.float32) / 65535.0 for fr in (a, b))
        ok = box_mean((ya - yb) ** 2) < luma_tol**2
        if not ok.any():
            continue
        da = [np.abs(np.asarray(a[p], np.float64) - np.asarray(b[p], np.float64))[ok].mean() for p in (1, 2)]
        diffs.append(float(np.mean(da)) / 65535.0 * 255.0)
    return float(np.mean(diffs)) if diffs else float("nan")


def _js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (natural log) of two histograms (normalised here)."""
    p = p / max(p.sum(), 1e-12)
    q = q / max(q.sum(), 1e-12)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return 0.5 * kl(p) + 0.5 * kl(q)


def colour_distribution_consistency(
    frames: list[np.ndarray], dilations: tuple[int, ...] = (1, 2, 4), bins: int = 256
) -> float:
    """CDC (NTIRE 2023 video colourisation; Kang et al., "NTIRE 2023 Video Colorization Challenge"): for each
    ``dilation`` d, the mean over frame pairs (n, n + d) and over the R, G, B channels of the Jensen-Shannon
    divergence between the two frames' ``bins``-bin histograms; then the mean over the dilations (the
    challenge's weights are equal: 1/3 each for 1, 2, 4). Smaller is more consistent over time.

    :param frames: consecutive RGB frames, (H, W, 3) in 0..1 (at least two; dilations not shorter than the
        run are skipped).
    """
    if len(frames) < 2:
        raise ValueError("colour_distribution_consistency needs at least two consecutive frames")
    hists = [
        [np.histogram(np.asarray(f)[..., c], bins=bins, range=(0.0, 1.0))[0].astype(np.float64) for c in range(3)]
        for f in frames
    ]
    per_dilation = []
    for d in dilations:
        if d >= len(frames):
            continue
        js = [_js_divergence(hists[n][c], hists[n + d][c]) for n in range(len(frames) - d) for c in range(3)]
        per_dilation.append(float(np.mean(js)))
    return float(np.mean(per_dilation))
