"""Film-like grain, added back so a cleaned film does not look plastic.

Grain is Gaussian noise blurred to the requested grain size and renormalised to the requested strength, then
shaped by the tone like grain on a print (strongest in the mid-tones, weaker in deep shadows and highlights).
It is monochrome (one grain field per frame, added to luma, or to all three planes of RGB). The noise of
frame n comes from a generator seeded with (seed, n): the same frame always gets the same grain, whatever
the order it is asked in.
"""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from ..core.planes import frame_to_array, plane_view
from ._common import check_input, check_int, check_range

__all__ = ["grain_field", "regrain"]

core = vs.core


def _kernel(size: float) -> np.ndarray | None:
    sigma = 0.5 * (size - 1.0)
    if sigma < 0.2:
        return None
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def grain_field(shape: tuple[int, int], n: int, seed: int, size: float) -> np.ndarray:
    """Unit-variance grain of the given size (pixels) for frame ``n``; deterministic in (seed, n)."""
    rng = np.random.default_rng([seed, n])
    g = rng.standard_normal(shape, dtype=np.float32)
    k = _kernel(size)
    if k is not None:
        from scipy.ndimage import correlate1d  # here: scipy's import takes a second a script need not pay

        g = correlate1d(correlate1d(g, k, axis=0, mode="reflect"), k, axis=1, mode="reflect")
        g /= np.float32(np.sum(k * k))  # std of white noise filtered by the separable kernel k x k
    return g


def regrain(
    clip: vs.VideoNode,
    *,
    strength: float = 0.02,
    size: float = 1.5,
    seed: int = 0,
    shadows: float = 0.3,
) -> vs.VideoNode:
    """Add film grain.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float; format and depth are kept. YUV: luma only.
    :param strength: grain standard deviation in the mid-tones, in 0..1 luma units (0.02 = 5 of 255); 0..0.3.
    :param size: grain size in pixels (1 = single-pixel grain; larger is coarser), 1..8.
    :param seed: changes the grain pattern; frame n always gets the grain of (seed, n).
    :param shadows: 0..1, grain in pure black/white relative to the mid-tones (film: about 0.3).
    :returns: the grained clip. Frame prop ``RegrainStrength``.
    """
    func = "vsrestore.regrain"
    clip = check_input(clip, func)
    check_range(func, "strength", strength, 0.0, 0.3)
    check_range(func, "size", size, 1.0, 8.0)
    check_range(func, "shadows", shadows, 0.0, 1.0)
    check_int(func, "seed", seed, 0, 2**63 - 1)
    if strength == 0:
        return clip
    fmt = clip.format
    assert fmt is not None
    planes = [0, 1, 2] if fmt.color_family == vs.RGB else [0]
    is_int = fmt.sample_type == vs.INTEGER
    peak = (1 << fmt.bits_per_sample) - 1 if is_int else 1

    def apply(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        g = None
        for p in planes:
            x = frame_to_array(f, [p])[0]
            if g is None:
                g = grain_field(x.shape, n, seed, size)
            amp = np.float32(strength) * (np.float32(shadows) + np.float32(4 * (1 - shadows)) * x * (1 - x))
            y = x + amp * g
            dst = plane_view(fout, p)
            if is_int:
                np.copyto(dst, np.clip(np.rint(y * peak), 0, peak), casting="unsafe")
            else:
                np.copyto(dst, np.clip(y, 0.0, 1.0), casting="same_kind")
        fout.props["RegrainStrength"] = strength
        return fout

    return core.std.ModifyFrame(clip, clip, apply)
