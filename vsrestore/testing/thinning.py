"""A film rate made from a 24 fps clip by keeping ``keep`` of every ``of`` frames (12, 16, 18 fps), for the
interpolator's tests and benchmark: which frames stay, how long each is shown, and which are to be rebuilt."""

from __future__ import annotations

from fractions import Fraction

import vapoursynth as vs

__all__ = ["keep_pattern", "thinned"]


def keep_pattern(n: int, keep: int, of: int) -> tuple[list[int], list[Fraction]]:
    """Indices of the frames kept out of ``n`` (``i % of < keep``) and how long each is shown (seconds at 24 fps:
    until the next kept frame, or the clip's end)."""
    kept = [i for i in range(n) if i % of < keep]
    durs = [Fraction((kept[j + 1] if j + 1 < len(kept) else n) - kept[j], 24) for j in range(len(kept))]
    return kept, durs


def thinned(clip: vs.VideoNode, keep: int, of: int) -> tuple[vs.VideoNode, list[Fraction], list[int]]:
    """``clip`` thinned to ``keep`` of every ``of`` frames (played at 24 fps), the kept frames' durations, and the
    dropped frames that lie between two kept ones (those an interpolator rebuilds)."""
    kept, durs = keep_pattern(clip.num_frames, keep, of)
    sub = vs.core.std.AssumeFPS(vs.core.std.Splice([clip[k] for k in kept]), fpsnum=24)
    dropped = [k for k in range(kept[-1]) if k % of >= keep]
    return sub, durs, dropped
