"""Scene cuts and fades between consecutive source frames.

Each pair (i, i+1) is scored on small, level-normalised copies of the luma (about 96 pixels wide, so that
grain, dust and ordinary motion count for little while a change of shot changes nearly every block):

* ``d_i``: mean absolute difference of the normalised thumbnails of frames i and i+1 (0..1);
* a **cut** is a pair whose ``d_i`` is above ``cut_threshold`` and at least ``cut_ratio`` times both
  neighbouring pairs' differences (a change of shot is a spike; fast motion keeps all pairs high);
* a **fade** is a pair whose mean raw luma changes by more than ``fade_step`` in the same direction as the
  pair before or after it, while the normalised pictures stay alike (no cut);
* **flat**: one frame of the pair has almost no contrast (a fade to/from black or white), so motion cannot
  be measured on it.

The result is a clip with one frame per source frame (frame i describes pair (i, i+1); the last frame has no
next frame and is never a cut), carrying the props documented in :func:`pair_analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import vapoursynth as vs

from vsrestore.core.bridge import shifted
from vsrestore.core.levels import robust_levels

__all__ = ["CutSettings", "pair_analysis"]

core = vs.core

THUMB_WIDTH = 96


@dataclass(frozen=True)
class CutSettings:
    """Thresholds of the cut and fade detector (units: normalised luma, 0..1).

    :param cut_threshold: smallest thumbnail difference that can be a cut.
    :param cut_ratio: how many times a cut's difference must exceed both neighbouring pairs'.
    :param fade_step: smallest change of mean luma per frame that counts as (part of) a fade.
    :param flat_range: a frame whose robust black-to-white range is below this is flat.
    """

    cut_threshold: float = 0.09
    cut_ratio: float = 2.0
    fade_step: float = 0.012
    flat_range: float = 0.06


def _thumbs(clip: vs.VideoNode) -> vs.VideoNode:
    luma = core.std.ShufflePlanes(clip, 0, vs.GRAY) if clip.format.color_family != vs.GRAY else clip
    w = THUMB_WIDTH if clip.width > THUMB_WIDTH else clip.width
    h = max(8, round(clip.height * w / clip.width / 2) * 2)
    return core.resize.Bilinear(luma, w, h, format=vs.GRAYS)


def pair_analysis(clip: vs.VideoNode, settings: CutSettings | None = None) -> vs.VideoNode:
    """Per source pair (i, i+1), whether it crosses a cut or lies in a fade.

    :returns: a tiny GRAYS clip, one frame per source frame; frame i carries
        ``InterpolateCutScore`` (float: the pair's thumbnail difference divided by the larger neighbouring
        one), ``InterpolateDiff`` (float: the pair's thumbnail difference, 0..1), ``InterpolateSceneCut``
        (int 0/1), ``InterpolateFade`` (int 0/1) and ``InterpolateFlat`` (int 0/1: frame i or i+1 has almost
        no contrast).
    """
    cfg = settings or CutSettings()
    th = _thumbs(clip)
    last = clip.num_frames - 1
    taps = [shifted(th, k) for k in (-1, 0, 1, 2)]
    template = core.std.BlankClip(th, width=8, height=8, keep=True)

    def norm(f: vs.VideoFrame) -> tuple[np.ndarray, float, float]:
        a = np.asarray(f[0])
        lo, hi = robust_levels(a, 1.0, 99.0)
        return (a - lo) / max(hi - lo, 0.05), float(a.mean()), hi - lo

    def score(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        fout = f[0].copy()
        p = fout.props
        if n >= last:
            p.update(InterpolateCutScore=0.0, InterpolateDiff=0.0, InterpolateSceneCut=0, InterpolateFade=0,
                     InterpolateFlat=0)
            return fout
        data = [norm(fr) for fr in f[1:]]
        imgs = [d[0] for d in data]
        means = [d[1] for d in data]
        diffs = [float(np.abs(imgs[j + 1] - imgs[j]).mean()) for j in range(3)]
        # at the clip's ends the shifted taps repeat a frame: ignore that neighbour's zero difference
        prev_d = diffs[0] if n > 0 else 0.0
        next_d = diffs[2] if n + 2 <= last else 0.0
        d = diffs[1]
        ratio = d / max(prev_d, next_d, 0.01)
        # at the clip's ends only one neighbour is known: ask for more evidence there
        edge = n == 0 or n + 2 > last
        cut = d >= cfg.cut_threshold * (1.5 if edge else 1.0) and ratio >= cfg.cut_ratio * (1.5 if edge else 1.0)
        step = means[2] - means[1]
        before = means[1] - means[0] if n > 0 else 0.0
        after = means[3] - means[2] if n + 2 <= last else 0.0
        fade = (
            not cut
            and d < cfg.cut_threshold
            and abs(step) >= cfg.fade_step
            and (before * step > 0 and abs(before) >= cfg.fade_step / 2
                 or after * step > 0 and abs(after) >= cfg.fade_step / 2)
        )
        flat = min(data[1][2], data[2][2]) < cfg.flat_range
        p.update(InterpolateCutScore=ratio, InterpolateDiff=d, InterpolateSceneCut=int(cut),
                 InterpolateFade=int(fade), InterpolateFlat=int(flat and not cut))
        return fout

    return core.std.ModifyFrame(template, [template, *taps], score)
