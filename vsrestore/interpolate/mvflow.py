"""The classical engine: mvtools motion-compensated interpolation for 12-19 fps film with grain, which blends
in proportion wherever motion compensation is not clearly better than a plain blend.

* Vectors are searched on a *proxy*: the luma normalised per frame to its robust black/white levels (so
  flicker and fades do not look like motion) and smoothed (``smooth`` passes, so grain and dust neither steer
  the search nor count as motion when the vectors are judged). Chroma is left as it is.
* The search is hierarchical over all levels (large motion is found at the coarse levels; mvtools' global
  motion estimate is a predictor at each level) with 8x8 blocks (half overlapping), exhaustive search within
  ``searchparam`` pixels at each level, optionally (``refine``) refined once with 4x4 blocks (half overlapping)
  wherever the 8x8 match is poor (``refine_thsad``: +0.026 dB on the tuning clips without the dense flow below,
  +0.004 with it, for about a fifth of the engine's CPU: off by default since the dense flow came),
  half-pixel precision (``pel``; quarter-pixel was 0.02 dB better on the
  tuning clips and about a third slower), SATD matching and true-motion regularisation.
* **Optional second vector field** (``second_blksize``, ``second_overlap``; off by default): a second search on
  another block grid (e.g. 8x8 blocks overlapping by 2, whose block centres lie elsewhere than the first
  field's) draws its own pair of pictures (below), and the two fields' pictures are averaged. Their errors are
  partly independent, so the average is better: ``second_blksize=8, second_overlap=2`` gains +0.041 dB on the
  tuning clips (bikes +0.04 to +0.13, bigbuckbunny +0.09 to +0.12, no row lower) at about 40% more CPU, which
  would put the default under its speed floor; it suits a final render where time matters less.
* **Dense optical flow** (``dense``, on by default; :mod:`.denseflow`): a picture drawn by OpenCV's DIS flow
  joins the motion-compensated pictures before they are mixed with the blend, so the judgement below applies to
  it too. Per pixel its share against the vectors' pictures comes from how well each motion predicts the two
  frames from each other (the fusion's weights, ``dense_weight`` where they predict equally well). Blocks and a
  per-pixel flow make different errors, so the mix is better than either: +0.18 dB on the tuning clips over
  round 6's engine (the CGI clip +0.9, bikes +0.3, bigbuckbunny +0.27; the 1906 film's shot -0.01) and, run
  once, +0.11 dB on the held-out reporting clips (no row lower), for about a quarter more CPU than that engine
  (0.50-0.58 of the engine before issue 23 per CPU-second, the floor being 0.5; the 4x4 refinement is off to
  pay for part of it).
* Pictures are drawn from the *original* frames (so the normalisation never shows and the grain stays):
  ``FlowInter`` (both directions; it takes occluded areas from the frame where they are visible) and, with
  ``fusion``, a second picture from the two sides separately: frame i carried on to the instant by its vectors
  and frame i+1 carried back, mixed per pixel by how well each side's vectors predict (where they disagree,
  at occlusions or where one side's vectors fail, the side that predicts better is taken). The two pictures are
  averaged.
* **Judgement per pixel** (``judge``): on the proxy, the error of the two neighbours predicted from each other
  through the vectors (frame i+1 drawn onto i with the backward vectors, i onto i+1 with the forward ones) is
  compared with their plain difference, all averaged over about ``2 * judge_radius`` pixels. With ``fusion``
  (default) the motion-compensated picture and the blend of the two frames are mixed by soft weights,
  ``1 / (error + fusion_floor) ** fusion_power`` for each side's prediction and ``fusion_blend`` times that of
  the plain difference for the blend; without it the share of the motion-compensated picture is
  ``judge_gain * (plain - compensated) / (plain + judge_floor)``, clipped to 0..1. Where compensation explains
  the change it is used; where it does no better than the plain difference (static areas, grain, unmatched
  motion) the blend is.
* **Judgement per clip section** (``validate_db``): the same vectors cannot tell whether the picture *between*
  two frames is predictable (gate weave and erratic motion move the missing frame off the path). So the engine
  tests itself on the clip: each source frame is rebuilt from its neighbours two frames apart, by motion
  compensation and by a blend (on pictures at most ``VALIDATE_WIDTH`` wide), and a high quantile
  (``validate_quantile``) of the gains in dB over ``validate_window`` tests each side sets a per-pair factor on
  the share above: 0 at ``validate_low`` dB or less, 1 at ``validate_low + validate_db`` dB or more. A high
  quantile, not the median: the test draws its frame half-way, which is not where that frame lies in a 2/3 or
  3/4 cadence, so many tests of a variable-rate source come out low although compensation helps there;
  weave on old film makes nearly every test lose, and that is what turns compensation off.
* **Steady global motion overrules the test** (``steady_low``): the test rebuilds frames from neighbours
  twice as far apart as the interpolator's, so on clean footage with larger motion (a CGI scene, a 3/4
  cadence) it often loses although compensation wins by several dB at the real spacing. What the test is for
  -- weave and shake, which move the missing frame off the straight path -- shows directly in the global
  motion: per pair the global translation is measured (phase correlation, :mod:`.globalmotion`) and compared
  with its neighbours' (velocities, so a variable-rate cadence is no jerk). Where that irregularity is small
  (a still camera, a steady pan or zoom), the pair gets the full share; weave on old film (1-3 pixels) keeps
  the test's verdict.
* Reliability per pair: ``SCDetection`` on the backward vectors of frame i flags a pair (i, i+1) where too
  many blocks match badly (motion too large or erratic); the caller then falls back for that pair.

mvtools takes 8-16 bit integer GRAY/YUV; other clips are converted to 16-bit for the engine and back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import vapoursynth as vs

from vsrestore.core.bridge import shifted
from vsrestore.core.levels import robust_levels

from .denseflow import DenseFlow, DensePreset
from .globalmotion import irregularity, shift_node

__all__ = ["MVEngine", "MVSettings", "work_format"]

core = vs.core

#: Largest width of the pictures the per-clip test of motion compensation (``validate_db``) works on.
VALIDATE_WIDTH = 320


@dataclass(frozen=True)
class MVSettings:
    """Parameters of the mvtools engine (block sizes in pixels of the 4:4:4 luma).

    :param blksize: block size of the first search (8; 16 or 32 suit very large frames).
    :param overlap: block overlap of the first search.
    :param refine: refine the vectors with blocks of half the size (``Recalculate``), repeatedly, down to
        ``min_blksize`` (4: the 8x8 vectors are refined once, with 4x4 blocks); blocks whose match error
        (SAD, mvtools' scale for 8x8 blocks) is below ``refine_thsad`` (1600) keep their vector. Off by default:
        with ``dense`` it gains little for its CPU.
    :param dct: mvtools match metric (0: SAD; 5: SATD, more robust to brightness changes but slower).
    :param searchparam: search radius at the finest level, pixels.
    :param pel: sub-pixel precision (1, 2 or 4).
    :param ml: FlowInter occlusion mask scale (smaller = more areas treated as occluded).
    :param smooth: prefilter passes (3x3 smoothing) on the search clip against grain; 0 for none.
    :param bad_sad: SAD per 8x8 block (8-bit scale) above which a block counts as badly matched.
    :param bad_fraction: fraction (0..1) of badly matched blocks above which a pair falls back.
    :param local_ml: local fallback: where the blocks' match error (SAD) is high, the interpolated picture
        gives way to a cross-fade of the two frames; the weight reaches 1 at a SAD of about ``local_ml``
        (mvtools ``Mask(kind=1)`` scale). None disables it.
    :param local_gamma: gamma of that weight (above 1: only the worst blocks fall back).
    :param judge: mix the motion-compensated picture with a blend per pixel, by how much better the vectors
        predict the two neighbours from each other than their plain difference (see the module notes).
    :param judge_radius: radius (pixels) of the box over which the errors are averaged.
    :param judge_gain: share of the compensated picture per unit of relative gain (2: full share where
        compensation halves the difference).
    :param judge_floor: added to the plain difference (8-bit scale of the normalised luma) so that low-contrast
        areas, where neither error means much, lean to the blend.
    :param validate_db: the per-section test (see the module notes): width in dB of the ramp from no share to
        the full share; None disables the test.
    :param validate_low: gain in dB of compensation over a blend at or below which a section gets no share.
    :param validate_window: tests taken each side of a pair.
    :param validate_quantile: quantile (0..1) of the tests' gains that is compared with ``validate_low``.
    :param second_blksize: block size of the second vector field whose pictures are averaged with the first
        field's (None: one field only; see the module notes).
    :param second_refine: refine the second field with blocks of half its size.
    :param second_overlap: block overlap of the second field (None: half its block size; 2 with 8x8 blocks puts
        its blocks on another grid than the first field's).
    :param fusion: with ``judge``, mix by soft weights from the predicted errors and average ``FlowInter``'s
        picture with one drawn from each side separately (see the module notes); False: the ``judge_gain``
        share and ``FlowInter`` alone.
    :param fusion_power: power of the predicted errors in the weights.
    :param fusion_floor: added to every predicted error (8-bit scale of the normalised luma) before the power.
    :param fusion_blend: factor on the blend's weight (above 1: the blend is preferred where errors are alike).
    :param steady_low: the self-test is overruled where the global motion is steady (see the module notes): a
        pair whose global-motion irregularity (:func:`~vsrestore.interpolate.globalmotion.irregularity`,
        pixels) is at most ``steady_low`` gets the full share whatever the test says, one at ``steady_high`` or
        more keeps the test's share, linear in between; None: the test alone decides.
    :param steady_high: see ``steady_low`` (pixels).
    :param steady_window: pairs each side whose irregularities enter the median.
    :param dense: mix the vectors' pictures, per pixel, with one drawn by a dense optical flow (OpenCV's DIS, see
        :mod:`~vsrestore.interpolate.denseflow`), by how well each motion predicts the two frames from each other;
        the two make different errors, so the mix is better than either (see the module notes).
    :param dense_weight: share (0..1) of the dense-flow picture where it and the vectors predict equally well.
    :param dense_preset: OpenCV's DIS preset (:class:`~vsrestore.interpolate.denseflow.DensePreset`).
    """

    blksize: int = 8
    overlap: int = 4
    refine: bool = False
    min_blksize: int = 4
    refine_thsad: int = 1600
    dct: int = 5
    searchparam: int = 4
    pel: int = 2
    ml: float = 100.0
    smooth: int = 3
    bad_sad: int = 1200
    bad_fraction: float = 0.5
    local_ml: float | None = None
    local_gamma: float = 1.0
    judge: bool = True
    judge_radius: int = 8
    judge_gain: float = 2.0
    judge_floor: float = 6.0
    validate_db: float | None = 0.4
    validate_window: int = 4
    validate_low: float = -0.2
    validate_quantile: float = 0.8
    second_blksize: int | None = None
    second_refine: bool = False
    second_overlap: int | None = None
    fusion: bool = True
    fusion_power: float = 2.0
    fusion_floor: float = 2.0
    fusion_blend: float = 4.0
    steady_low: float | None = 0.4
    steady_high: float = 0.8
    steady_window: int = 4
    dense: bool = True
    dense_weight: float = 0.6
    dense_preset: DensePreset = DensePreset.ULTRAFAST

    @classmethod
    def fine(cls) -> MVSettings:
        """For a final render where time matters less: the dense flow at OpenCV's ``medium`` preset (finer patches,
        more iterations, a variational refinement): +0.05 dB on the tuning clips, for about 2.2 times the CPU (see
        ``benchmarks/results/interpolate.md``, round 9). A second vector field (``second_blksize=8,
        second_overlap=2``, this option before the dense flow) now adds only +0.01 dB."""
        return cls(dense_preset=DensePreset.MEDIUM)


def peak_of(clip: vs.VideoNode) -> int:
    """The largest sample value of an integer clip."""
    return (1 << clip.format.bits_per_sample) - 1


def work_format(fmt: vs.VideoFormat) -> vs.VideoFormat:
    """The format mvtools works in for a clip of format ``fmt`` (same format when it already can)."""
    if fmt.color_family == vs.RGB or fmt.subsampling_w > 1 or fmt.subsampling_h > 1:  # RGB, 4:1:0, 4:1:1
        return core.query_video_format(vs.YUV, vs.INTEGER, 16, 0, 0)
    if fmt.sample_type == vs.FLOAT or fmt.bits_per_sample > 16:
        return core.query_video_format(fmt.color_family, vs.INTEGER, 16, fmt.subsampling_w, fmt.subsampling_h)
    return fmt


def _normalised_luma(clip: vs.VideoNode, smooth: int) -> vs.VideoNode:
    """Luma stretched per frame to its robust levels (measured on a thumbnail), then smoothed."""
    fmt = clip.format
    thumb_w = min(clip.width, 160)
    thumb_h = max(8, round(clip.height * thumb_w / clip.width))
    luma = core.std.ShufflePlanes(clip, 0, vs.GRAY) if fmt.color_family != vs.GRAY else clip
    thumb = core.resize.Bilinear(luma, thumb_w, thumb_h)
    peak = (1 << fmt.bits_per_sample) - 1

    def levels(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        fout = f[0].copy()
        lo, hi = robust_levels(np.asarray(f[1][0]), 0.5, 99.5)
        if hi - lo < 0.02 * peak:  # flat frame: do not amplify noise
            mid = (hi + lo) / 2
            lo, hi = mid - 0.01 * peak, mid + 0.01 * peak
        fout.props["VsrLevelLo"] = float(lo)
        fout.props["VsrLevelHi"] = float(hi)
        return fout

    tagged = core.std.ModifyFrame(clip, [clip, thumb], levels)
    expr = f"x x.VsrLevelLo - {peak} * x.VsrLevelHi x.VsrLevelLo - / 0 max {peak} min"
    exprs = [expr] + [""] * (fmt.num_planes - 1)
    out = core.akarin.Expr(tagged, exprs)
    for _ in range(smooth):
        out = core.zsmooth.RemoveGrain(out, [12] + [0] * (fmt.num_planes - 1))
    return out


def _judge_mask(search: vs.VideoNode, sup: vs.VideoNode, bv: vs.VideoNode, fv: vs.VideoNode,
                cfg: MVSettings) -> vs.VideoNode:
    """Per pixel of pair (i, i+1): how much motion compensation beats a plain blend (0: blend, peak: vectors)."""
    big = dict(thscd1=16320, thscd2=255)
    cb = core.mv.Compensate(search, sup, bv, **big)  # frame i+1 drawn onto frame i
    cf = core.mv.Compensate(search, sup, fv, **big)  # frame i-1 drawn onto frame i
    luma = [core.std.ShufflePlanes(c, 0, vs.GRAY) for c in (search, search[1:] + search[-1], cb, cf[1:] + cf[-1])]
    fmt = luma[0].format
    peak = (1 << fmt.bits_per_sample) - 1
    scale = peak / 255.0
    plain = core.akarin.Expr(luma[:2], "x y - abs")
    mc = core.akarin.Expr(luma, "z x - abs a y - abs + 2 /")
    r = cfg.judge_radius
    plain = core.std.BoxBlur(plain, hradius=r, vradius=r, hpasses=2, vpasses=2)
    mc = core.std.BoxBlur(mc, hradius=r, vradius=r, hpasses=2, vpasses=2)
    fl = cfg.judge_floor * scale
    return core.akarin.Expr([plain, mc], f"x y - x {fl} + / {cfg.judge_gain} * 0 max 1 min {peak} *")


def _fusion_masks(search: vs.VideoNode, sup: vs.VideoNode, bv: vs.VideoNode, fv: vs.VideoNode,
                  cfg: MVSettings) -> tuple[vs.VideoNode, vs.VideoNode, vs.VideoNode]:
    """Per pixel of pair (i, i+1), two masks (0..peak) from errors measured on the proxy and averaged over about
    ``2 * judge_radius`` pixels: ``e_b`` of frame i predicted from i+1 through the backward vectors, ``e_f`` of
    frame i+1 predicted from i through the forward ones and ``e_p``, the plain difference of the two frames.
    Each gets the weight ``1 / (e + fusion_floor) ** fusion_power`` (the blend's times ``fusion_blend``).

    * direction: the share of the picture carried from frame i (forward vectors) against the one carried back
      from frame i+1 (backward vectors): where one side is occluded or its vectors fail, the other is used;
    * compensation: the share of the motion-compensated picture against the blend of the two frames;
    * error: ``(e_b + e_f) / 2``, how well the vectors predict, to weigh them against another motion estimate.
    """
    big = dict(thscd1=16320, thscd2=255)
    cb = core.mv.Compensate(search, sup, bv, **big)  # frame i+1 drawn onto frame i
    cf = core.mv.Compensate(search, sup, fv, **big)  # frame i-1 drawn onto frame i
    y, yn, b, f = (core.std.ShufflePlanes(c, 0, vs.GRAY) for c in (search, shifted(search, 1), cb, shifted(cf, 1)))
    r = cfg.judge_radius
    e_b, e_f, e_p = (core.std.BoxBlur(core.akarin.Expr([u, v], "x y - abs"), hradius=r, vradius=r, hpasses=2,
                                      vpasses=2) for u, v in ((b, y), (f, yn), (y, yn)))
    peak = (1 << y.format.bits_per_sample) - 1
    fl, pw, lam = cfg.fusion_floor * peak / 255.0, cfg.fusion_power, cfg.fusion_blend
    w = f"1 x {fl} + {pw} pow / wb! 1 y {fl} + {pw} pow / wf! "
    direction = core.akarin.Expr([e_b, e_f], f"{w} wf@ wb@ wf@ + / {peak} *")
    compensation = core.akarin.Expr([e_b, e_f, e_p], f"{w} wb@ wf@ + dup 1 z {fl} + {pw} pow / {lam} * + / {peak} *")
    return direction, compensation, core.akarin.Expr([e_b, e_f], "x y + 2 /")


def _validation(search: vs.VideoNode, clip: vs.VideoNode, cfg: MVSettings,
                durations: Sequence[Fraction] | None = None) -> vs.VideoNode:
    """Per source pair (i, i+1), the share of motion compensation (prop ``VsrMCShare``, 0..1) from a test on the
    clip itself: how much better than a blend motion compensation rebuilds the clip's own frames from their
    neighbours two frames apart (vectors on the proxy ``search``, pictures from ``clip``, both at most
    ``VALIDATE_WIDTH`` wide), as the ``validate_quantile`` quantile of the gains in dB over ``validate_window``
    tests each side. A clip whose in-between pictures cannot be predicted (gate weave, erratic motion) gets a
    small share. Each test draws the middle frame half-way, as the interpolator mostly does (for a
    variable-rate source the tested frame may lie elsewhere between its neighbours, so many of its tests come
    out low, which the high quantile tolerates; drawing it at its true instant instead was tried and lowered
    the tuning clips' scores: on the CGI clip it turned compensation off altogether). With ``steady_low``, a
    pair whose global motion is steady (``durations``: seconds per source frame, None for equal ones) gets up
    to the full share whatever the test says (prop ``VsrMotionIrregularity``, pixels). Steady motion says the
    path is straight, not that the vectors are right: on small pictures (ffc4's CGI at 320 wide) the rule was
    seen to overrule a right verdict of the test."""
    assert cfg.validate_db is not None
    n = search.num_frames
    w = min(clip.width, VALIDATE_WIDTH)
    h = max(16, round(clip.height * w / clip.width / 2) * 2)
    proxy = core.resize.Bilinear(core.std.ShufflePlanes(search, 0, vs.GRAY), w, h)
    y = core.resize.Bilinear(core.std.ShufflePlanes(clip, 0, vs.GRAY), w, h)
    sup = core.mv.Super(proxy, hpad=8, vpad=8, pel=2, sharp=2, rfilter=4)
    y_sup = core.mv.Super(y, hpad=8, vpad=8, pel=2, sharp=2, levels=1)
    c2 = dict(blksize=8, overlap=4, search=3, searchparam=cfg.searchparam, pelsearch=2, truemotion=1, levels=0,
              dct=5, delta=2)
    bv2 = core.mv.Analyse(sup, isb=1, **c2)
    fv2 = core.mv.Analyse(sup, isb=0, **c2)
    # frame j: the picture of j+1 drawn from j and j+2, by vectors and by a blend (half-way)
    mid = core.mv.FlowInter(y, y_sup, bv2, fv2, time=50.0, ml=cfg.ml, blend=0, thscd1=16320, thscd2=255)
    nxt, nxt2 = shifted(y, 1), shifted(y, 2)
    eb = core.std.PlaneStats(core.akarin.Expr([y, nxt, nxt2], "x z + 2 / y - dup *", vs.GRAYS), prop="VsrB")
    em = core.std.PlaneStats(core.akarin.Expr([nxt, mid], "x y - dup *", vs.GRAYS), prop="VsrM")
    # tests exist for j = 0 .. n-3; the last one stands in for the two after it
    eb, em = eb[: n - 2] + eb[n - 3] * 2, em[: n - 2] + em[n - 3] * 2
    win = max(0, cfg.validate_window)
    offsets = list(range(-1 - win, win + 1))  # pair k is judged by tests k-1 (its frame k) and k (frame k+1), +- w
    taps = [shifted(eb, o) for o in offsets] + [shifted(em, o) for o in offsets]
    db, low, qtl = cfg.validate_db, cfg.validate_low, cfg.validate_quantile
    count = len(offsets)
    base = core.std.BlankClip(y, width=8, height=8, keep=True)
    steady: list[vs.VideoNode] = []
    n_pairs = n - 1
    sw = max(0, cfg.steady_window)
    durs = [Fraction(1)] * n if durations is None else list(durations)
    if cfg.steady_low is not None:
        shifts = shift_node(core.std.ShufflePlanes(clip, 0, vs.GRAY))
        steady = [shifted(shifts, o) for o in range(-sw - 1, sw + 2)]
    s_lo, s_hi = cfg.steady_low or 0.0, max(cfg.steady_high, (cfg.steady_low or 0.0) + 1e-6)

    def share(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        fout = f[0].copy()
        gains = [10 * np.log10((float(f[1 + t].props["VsrBAverage"]) + 1e-7)
                               / (float(f[1 + count + t].props["VsrMAverage"]) + 1e-7)) for t in range(count)]
        value = min(1.0, max(0.0, (float(np.quantile(gains, qtl)) - low) / db))
        if steady:
            # global translations of pairs n-sw-1 .. n+sw+1 (clamped at the ends, where they are not used)
            local = [(0.0, 0.0)] * n_pairs
            for o, fr in zip(range(-sw - 1, sw + 2), f[1 + 2 * count:], strict=True):
                if 0 <= n + o < n_pairs:
                    local[n + o] = (float(fr.props["VsrShiftX"]), float(fr.props["VsrShiftY"]))
            irr = irregularity(local, durs, n, sw)
            fout.props["VsrMotionIrregularity"] = irr
            value = max(value, min(1.0, max(0.0, (s_hi - irr) / (s_hi - s_lo))))
        fout.props["VsrMCShare"] = value
        return fout

    return core.std.ModifyFrame(base, [base, *taps, *steady], share)


class MVEngine:
    """Vectors and interpolators for one clip, built once; nodes per phase are made on first use.

    :param clip: the source in :func:`work_format`.
    :param post: applied to every interpolated node (e.g. conversion back to the caller's format).
    :param durations: per source frame, its duration in seconds (None: all equal); the global-motion
        irregularity compares velocities with them.
    """

    def __init__(self, clip: vs.VideoNode, settings: MVSettings | None = None,
                 post: Callable[[vs.VideoNode], vs.VideoNode] | None = None,
                 durations: Sequence[Fraction] | None = None) -> None:
        cfg = settings or MVSettings()
        self._post = post
        self._next = clip[1:] + clip[-1]
        fmt = clip.format
        self.settings = cfg
        self.clip = clip
        pad = max(16, cfg.blksize)
        search = _normalised_luma(clip, cfg.smooth)
        sup_search = core.mv.Super(search, hpad=pad, vpad=pad, pel=cfg.pel, sharp=2, rfilter=4, chroma=False)
        self.super = core.mv.Super(clip, hpad=pad, vpad=pad, pel=cfg.pel, sharp=2, levels=1)
        common = dict(blksize=cfg.blksize, overlap=cfg.overlap, search=3, searchparam=cfg.searchparam,
                      pelsearch=2, truemotion=1, chroma=0, levels=0, dct=cfg.dct)
        self.bv = core.mv.Analyse(sup_search, isb=1, **common)
        self.fv = core.mv.Analyse(sup_search, isb=0, **common)
        small = cfg.blksize
        while cfg.refine and small // 2 >= cfg.min_blksize:
            small //= 2
            rc = dict(blksize=small, overlap=small // 2, search=3, searchparam=2, truemotion=1, chroma=0,
                      thsad=cfg.refine_thsad, dct=cfg.dct)
            self.bv = core.mv.Recalculate(sup_search, self.bv, **rc)
            self.fv = core.mv.Recalculate(sup_search, self.fv, **rc)
        self.extra: list[tuple[vs.VideoNode, vs.VideoNode]] = []
        if cfg.second_blksize:
            b2 = cfg.second_blksize
            ov2 = b2 // 2 if cfg.second_overlap is None else cfg.second_overlap
            c2 = dict(common, blksize=b2, overlap=ov2, dct=cfg.dct)
            bv2 = core.mv.Analyse(sup_search, isb=1, **c2)
            fv2 = core.mv.Analyse(sup_search, isb=0, **c2)
            if cfg.second_refine and b2 // 2 >= 4:
                rc2 = dict(blksize=b2 // 2, overlap=b2 // 4, search=3, searchparam=2, truemotion=1, chroma=0,
                           thsad=cfg.refine_thsad, dct=cfg.dct)
                bv2 = core.mv.Recalculate(sup_search, bv2, **rc2)
                fv2 = core.mv.Recalculate(sup_search, fv2, **rc2)
            self.extra.append((bv2, fv2))
        # thscd2 is on a 0..255 scale of the block fraction
        th2 = int(round(max(0.0, min(1.0, cfg.bad_fraction)) * 255))
        # backward vectors of frame i match frame i+1 against frame i: _SceneChangeNext flags the pair
        self.reliability = core.mv.SCDetection(search, self.bv, thscd1=cfg.bad_sad, thscd2=th2)
        if cfg.local_ml is not None:
            mb = core.mv.Mask(search, self.bv, ml=cfg.local_ml, gamma=cfg.local_gamma, kind=1)
            mf = core.mv.Mask(search, self.fv, ml=cfg.local_ml, gamma=cfg.local_gamma, kind=1)
            # fv of frame i+1 is the match of i+1 against i: align it with pair i
            mf = mf[1:] + mf[-1]
            self.sad_mask: vs.VideoNode | None = core.std.Expr([mb, mf], ["x y max"] + [""] * (fmt.num_planes - 1))
        else:
            self.sad_mask = None
        self.judge_mask: vs.VideoNode | None = None
        self.direction_mask: vs.VideoNode | None = None
        self.vector_error: vs.VideoNode | None = None
        if cfg.judge and cfg.fusion:
            self.direction_mask, self.judge_mask, self.vector_error = _fusion_masks(search, sup_search, self.bv,
                                                                                   self.fv, cfg)
        elif cfg.judge:
            self.judge_mask = _judge_mask(search, sup_search, self.bv, self.fv, cfg)
        if self.judge_mask is not None and cfg.validate_db is not None and clip.num_frames >= 4:
            val = _validation(search, clip, cfg, durations)
            tagged = core.std.CopyFrameProps(self.judge_mask, val, props=["VsrMCShare"])
            self.judge_mask = core.akarin.Expr(tagged, "x x.VsrMCShare *")
        self.dense = (DenseFlow(clip, core.std.ShufflePlanes(search, 0, vs.GRAY), cfg.judge_radius,
                                cfg.dense_preset) if cfg.dense else None)
        self.dense_mask: vs.VideoNode | None = None
        if self.dense is not None and self.vector_error is not None:
            # per pixel, the dense picture's share against the vectors' by how well each predicts the two frames
            # from each other (weights as in the fusion), ``dense_weight`` where they predict equally well
            fl, pw, wd = cfg.fusion_floor * peak_of(search) / 255.0, cfg.fusion_power, cfg.dense_weight
            self.dense_mask = core.akarin.Expr(
                [self.vector_error, self.dense.errors],
                f"{wd} y {fl} + {pw} pow / dw! {1 - wd} x {fl} + {pw} pow / dw@ + dw@ swap / {peak_of(search)} *")
        self._nodes: dict[int, vs.VideoNode] = {}
        self._lock = threading.Lock()

    def parts(self, q: int) -> dict[str, vs.VideoNode]:
        """The pictures behind :meth:`at` at phase ``q/256`` (1..255), in the engine's work format: ``flow``
        (``FlowInter``'s), ``sides`` (the two one-sided pictures mixed by ``direction_mask``; only with
        ``fusion``), ``blend`` (the cross-fade of frames i and i+1), ``mask`` (the share of compensation, with
        ``judge``), ``dense`` (the dense-flow picture) and ``dense_mask`` (its share against the vectors'
        pictures, with ``dense``) and ``out`` (the engine's picture, before ``post``)."""
        big = dict(thscd1=16320, thscd2=255)
        pct = q * 100.0 / 256  # the instant, in percent of the way from frame i to i+1
        planes = self.clip.format.num_planes
        fields: list[list[vs.VideoNode]] = []  # per vector field, the pictures averaged for it
        res: dict[str, vs.VideoNode] = {}
        for k, (bv, fv) in enumerate([(self.bv, self.fv), *self.extra]):
            flow = core.mv.FlowInter(self.clip, self.super, bv, fv, time=pct, ml=self.settings.ml, blend=0, **big)
            if k == 0:
                res["flow"] = flow
            if self.direction_mask is None:
                fields.append([flow])
                continue
            # frame i carried on to the instant (forward vectors of frame i+1) and frame i+1 carried back
            # to it (backward vectors of frame i), mixed by how well each side's vectors predict; averaged with
            # FlowInter's picture, whose first-order errors (on zooms) lie the other way
            prev = shifted(core.mv.Flow(self.clip, self.super, fv, time=pct, **big), 1)
            nxt = core.mv.Flow(self.clip, self.super, bv, time=100.0 - pct, **big)
            sides = core.std.MaskedMerge(nxt, prev, self.direction_mask, planes=None, first_plane=True)
            if k == 0:
                res["sides"] = sides
            fields.append([flow, sides])
        # the average of the fields' pictures, rounded once
        terms = [(pic, 1.0 / len(fields) / len(field)) for field in fields for pic in field]
        if len(terms) > 1:
            expr = " ".join(f"src{i} {w!r} *" for i, (_, w) in enumerate(terms)) + " +" * (len(terms) - 1)
            node = core.akarin.Expr([pic for pic, _ in terms], [expr] * planes)
        else:
            node = terms[0][0]
        if self.dense is not None:  # the dense-flow picture joins them, per pixel by its share
            d0, d1 = self.dense.at(q)
            res["dense"] = core.std.Merge(d0, d1, weight=q / 256)
            if self.dense_mask is not None:
                res["dense_mask"] = self.dense_mask
                node = core.std.MaskedMerge(node, res["dense"], self.dense_mask, planes=None, first_plane=True)
            else:
                node = core.std.Merge(node, res["dense"], weight=self.settings.dense_weight)
        mix = core.std.Merge(self.clip, self._next, weight=q / 256)
        res["blend"] = mix
        if self.judge_mask is not None:
            res["mask"] = self.judge_mask
            node = core.std.MaskedMerge(mix, node, self.judge_mask, planes=None, first_plane=True)
        if self.sad_mask is not None:
            node = core.std.MaskedMerge(node, mix, self.sad_mask, planes=None, first_plane=True)
        res["out"] = node
        return res

    def at(self, q: int) -> vs.VideoNode:
        """Frame i of the result is the picture at phase ``q/256`` between source frames i and i+1.

        (mvtools draws at 1/256 steps, so phases are quantised to that; ``q`` is in 1..255.)
        """
        with self._lock:
            node = self._nodes.get(q)
            if node is None:
                node = self.parts(q)["out"]
                if self._post is not None:
                    node = self._post(node)
                self._nodes[q] = node
            return node

    def unreliable(self, f: vs.VideoFrame) -> bool:
        """Whether the pair (i, i+1) described by frame i of :attr:`reliability` has bad vectors."""
        p = f.props
        return bool(p.get("_SceneChangeNext", 0))
