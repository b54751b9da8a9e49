"""The classical path: nnedi3 (znedi3) edge-directed doubling, repeated for 4x, 8x."""

from __future__ import annotations

import vapoursynth as vs

core = vs.core


def nnedi3_double(clip: vs.VideoNode, *, nns: int = 3, qual: int = 1) -> vs.VideoNode:
    """Double width and height of a GRAY or RGB (non-subsampled) clip with nnedi3, centre-aligned.

    nnedi3 keeps the source lines at even positions, which shifts the image by half an output pixel; a
    same-size resize shifts it back.
    """
    d = core.znedi3.nnedi3(clip, field=0, dh=True, nns=nns, qual=qual)
    d = core.std.Transpose(core.znedi3.nnedi3(core.std.Transpose(d), field=0, dh=True, nns=nns, qual=qual))
    return core.resize.Spline36(d, d.width, d.height, src_top=0.5, src_left=0.5)


def nnedi3_scale(clip: vs.VideoNode, factor: int, **kw: int) -> vs.VideoNode:
    """Enlarge by ``factor``: nnedi3 doubling up to the next power of two, then Spline36 down if needed."""
    out = clip
    reached = 1
    while reached < factor:
        out = nnedi3_double(out, **kw)
        reached *= 2
    if reached != factor:
        out = core.resize.Spline36(out, clip.width * factor, clip.height * factor)
    return out
