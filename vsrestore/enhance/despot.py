"""Dust, dirt and short scratches: defects present in one frame only, filled from the neighbouring frames.

The previous and the next frame are motion-compensated onto frame n (mvtools, vectors searched on a softened
copy so the specks themselves do not steer them). A pixel is a spot when it is darker (or brighter) than
*both* compensated neighbours by more than ``threshold`` while the two neighbours agree with each other
within ``agree`` (3x3 average of their difference): a speck is in this frame only, whereas real content is
in the neighbours too. Detections that crowd a 15x15 window are motion, not dust, and are dropped. Where the
neighbours disagree (fast motion, occlusion, bad vectors) nothing is touched, which is what keeps fast
motion from being eaten. The detected mask is grown by ``grow`` pixels (within agreeing areas) to take the
speck's soft rim too, and filled with the mean of the compensated neighbours.
"""

from __future__ import annotations

import vapoursynth as vs

from ._common import LUMA_FAMILIES, as_int16, back_to, check_input, check_int, check_range
from ._motion import MotionSettings, search

__all__ = ["despot"]

core = vs.core


def despot(
    clip: vs.VideoNode,
    *,
    threshold: float = 0.08,
    agree: float = 0.07,
    grow: int = 1,
    blksize: int = 16,
    pel: int = 2,
    show_mask: bool = False,
) -> vs.VideoNode:
    """Remove dust and dirt specks that appear in a single frame.

    :param clip: GRAY or YUV, 8-16 bit integer or float; format and depth are kept. Detection and repair
        are on luma; chroma is passed through (B&W film carries no chroma detail). RGB is refused.
    :param threshold: how much darker or brighter than both motion-compensated neighbours a pixel must be
        to count as a speck, in 0..1 luma units (0.08 = 20 of 255).
    :param agree: the two compensated neighbours must agree within this (0..1 units; their absolute
        difference averaged over 3x3 pixels, so grain does not count), else the pixel is left alone (motion
        the vectors could not follow).
    :param grow: pixels by which each detected speck is widened to take its rim (0..4).
    :param blksize: motion search block size (4, 8, 16 or 32); refined at half the size.
    :param pel: sub-pixel search precision: 1, 2 or 4.
    :param show_mask: return the spot mask (GRAY, white where repaired) instead of the repaired clip.
    :returns: the repaired clip (same format), or the mask. Frame prop ``DespotPixels``: share of the frame's
        luma pixels that were replaced (0..1).
    """
    func = "vsrestore.despot"
    clip = check_input(clip, func, LUMA_FAMILIES)
    check_range(func, "threshold", threshold, 0.005, 1.0)
    check_range(func, "agree", agree, 0.0, 1.0)
    check_int(func, "grow", grow, 0, 4)
    if blksize not in (4, 8, 16, 32):
        raise ValueError(f"{func}: blksize={blksize!r} must be 4, 8, 16 or 32")
    if pel not in (1, 2, 4):
        raise ValueError(f"{func}: pel={pel!r} must be 1, 2 or 4")
    if min(clip.width, clip.height) < 2 * blksize:
        raise vs.Error(f"{func}: 'clip' is {clip.width}x{clip.height}; too small for blksize={blksize}")
    fmt = clip.format
    assert fmt is not None
    c16 = as_int16(clip)
    y16 = core.std.ShufflePlanes(c16, 0, vs.GRAY) if fmt.color_family == vs.YUV else c16
    if clip.num_frames < 3:
        raise vs.Error(f"{func}: 'clip' has {clip.num_frames} frames; at least 3 are needed")
    motion = search(y16, 2, MotionSettings(blksize=blksize, overlap=blksize // 2, pel=pel))
    sup = motion.render_super
    (bw, fw), (bw2, fw2) = motion.vectors
    nxt = core.mv.Compensate(y16, sup, bw, thscd1=10000)
    prv = core.mv.Compensate(y16, sup, fw, thscd1=10000)
    # the first and last frames have one neighbour only: compare them with the two frames on that side
    last = clip.num_frames - 1
    nxt2 = core.mv.Compensate(y16, sup, bw2, thscd1=10000)
    prv2 = core.mv.Compensate(y16, sup, fw2, thscd1=10000)
    prv = nxt2[0] + prv[1:]
    nxt = nxt[:last] + prv2[last]
    th = round(threshold * 65535)
    ag = round(agree * 65535)
    # x: current, y: previous compensated, z: next compensated -> 65535 where x is a one-frame speck
    # neighbours' disagreement, averaged over 3x3 so that grain does not make them look different
    diff = core.std.BoxBlur(core.akarin.Expr([prv, nxt], "x y - abs"), hradius=1, vradius=1)
    det = core.akarin.Expr(
        [y16, prv, nxt, diff],
        f"y z min LO! y z max HI! a {ag} <= AG! "
        f"LO@ x - {th} > x HI@ - {th} > or AG@ and 65535 0 ?",
    )
    # specks are small: where detections crowd a 15x15 window (> 35%), it is motion, not dust
    crowd = core.std.BoxBlur(det, hradius=7, vradius=7)
    det = core.akarin.Expr([det, crowd], f"y {round(0.35 * 65535)} < x 0 ?")
    agree_mask = core.akarin.Expr([diff], f"x {2 * ag} <= 65535 0 ?")
    mask = det
    for _ in range(grow):
        mask = core.std.Maximum(mask)
    if grow:
        # the rim: grown pixels where the neighbours agree and the pixel is off their mean by a third of threshold
        rim = round(threshold * 65535 / 3)
        mask = core.akarin.Expr([y16, prv, nxt, mask, agree_mask, det],
                                f"a 0 > b 0 > and x y z + 2 / - abs {rim} > and c 0 > or 65535 0 ?")
    fixed = core.akarin.Expr([y16, prv, nxt, mask], "a 0 > y z + 2 / x ?")
    if show_mask:
        return mask
    stats = core.std.PlaneStats(mask, prop="DespotStats")
    fixed = core.std.CopyFrameProps(fixed, stats, props=["DespotStatsAverage"])
    fixed = core.akarin.PropExpr(fixed, lambda: {"DespotPixels": "x.DespotStatsAverage", "DespotStatsAverage": ""})
    out16 = core.std.ShufflePlanes([fixed, c16], [0, 1, 2], vs.YUV) if fmt.color_family == vs.YUV else fixed
    out16 = core.std.RemoveFrameProps(out16, ["DespotStatsAverage"])
    return back_to(out16, fmt)
