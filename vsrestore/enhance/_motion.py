"""Motion search shared by denoise and despot: mvtools super clips and vectors, built once per clip."""

from __future__ import annotations

from dataclasses import dataclass

import vapoursynth as vs

core = vs.core


@dataclass(frozen=True)
class MotionSettings:
    """How vectors are searched (mvtools parameters, in pixels of the clip).

    :param blksize: block size of the first search (8, 16 or 32); it is refined at half this size.
    :param overlap: block overlap of the first search (<= blksize/2).
    :param pel: sub-pixel precision (1, 2 or 4).
    :param prefilter: search on a softened copy so grain and specks do not steer the vectors.
    :param refine: re-search at half the block size around the first vectors.
    """

    blksize: int = 16
    overlap: int = 8
    pel: int = 2
    prefilter: bool = True
    refine: bool = True


@dataclass(frozen=True)
class Motion:
    """Super clip to render from and the (backward, forward) vectors for deltas 1..tr."""

    render_super: vs.VideoNode
    vectors: tuple[tuple[vs.VideoNode, vs.VideoNode], ...]


def soften(clip: vs.VideoNode) -> vs.VideoNode:
    """A denoised-for-search copy: 3x3 median (removes specks) then two light Gaussian passes."""
    m = core.zsmooth.Median(clip, radius=1)
    k = [1, 2, 1, 2, 4, 2, 1, 2, 1]
    return core.std.Convolution(core.std.Convolution(m, k), k)


def search(clip16: vs.VideoNode, tr: int, settings: MotionSettings, *, chroma: bool = False) -> Motion:
    """Vectors between each frame and its neighbours at distances 1..tr (clip must be 8-16 bit integer)."""
    s = settings
    chroma_flag = 1 if chroma and clip16.format is not None and clip16.format.color_family == vs.YUV else 0
    pre = soften(clip16) if s.prefilter else clip16
    sup_search = core.mv.Super(pre, pel=s.pel, sharp=2, hpad=16, vpad=16, chroma=chroma_flag)
    is_yuv = clip16.format is not None and clip16.format.color_family == vs.YUV
    sup_render = core.mv.Super(clip16, pel=s.pel, sharp=2, hpad=16, vpad=16, levels=1, chroma=int(is_yuv))
    half = max(4, s.blksize // 2)
    vecs = []
    for d in range(1, tr + 1):
        pair = []
        for isb in (1, 0):
            v = core.mv.Analyse(sup_search, isb=isb, delta=d, blksize=s.blksize, overlap=s.overlap,
                                search=4, chroma=chroma_flag, truemotion=0)
            if s.refine:
                v = core.mv.Recalculate(sup_search, v, blksize=half, overlap=half // 2, thsad=200,
                                        chroma=chroma_flag, truemotion=0)
            pair.append(v)
        vecs.append((pair[0], pair[1]))
    return Motion(sup_render, tuple(vecs))
