"""Motion-compensated temporal denoising (grain and noise) on mvtools: vsrestore's own MDegrain chain.

Vectors are searched on a softened copy (median + Gaussian, so grain and dust do not steer them) with 16x16
blocks overlapping by 8, refined at 8x8, at sub-pixel precision; then each pixel is averaged with its
motion-compensated neighbours at distances 1..``tr`` (``mv.Degrain1..3``), weighted by how well their blocks
match. ``strength`` sets the block-match threshold: how different a neighbour may be and still be averaged.
The clip is processed at 16-bit and returned at its own depth.
"""

from __future__ import annotations

import vapoursynth as vs

from ._common import LUMA_FAMILIES, as_int16, back_to, check_input, check_int, check_range
from ._motion import Motion, MotionSettings, search

__all__ = ["denoise", "degrain"]

core = vs.core

#: block-match threshold (mvtools thsad, per 8x8 block at 8-bit scale) at strength 1.0
BASE_THSAD = 700


def degrain(clip16: vs.VideoNode, motion: Motion, *, thsad: int, thsadc: int, plane: int) -> vs.VideoNode:
    """Run mv.Degrain<tr> on a 16-bit clip with ready vectors."""
    tr = len(motion.vectors)
    args: list[vs.VideoNode] = []
    for bw, fw in motion.vectors:
        args += [bw, fw]
    fn = {1: core.mv.Degrain1, 2: core.mv.Degrain2, 3: core.mv.Degrain3}[tr]
    return fn(clip16, motion.render_super, *args, thsad=thsad, thsadc=thsadc, plane=plane, thscd1=400,
              thscd2=130)


def denoise(
    clip: vs.VideoNode,
    *,
    strength: float = 1.0,
    tr: int = 2,
    luma_only: bool = False,
    blksize: int = 16,
    pel: int = 2,
    prefilter: bool = True,
    motion: Motion | None = None,
) -> vs.VideoNode:
    """Remove grain and noise by averaging each frame with its motion-compensated neighbours.

    :param clip: GRAY or YUV, 8-16 bit integer or float (processed at 16-bit; format and depth kept).
        RGB is refused: convert to YUV first.
    :param strength: 0..4; 1.0 suits medium film grain. 0 returns the clip unchanged. Scales the block-match
        threshold (mvtools thsad = 700 * strength; chroma uses 60% of it).
    :param tr: temporal radius, 1..3 frames on each side (Degrain1..3); more is smoother and slower.
    :param luma_only: denoise only luma (plane 0); chroma is passed through.
    :param blksize: motion search block size (8, 16 or 32 pixels); refined at half the size.
    :param pel: sub-pixel search precision: 1, 2 or 4.
    :param prefilter: search vectors on a softened copy (recommended for grainy film).
    :param motion: vectors from :func:`vsrestore.enhance._motion.search` to reuse (must match ``tr`` and the
        clip at 16-bit); None searches them here.
    :returns: the denoised clip, same format.
    """
    func = "vsrestore.denoise"
    clip = check_input(clip, func, LUMA_FAMILIES)
    check_range(func, "strength", strength, 0.0, 4.0)
    check_int(func, "tr", tr, 1, 3)
    if blksize not in (8, 16, 32):
        raise ValueError(f"{func}: blksize={blksize!r} must be 8, 16 or 32")
    if pel not in (1, 2, 4):
        raise ValueError(f"{func}: pel={pel!r} must be 1, 2 or 4")
    if min(clip.width, clip.height) < 2 * blksize:
        raise vs.Error(f"{func}: 'clip' is {clip.width}x{clip.height}; it must be at least {2 * blksize} pixels "
                       f"on each side for blksize={blksize} (pass a smaller blksize)")
    if strength == 0:
        return clip
    fmt = clip.format
    assert fmt is not None
    c16 = as_int16(clip)
    if motion is None:
        motion = search(c16, tr, MotionSettings(blksize=blksize, overlap=blksize // 2, pel=pel, prefilter=prefilter))
    elif len(motion.vectors) != tr:
        raise ValueError(f"{func}: motion has {len(motion.vectors)} vector pairs but tr={tr}")
    gray = fmt.color_family == vs.GRAY
    plane = 0 if (luma_only or gray) else 4
    thsad = max(1, round(BASE_THSAD * strength))
    out = degrain(c16, motion, thsad=thsad, thsadc=max(1, round(0.6 * thsad)), plane=plane)
    return back_to(out, fmt)
