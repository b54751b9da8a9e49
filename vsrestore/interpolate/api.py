"""``vsrestore.interpolate``: from the film's own cadence to a standard rate, aware of cuts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.checks import check_clip

from .blend import blend_pair
from .mvflow import MVEngine, MVSettings, work_format
from .scenecut import CutSettings, pair_analysis
from .timing import RateLike, Schedule, clip_durations, make_schedule, parse_rate

if TYPE_CHECKING:
    from .rife.settings import RifeSettings  # its module imports torch: only RIFE needs it

__all__ = ["Engine", "FallbackReason", "interpolate"]

core = vs.core
FUNC = "vsrestore.interpolate"


class Engine(StrEnum):
    """How in-between frames are drawn."""

    MVTOOLS = "mvtools"  #: classical motion-compensated interpolation (default, no weights needed)
    RIFE = "rife"  #: RIFE 4.x optical-flow network (needs a flownet.pkl checkpoint)
    BLEND = "blend"  #: cross-fade of the two neighbouring frames
    REPEAT = "repeat"  #: the source frame nearest in time


class FallbackReason(StrEnum):
    """Why an output frame was not drawn by the chosen engine (``InterpolateFallback`` prop)."""

    NONE = "none"  #: drawn by the engine (or an exact source frame, phase 0)
    CUT = "cut"  #: a scene cut lies between the two source frames: nearest frame repeated
    FLAT = "flat"  #: fade to/from a frame without contrast: the two frames are blended
    UNRELIABLE = "unreliable"  #: motion too large or vectors unreliable for this pair
    END = "end"  #: after the last source frame: it is repeated


def _target_rate(clip: vs.VideoNode, durs: Sequence[Fraction], fps: RateLike | None,
                 factor: RateLike | None) -> Fraction:
    if (fps is None) == (factor is None):
        raise ValueError(f"{FUNC}: give exactly one of fps= (target rate, e.g. 24 or '30000/1001') or factor= "
                         f"(multiple of the source rate, e.g. 2)")
    if fps is not None:
        return parse_rate(fps, name="fps")
    assert factor is not None
    f = parse_rate(factor, name="factor")
    src_rate = Fraction(len(durs)) / sum(durs, Fraction(0))
    return src_rate * f


def _remap(clip: vs.VideoNode, index: Sequence[int], template: vs.VideoNode) -> vs.VideoNode:
    """Frame k of the result is frame ``index[k]`` of ``clip`` (``template`` gives length and rate)."""
    base = core.std.BlankClip(clip, length=template.num_frames, fpsnum=template.fps.numerator,
                              fpsden=template.fps.denominator, keep=True)
    return core.std.FrameEval(base, lambda n: clip[index[n]])


def interpolate(
    clip: vs.VideoNode,
    fps: RateLike | None = None,
    *,
    factor: RateLike | None = None,
    engine: Engine | str = Engine.MVTOOLS,
    model: str | os.PathLike[str] | None = None,
    durations: Sequence[Fraction] | None = None,
    fallback: Engine | str = Engine.REPEAT,
    detect_cuts: bool = True,
    cut_settings: CutSettings | None = None,
    mv_settings: MVSettings | None = None,
    backend: Backend | None = None,
    rife_settings: RifeSettings | None = None,
) -> vs.VideoNode:
    """Make a clip smooth at a standard rate by drawing in-between frames.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float, constant size. Constant rate, or variable rate
        (``fps`` 0/1) with ``_DurationNum``/``_DurationDen`` on every frame, as the decimator emits (they are
        read once, here, which renders the clip's frames once; pass ``durations`` to skip that).
    :param fps: target rate in frames/second: ``24``, ``25``, ``Fraction(30000, 1001)``, ``'30000/1001'``,
        ``23.976`` ... (exactly one of ``fps`` and ``factor``).
    :param factor: target rate as a multiple of the source's (mean) rate, e.g. ``2`` or ``'3/2'``.
    :param engine: :class:`Engine`; default mvtools (no weights needed).
    :param model: RIFE only: a ``flownet.pkl`` path, a directory holding it, or a bare name looked up in
        ``$VSRESTORE_MODEL_DIR`` (see :mod:`vsrestore.core.weights`). Never downloaded.
    :param durations: per-source-frame durations in seconds, overriding the clip's rate/props.
    :param fallback: what to draw for pairs whose motion is unreliable: ``Engine.REPEAT`` (nearest frame,
        default: never a double image) or ``Engine.BLEND``.
    :param detect_cuts: look for scene cuts and fades between source frames (default on).
    :param cut_settings, mv_settings: thresholds of the cut detector and parameters of the mvtools engine.
    :param backend: RIFE only: device and precision (default CUDA with fp16 when present, else CPU fp32).
    :param rife_settings: RIFE only: flow ``scale`` (0.25-4; 0.5 for 4K), ``ensemble`` and ``padding``
        (default: as Practical-RIFE's ``inference_video.py`` runs it, zeros to a multiple of
        ``max(128, 128 / scale)``); see :class:`~vsrestore.interpolate.rife.RifeSettings`.
    :returns: a constant-rate clip at ``fps`` in the input's format, ``ceil(T * fps)`` frames long (``T``:
        the source length in seconds; output frame k shows source time ``k / fps``). Frame props:

        * ``_DurationNum``/``_DurationDen``: ``1/fps``; ``_AbsoluteTime``: ``k / fps`` seconds;
        * ``InterpolateSource`` (int): the source frame at or before this instant;
        * ``InterpolatePhase`` (float, 0..1): position between that frame (0) and the next (1);
        * ``InterpolateFallback`` (str): a :class:`FallbackReason` (``none``, ``cut``, ``flat``,
          ``unreliable``, ``end``);
        * ``InterpolateSceneCut`` (int 0/1): a cut lies between the two source frames;
        * ``InterpolateFade`` (int 0/1): the two source frames are part of a fade;
        * ``InterpolateEngine`` (str): what drew the frame (``copy`` for an exact source frame, else an
          :class:`Engine` value).
    :raises vs.Error: unusable clip; :class:`ValueError`: bad rate or durations, RIFE settings the model's
        version cannot run (ensemble on 4.21 and later);
        :class:`~vsrestore.core.weights.WeightsError`: RIFE weights missing or not RIFE 4.x.
    """
    try:
        eng = Engine(engine)
        fb = Engine(fallback)
    except ValueError as e:
        raise ValueError(f"{FUNC}: {e}; engines: {', '.join(x.value for x in Engine)}") from e
    if fb not in (Engine.REPEAT, Engine.BLEND):
        raise ValueError(f"{FUNC}: fallback={fb.value!r} must be 'repeat' or 'blend'")
    mvs = mv_settings or MVSettings()
    # mvtools' FlowInter crashes the process on pictures exactly 32 pixels wide (2 x its padding): a margin of 8
    min_size = 2 * max(mvs.blksize, mvs.second_blksize or 0, 16) + 8 if eng == Engine.MVTOOLS else 1
    check_clip(clip, FUNC)
    if min(clip.width, clip.height) < min_size:
        raise vs.Error(f"{FUNC}: 'clip' is {clip.width}x{clip.height}; motion interpolation needs at least "
                       f"{min_size}x{min_size} pixels: scale it up first (core.resize.Spline36) or pass "
                       f"engine='blend'")
    if durations is not None:
        durs = [Fraction(d) for d in durations]
        if len(durs) != clip.num_frames:
            raise ValueError(f"{FUNC}: durations has {len(durs)} entries but the clip has {clip.num_frames} frames")
    else:
        durs = clip_durations(clip, func=FUNC)
    rate = _target_rate(clip, durs, fps, factor)
    sched = make_schedule(durs, rate)
    return _build(clip, sched, eng, fb, model, detect_cuts, cut_settings, mv_settings, backend, rife_settings)


def _mv_engine(clip: vs.VideoNode, settings: MVSettings | None,
               durations: Sequence[Fraction] | None = None) -> MVEngine:
    """The mvtools engine on ``clip`` (per-frame ``durations`` in seconds), converting to and from mvtools'
    formats where needed."""
    fmt = clip.format
    wfmt = work_format(fmt)
    if wfmt.id == fmt.id:
        return MVEngine(clip, settings, durations=durations)
    rgb = fmt.color_family == vs.RGB
    resize = core.resize.Bicubic if wfmt.subsampling_w != fmt.subsampling_w else core.resize.Point
    work = resize(clip, format=wfmt.id, **({"matrix_s": "709"} if rgb else {}))
    back = {"matrix_in_s": "709"} if rgb else {}

    def to_out(node: vs.VideoNode) -> vs.VideoNode:
        return resize(node, format=fmt.id, **back)

    return MVEngine(work, settings, post=to_out, durations=durations)


def _build(clip: vs.VideoNode, sched: Schedule, eng: Engine, fb: Engine, model: str | os.PathLike[str] | None,
           detect_cuts: bool, cut_settings: CutSettings | None, mv_settings: MVSettings | None,
           backend: Backend | None, rife_settings: RifeSettings | None = None) -> vs.VideoNode:
    n_out = sched.num_frames
    last = clip.num_frames - 1
    rate = sched.fps
    template = core.std.BlankClip(clip, length=n_out, fpsnum=rate.numerator, fpsden=rate.denominator, keep=True)
    src = core.std.AssumeFPS(clip, fpsnum=rate.numerator, fpsden=rate.denominator)
    index = sched.source
    phases = [float(p) for p in sched.phase]

    prop_srcs: list[vs.VideoNode] = []
    if detect_cuts and clip.num_frames > 1:
        pairs = pair_analysis(clip, cut_settings)
        prop_srcs.append(_remap(pairs, index, template))
    mv: MVEngine | None = None
    if eng == Engine.MVTOOLS and clip.num_frames > 1:
        durs = [b - a for a, b in zip(sched.starts[:-1], sched.starts[1:], strict=True)]
        mv = _mv_engine(src, mv_settings, durs)
        prop_srcs.append(_remap(mv.reliability, index, template))
    rife_out: vs.VideoNode | None = None
    if eng == Engine.RIFE and clip.num_frames > 1:
        from .rife.node import rife_frames

        rife_out = rife_frames(src, sched, model=model, backend=backend, template=template,
                               settings=rife_settings)

    cut_pos = 0 if detect_cuts and clip.num_frames > 1 else None
    rel_pos = len(prop_srcs) - 1 if mv is not None else None

    def decide(n: int, f: Sequence[vs.VideoFrame]) -> tuple[str, FallbackReason, int, int]:
        """(what draws it, why, scene cut flag, fade flag) for output frame n."""
        i, ph = index[n], phases[n]
        cut = fade = flat = 0
        if cut_pos is not None:
            p = f[cut_pos].props
            cut, fade, flat = int(p["InterpolateSceneCut"]), int(p["InterpolateFade"]), int(p["InterpolateFlat"])
        if ph == 0.0:
            return "copy", FallbackReason.NONE, cut, fade
        if i >= last:
            return Engine.REPEAT.value, FallbackReason.END, cut, fade
        if cut:
            return Engine.REPEAT.value, FallbackReason.CUT, cut, fade
        if eng == Engine.REPEAT:
            return eng.value, FallbackReason.NONE, cut, fade
        if flat and eng != Engine.BLEND:
            return Engine.BLEND.value, FallbackReason.FLAT, cut, fade
        if mv is not None and rel_pos is not None and mv.unreliable(f[rel_pos]):
            return fb.value, FallbackReason.UNRELIABLE, cut, fade
        return eng.value, FallbackReason.NONE, cut, fade

    def select(n: int, f: list[vs.VideoFrame] | vs.VideoFrame | None = None) -> vs.VideoNode:
        frames = [] if f is None else (f if isinstance(f, list) else [f])
        how, _, _, _ = decide(n, frames)
        i, ph = index[n], phases[n]
        if how == "copy":
            return src[i]
        if how == Engine.REPEAT.value:
            return src[sched.nearest(n)]
        if how == Engine.BLEND.value:
            return blend_pair(src, i, ph)
        if how == Engine.MVTOOLS.value and mv is not None:
            q = round(ph * 256)
            if q <= 0:
                return src[i]
            if q >= 256:
                return src[i + 1]
            return mv.at(q)[i]
        if how == Engine.RIFE.value and rife_out is not None:
            return rife_out
        raise vs.Error(f"{FUNC}: internal error: no picture for output frame {n} ({how})")  # pragma: no cover

    if prop_srcs:
        picked = core.std.FrameEval(template, select, prop_src=prop_srcs)
    else:
        picked = core.std.FrameEval(template, select)

    def tag(n: int, f: list[vs.VideoFrame] | vs.VideoFrame) -> vs.VideoFrame:
        frames = f if isinstance(f, list) else [f]
        fout = frames[0].copy()
        how, why, cut, fade = decide(n, frames[1:])
        p = fout.props
        p["_DurationNum"] = rate.denominator
        p["_DurationDen"] = rate.numerator
        p["_AbsoluteTime"] = float(Fraction(n) / rate)
        p["InterpolateSource"] = index[n]
        p["InterpolatePhase"] = phases[n]
        p["InterpolateFallback"] = why.value
        p["InterpolateSceneCut"] = cut
        p["InterpolateFade"] = fade
        p["InterpolateEngine"] = how
        for key in ("_SceneChangePrev", "_SceneChangeNext", "VsrLevelLo", "VsrLevelHi"):
            if key in p:
                del p[key]
        return fout

    return core.std.ModifyFrame(picked, [picked, *prop_srcs], tag)
