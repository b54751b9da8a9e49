"""Temporal stabilisation of predicted chroma with motion compensation (mvtools), reset at scene cuts.

Frame n's chroma becomes a weighted mean of its own and its motion-compensated neighbours' chroma
(n-r .. n+r). Vectors come from the luma only (:func:`motion_field`), searched once and shared by every pass.
A neighbour's weight falls where compensation fails: it is ``exp(-d^2 / (2 sigma^2))`` of the local (5x5 box)
mean squared luma difference d^2 between the compensated neighbour and frame n, times a temporal taper.
Neighbours across a scene cut (mvtools' scene-change test on the vectors between consecutive frames), or outside
the clip, get weight 0, so a new shot starts clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import vapoursynth as vs

from ..core.bridge import shifted
from ..core.planes import plane_view

__all__ = [
    "STAB_PASSES",
    "STAB_SIGMA",
    "MotionField",
    "MotionSettings",
    "box_mean",
    "match_weight",
    "motion_field",
    "stabilize_chroma",
]

core = vs.core

STAB_PASSES = 3  # passes colorize() runs (each smooths the previous one's output)
STAB_SIGMA = 0.05  # default luma mismatch scale of the neighbour weights (0..1 units, local RMS)


class MotionSettings:
    """mvtools settings used here (block size and overlap in pixels of the working size; scene-change thresholds
    ``thscd1`` (SAD per 8x8 block) and ``thscd2`` (0-255 share of changed blocks))."""

    blksize = 8
    overlap = 4
    thscd1 = 400
    thscd2 = 130


def to_p16(clip: vs.VideoNode) -> vs.VideoNode:
    """YUV444PS -> YUV444P16 full range (what mvtools takes)."""
    return core.resize.Point(clip, format=vs.YUV444P16, range_s="full")


def to_ps(clip: vs.VideoNode) -> vs.VideoNode:
    return core.resize.Point(clip, format=vs.YUV444PS, range_in_s="full")


@dataclass(frozen=True)
class MotionField:
    """mvtools vectors between each frame and its neighbours up to ``radius`` frames away, from a luma clip at the
    working size: ``vectors[o]`` points from frame n to frame n + o (o = -radius .. radius, not 0), and
    ``scene`` carries mvtools' ``_SceneChangePrev`` (1 on frame n for a cut between n-1 and n)."""

    radius: int
    width: int
    height: int
    vectors: dict[int, vs.VideoNode]
    scene: vs.VideoNode


def motion_field(luma: vs.VideoNode, radius: int) -> MotionField:
    """Search the vectors of :class:`MotionField` once on ``luma`` (GRAY or the luma plane of a YUV clip, float
    0..1 or integer full range). mvtools reads frame 0 of its input when a node is created, so pass a luma that
    does not depend on the model (colorize passes its working-size luma): creating the passes then renders only
    the frames that frame 0 of each pass needs (18 model frames for 3 passes of radius 8, not 41)."""
    if radius < 1:
        raise vs.Error(f"vsrestore.colorize: stabilize radius={radius} must be at least 1")
    y = core.std.ShufflePlanes(luma, 0, vs.GRAY) if luma.format.color_family != vs.GRAY else luma
    a16 = core.resize.Point(y, format=vs.YUV444P16, range_s="full", range_in_s="full")
    ms = MotionSettings
    sup = core.mv.Super(a16, pel=2, sharp=2, hpad=16, vpad=16)
    vectors: dict[int, vs.VideoNode] = {}
    for k in range(1, radius + 1):
        for isb in (True, False):
            vectors[k if isb else -k] = core.mv.Analyse(
                sup, isb=isb, delta=k, blksize=ms.blksize, overlap=ms.overlap, chroma=False, truemotion=True
            )
    scene = core.mv.SCDetection(a16, vectors[-1], thscd1=ms.thscd1, thscd2=ms.thscd2)
    return MotionField(radius, luma.width, luma.height, vectors, scene)


def box_mean(a: np.ndarray, size: int = 5) -> np.ndarray:
    """Mean over a size x size window (edges repeated), by summed-area table: no Python loop over pixels."""
    r = size // 2
    p = np.pad(np.asarray(a, dtype=np.float64), r, mode="edge")
    c = np.zeros((p.shape[0] + 1, p.shape[1] + 1))
    c[1:, 1:] = p.cumsum(0).cumsum(1)
    h, w = a.shape
    s = c[size : size + h, size : size + w] - c[:h, size : size + w] - c[size : size + h, :w] + c[:h, :w]
    return (s / (size * size)).astype(np.float32)


def match_weight(y: np.ndarray, yc: np.ndarray, sigma: float) -> np.ndarray:
    """Per-pixel weight in 0..1: 1 where the compensated luma ``yc`` matches ``y``, falling to 0 where not."""
    d2 = box_mean((yc - y) ** 2)
    return np.exp(-d2 / (2.0 * sigma * sigma)).astype(np.float32)


def stabilize_chroma(
    small: vs.VideoNode, radius: int = 2, sigma: float = STAB_SIGMA, motion: MotionField | None = None
) -> vs.VideoNode:
    """Stabilise the U/V planes of a YUV444PS clip (Y: luma 0..1) over time; Y is unchanged.

    :param radius: neighbours on each side (frames).
    :param sigma: luma mismatch (0..1 units, local RMS) at which a neighbour's weight falls to exp(-1/2).
    :param motion: vectors from :func:`motion_field` (radius at least ``radius``, same size as ``small``), shared
        by several passes; None searches them here on ``small``'s luma.
    :returns: YUV444PS; frame props ``ColorSceneCut`` (1 when a cut lies just before this frame) and
        ``ColorStabWeight`` (mean total weight of the neighbours, 0 = no help from them).
    """
    if radius < 1:
        raise vs.Error(f"vsrestore.colorize: stabilize radius={radius} must be at least 1")
    if motion is None:
        motion = motion_field(small, radius)
    elif motion.radius < radius or (motion.width, motion.height) != (small.width, small.height):
        raise vs.Error(
            f"vsrestore.colorize: the motion field ({motion.width}x{motion.height}, radius {motion.radius}) does "
            f"not fit the chroma ({small.width}x{small.height}, radius {radius}); make it with motion_field(luma, "
            f"{radius}) from the luma of the same clip at the chroma's size"
        )
    c16 = to_p16(small)
    sup = core.mv.Super(c16, pel=2, sharp=2, hpad=16, vpad=16, levels=1)  # rendering only: one level
    ms = MotionSettings
    comps: list[vs.VideoNode] = []
    offsets: list[int] = []
    for k in range(1, radius + 1):
        for o in (k, -k):
            comp = core.mv.Compensate(c16, sup, motion.vectors[o], thscd1=ms.thscd1, thscd2=ms.thscd2)
            comps.append(to_ps(comp))
            offsets.append(o)
    cut_offsets = list(range(-radius + 1, radius + 1))  # cut_prev flags of frames n-r+1 .. n+r
    cut_clips = [shifted(motion.scene, o) for o in cut_offsets]
    num = small.num_frames
    taper = {o: float(np.exp(-0.5 * (abs(o) / (radius + 0.5)) ** 2)) for o in offsets}
    nc = len(comps)

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        cur = f[0]
        cuts = {o: bool(fr.props.get("_SceneChangePrev", 0)) for o, fr in zip(cut_offsets, f[1 + nc :], strict=True)}
        y = np.asarray(plane_view(cur, 0))
        u_acc = np.array(plane_view(cur, 1), dtype=np.float32, copy=True)
        v_acc = np.array(plane_view(cur, 2), dtype=np.float32, copy=True)
        w_acc = np.ones_like(u_acc)
        for o, fr in zip(offsets, f[1 : 1 + nc], strict=True):
            if not 0 <= n + o < num:
                continue
            span = range(o + 1, 1) if o < 0 else range(1, o + 1)
            if any(cuts[s] for s in span):
                continue
            w = match_weight(y, np.asarray(plane_view(fr, 0)), sigma) * taper[o]
            u_acc += w * np.asarray(plane_view(fr, 1))
            v_acc += w * np.asarray(plane_view(fr, 2))
            w_acc += w
        fout = cur.copy()
        plane_view(fout, 1)[...] = u_acc / w_acc
        plane_view(fout, 2)[...] = v_acc / w_acc
        fout.props["ColorSceneCut"] = int(cuts[0] and n > 0)
        fout.props["ColorStabWeight"] = float(w_acc.mean() - 1.0)
        return fout

    return core.std.ModifyFrame(small, [small, *comps, *cut_clips], apply)
