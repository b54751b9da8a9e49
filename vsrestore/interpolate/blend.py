"""Simple per-frame pictures for the interpolator: repeat and cross-fade (blend) of two source frames."""

from __future__ import annotations

from fractions import Fraction

import vapoursynth as vs

__all__ = ["blend_pair"]

core = vs.core


def blend_pair(clip: vs.VideoNode, i: int, phase: Fraction | float) -> vs.VideoNode:
    """A one-frame clip: source frames ``i`` and ``i+1`` mixed with weight ``phase`` on the later one.

    ``phase`` 0 gives frame ``i``, 1 gives frame ``i+1`` (clamped to the clip's last frame).
    """
    j = min(i + 1, clip.num_frames - 1)
    w = float(phase)
    if w <= 0.0 or j == i:
        return clip[i]
    if w >= 1.0:
        return clip[j]
    return core.std.Merge(clip[i], clip[j], weight=w)
