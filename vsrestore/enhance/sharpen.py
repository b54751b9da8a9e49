"""Halo-free sharpening: contra-sharpening against the pre-denoise source, or clamped unsharp masking.

With ``reference`` (the clip before denoising), the sharpening detail of the denoised clip is limited, pixel
by pixel, to what the denoiser removed there (locally averaged with the blur kernel, so that grain, which
averages out, is not brought back while softened edges are), and only in the same direction: it restores
lost edges and cannot exceed the (smoothed) source, so it adds no halos.
Without a reference, an unsharp mask is clamped to the 3x3 neighbourhood's minimum and maximum (plus
``overshoot``), so edges steepen without ringing beyond their own values.
"""

from __future__ import annotations

import vapoursynth as vs

from ._common import check_input, check_range

__all__ = ["sharpen"]

core = vs.core

_KERNELS = {
    1: [1, 2, 1, 2, 4, 2, 1, 2, 1],
    2: [1, 4, 6, 4, 1, 4, 16, 24, 16, 4, 6, 24, 36, 24, 6, 4, 16, 24, 16, 4, 1, 4, 6, 4, 1],
}


def sharpen(
    clip: vs.VideoNode,
    *,
    amount: float = 1.0,
    radius: int = 1,
    reference: vs.VideoNode | None = None,
    luma_only: bool = True,
    overshoot: float = 0.0,
) -> vs.VideoNode:
    """Sharpen without halos.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float; format and depth are kept.
    :param amount: 0..4, gain of the detail (clip minus its blur) added back.
    :param radius: 1 (3x3 binomial blur) or 2 (5x5): the scale of the detail that is sharpened.
    :param reference: the same clip before denoising (same format and size). When given, the added detail is
        limited to what denoising removed (contra-sharpening); when None, the result is clamped to the local
        3x3 range of the clip.
    :param luma_only: sharpen plane 0 only (GRAY/YUV); RGB always sharpens all planes.
    :param overshoot: without reference: how far (0..1 units of the sample range) the result may go beyond
        the local minimum/maximum.
    :returns: the sharpened clip.
    """
    func = "vsrestore.sharpen"
    clip = check_input(clip, func)
    check_range(func, "amount", amount, 0.0, 4.0)
    check_range(func, "overshoot", overshoot, 0.0, 0.5)
    if radius not in _KERNELS:
        raise ValueError(f"{func}: radius={radius!r} must be 1 or 2")
    fmt = clip.format
    assert fmt is not None
    if reference is not None:
        reference = check_input(reference, func)
        if reference.format is None or reference.format.id != fmt.id or (reference.width, reference.height) != (
            clip.width, clip.height
        ):
            raise vs.Error(
                f"{func}: 'reference' must have the clip's format and size ({fmt.name} {clip.width}x{clip.height})"
                f"; got {reference.format.name if reference.format else 'variable'} "
                f"{reference.width}x{reference.height}"
            )
    if amount == 0:
        return clip
    planes = [0] if luma_only and fmt.color_family != vs.RGB else list(range(fmt.num_planes))
    blurred = core.std.Convolution(clip, _KERNELS[radius], planes=planes)
    exprs = ["" for _ in range(fmt.num_planes)]
    if reference is not None:
        # d: detail to add; l: what denoising removed, locally averaged (so grain, which averages out, is not
        # brought back while softened edges are); add d only with l's sign and at most |l|
        ref_blur = core.std.Convolution(reference, _KERNELS[radius], planes=planes)
        e = f"x y - {amount} * D! z a - L! D@ L@ * 0 > D@ abs L@ abs < D@ L@ ? 0 ? x +"
        for p in planes:
            exprs[p] = e
        return core.akarin.Expr([clip, blurred, ref_blur, blurred], exprs)
    peak = 1.0 if fmt.sample_type == vs.FLOAT else float((1 << fmt.bits_per_sample) - 1)
    ov = overshoot * peak
    neigh = " ".join(f"x[{dx},{dy}]" for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    e = f"{neigh} sort9 LO! drop7 HI! x y - {amount} * x + LO@ {ov} - HI@ {ov} + clamp"
    for p in planes:
        exprs[p] = e
    return core.akarin.Expr([clip, blurred], exprs)
