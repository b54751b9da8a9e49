"""The decimated clip: each film frame once, in order, at the restored rate."""

from __future__ import annotations

import os
from enum import StrEnum

import numpy as np
import vapoursynth as vs

from vsrestore.core.checks import check_clip
from vsrestore.decimate.decide import FUNC, Analysis, analyze
from vsrestore.decimate.metrics import MetricParams
from vsrestore.decimate.overrides import Overrides
from vsrestore.decimate.template import HmmParams

__all__ = ["Pick", "decimate", "render_analysis"]

core = vs.core

#: most copies averaged per film frame with ``average=True``
MAX_AVERAGE = 4


class Pick(StrEnum):
    """Which copy of a film frame is output."""

    FIRST = "first"  # the first showing
    CLEANEST = "cleanest"  # the copy with the least dust (ties: the first)


def _choose(an: Analysis, pick: Pick) -> tuple[list[list[int]], list[int]]:
    groups = an.copies()
    if pick == Pick.FIRST:
        return groups, [g[0] for g in groups]
    dust = an.dust
    return groups, [min(g, key=lambda i: (round(float(dust[i]), 6), i)) for g in groups]


def _remap(clip: vs.VideoNode, idx: list[int]) -> vs.VideoNode:
    """Output frame n is input frame idx[n] (any order), at the input's rate."""
    if idx == sorted(set(idx)):
        keep = set(idx)
        drop = [i for i in range(clip.num_frames) if i not in keep]
        return core.std.DeleteFrames(clip, drop) if drop else clip
    table = list(idx)
    base = core.std.BlankClip(clip, length=len(table))

    def _sel(n: int) -> vs.VideoNode:
        return clip[table[n]]

    return core.std.FrameEval(base, _sel)


def render_analysis(
    clip: vs.VideoNode, an: Analysis, *, pick: Pick | str = Pick.FIRST, average: bool = False
) -> vs.VideoNode:
    """The decimated clip for an existing :class:`Analysis` of ``clip`` (see :func:`decimate`)."""
    pick = Pick(pick)
    groups, chosen = _choose(an, pick)
    m = len(chosen)
    if m == 0:
        raise vs.Error(f"{FUNC}: the analysis kept no frame")
    fps_num, fps_den = (0, 1) if an.variable else (an.rate.numerator, an.rate.denominator)
    base = core.std.BlankClip(clip, length=m, fpsnum=fps_num, fpsden=fps_den)
    out = _remap(clip, chosen)
    if average:
        ranks = [_remap(clip, [g[r] if r < len(g) else g[0] for g in groups]) for r in range(1, MAX_AVERAGE)]
        out = _average(out, ranks, [min(len(g), MAX_AVERAGE) for g in groups])
    conf = [min(an.confidence[i] for i in g) for g in groups]
    durations = an.durations
    tmpl, tmpl_of = an.templates, an.template_of
    still_frames = {i for a, b in an.still for i in range(a, b + 1)}
    still = [int(any(i in still_frames for i in g)) for g in groups]
    weak_frames = {i for a, b in an.weak for i in range(a, b + 1)}
    weak = [int(any(i in weak_frames for i in g)) for g in groups]

    def _props(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        g = groups[n]
        fout.props["DecimateSource"] = int(chosen[n])
        fout.props["DecimateConfidence"] = float(conf[n])
        fout.props["DecimateCopies"] = len(g)
        fout.props["DecimateFirst"] = int(g[0])
        t = tmpl_of[g[0]]
        fout.props["DecimateTemplate"] = tmpl[t] if 0 <= t < len(tmpl) else ""
        fout.props["DecimateAveraged"] = min(len(g), MAX_AVERAGE) if average else 1
        fout.props["DecimateStill"] = still[n]
        fout.props["DecimateWeak"] = weak[n]
        d = durations[n]
        fout.props["_DurationNum"] = int(d.numerator)
        fout.props["_DurationDen"] = int(d.denominator)
        return fout

    return core.std.ModifyFrame(base, out, _props)


def _average(first: vs.VideoNode, others: list[vs.VideoNode], counts: list[int]) -> vs.VideoNode:
    fmt = first.format
    assert fmt is not None

    def _avg(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        c = counts[n]
        fout = f[0].copy()
        if c <= 1:
            return fout
        for p in range(fmt.num_planes):
            acc = np.asarray(f[0][p]).astype(np.float32)
            for j in range(1, c):
                acc += np.asarray(f[j][p])
            acc /= c
            dst = np.asarray(fout[p])
            if fmt.sample_type == vs.INTEGER:
                np.copyto(dst, np.rint(acc), casting="unsafe")
            else:
                np.copyto(dst, acc)
        return fout

    return core.std.ModifyFrame(first, [first, *others], _avg)


def decimate(
    clip: vs.VideoNode,
    *,
    pick: Pick | str = Pick.FIRST,
    average: bool = False,
    overrides: str | os.PathLike[str] | Overrides | None = None,
    sidecar: str | os.PathLike[str] | bool | None = None,
    metric_params: MetricParams | None = None,
    hmm_params: HmmParams | None = None,
    progress: bool = True,
) -> vs.VideoNode:
    """Restore a film's own cadence: keep each film frame once, in order, at the film's rate.

    The whole clip is analysed once when the node is created (progress bar on stderr; cached in memory and in
    the sidecar), so every frame request, in any order or from any thread, sees the same decisions.

    :param clip: a transfer of film to video (24/25 fps with repeated frames); GRAY, YUV or RGB, constant
        format, size and rate.
    :param pick: ``"first"`` outputs the first showing of each film frame; ``"cleanest"`` the copy with the least
        dust.
    :param average: average up to 4 copies of each film frame (independent grain and dust: a free denoise);
        the copies are not aligned, so use it on stable material.
    :param overrides: an override file (``vsrestore analyze`` writes a template) forcing decisions.
    :param sidecar: the analysis cache (see :func:`vsrestore.decimate.analyze`).
    :returns: the clip at the film's rate (``fps`` = estimated rate as a fraction), or variable rate (fps 0/1)
        when the pattern's rate changes; every frame carries ``_DurationNum``/``_DurationDen`` and
        ``DecimateSource`` (int: input frame index output), ``DecimateConfidence`` (float 0..1: the lowest
        confidence among the decisions about this film frame's copies), ``DecimateCopies`` (int: input frames
        that showed it), ``DecimateFirst`` (int: its first showing), ``DecimateTemplate`` (str: the learned
        template in force, as letters, e.g. ``AAB``; empty when decided outside any template) and
        ``DecimateAveraged`` (int: copies averaged) and ``DecimateStill`` (int 1 when the frame lies in a
        still passage, where a single repeat cannot show: only dips that recur at one phase count there, else the
        cadence around it was carried through; else 0) and ``DecimateWeak`` (int 1 when the frame was kept on weak
        evidence, :attr:`Analysis.weak <vsrestore.decimate.decide.Analysis>`: repeats there would not show; else
        0).
    :raises vs.Error: bad clip or parameter; ``ValueError`` for a malformed override file (with line number).
    """
    clip = check_clip(clip, FUNC, need_fps=True, min_size=16)
    try:
        pick = Pick(pick)
    except ValueError:
        raise vs.Error(f"{FUNC}: pick must be 'first' or 'cleanest', got {pick!r}") from None
    an = analyze(clip, overrides=overrides, sidecar=sidecar, metric_params=metric_params, hmm_params=hmm_params,
                 progress=progress)
    return render_analysis(clip, an, pick=pick, average=average)
