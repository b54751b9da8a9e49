"""``vsrestore.colorize``: colour black-and-white film, chroma only, stable over time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum

import vapoursynth as vs

from ..core.backend import Backend
from ..core.bridge import TorchRunner
from ..core.checks import check_clip
from ..core.deferred import deferrable, is_building
from .combine import merge_chroma, normalize_weights
from .infer import predict_chroma
from .keyframes import check_keyframes
from .options import ColorArch, ColorMerge, ColorOut
from .plan import ColorizerPlan, plan_colorizer
from .propagate import PropagateSettings, propagate_keyframes
from .reference import ReferenceSpec, apply_reference, normalize_reference
from .stabilize import STAB_PASSES, motion_field, stabilize_chroma

__all__ = ["colorize", "working_size"]

core = vs.core
FUNC = "vsrestore.colorize"
_PROPS = ("ColorSceneCut", "ColorStabWeight", "ColorReferenceFrame", "ColorReferenceWeight")
ModelSpec = str | os.PathLike[str] | None


def working_size(width: int, height: int, render_size: int) -> tuple[int, int]:
    """(w, h) of the picture the model sees: short side ``render_size`` (never above the input's), aspect kept,
    even sides."""
    short = min(width, height)
    s = min(render_size, short)
    w = max(2, round(width * s / short / 2) * 2)
    h = max(2, round(height * s / short / 2) * 2)
    return w, h


def _parse_enum[E: StrEnum](value: E | str, kind: type[E], arg: str, what: str) -> E:
    """``value`` as a member of ``kind`` (its string value accepted, any case), else one clear error."""
    try:
        return value if isinstance(value, kind) else kind(str(value).lower())
    except ValueError:
        choices = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
        raise vs.Error(f"{FUNC}: {arg}={value!r} is not {what}; use one of {choices}") from None


def _parse_out(out: ColorOut | str) -> ColorOut:
    return _parse_enum(out, ColorOut, "out", "an output format")


def _source_range(clip: vs.VideoNode) -> int:
    """The input's range as ``vs.Range`` (1 full, 0 limited), from frame 0's ``_Range`` (or the older
    ``_ColorRange``: 0 full, 1 limited); limited when neither is set, full for float."""
    fmt = clip.format
    assert fmt is not None
    if fmt.sample_type == vs.FLOAT:
        return int(vs.Range.RANGE_FULL)
    props = clip.get_frame(0).props
    if "_Range" in props:
        return int(props["_Range"])  # type: ignore[call-overload]
    if "_ColorRange" in props:
        return 1 - int(props["_ColorRange"])  # type: ignore[call-overload]
    return int(vs.Range.RANGE_LIMITED)


def _parse_merge(merge: ColorMerge | str) -> ColorMerge:
    return _parse_enum(merge, ColorMerge, "merge", "a merge mode")


def _model_list(model: ModelSpec | Sequence[ModelSpec]) -> list[ModelSpec]:
    if isinstance(model, (list, tuple)):
        if not model:
            raise vs.Error(f"{FUNC}: model=[] names no model; pass one path, a list of paths, or None for the default")
        return list(model)
    return [model]  # type: ignore[list-item]


def _predict(
    luma: vs.VideoNode, rng: int, loaded: ColorizerPlan, backend: Backend | None, tile: int | None
) -> tuple[vs.VideoNode, vs.VideoNode]:
    """(luma at the model's working size, GRAYS; its prediction, YUV444PS) for one loaded model."""
    ww, wh = working_size(luma.width, luma.height, loaded.render_size)
    small_luma = core.resize.Bicubic(luma, ww, wh, format=vs.GRAYS, range_in=rng)
    runner = TorchRunner(
        loaded.model,
        backend=backend,
        tile=None if loaded.square else tile,
        overlap=16,
        multiple=loaded.multiple,
        lazy=True,
        channels_last=loaded.arch == ColorArch.DEFAULT,  # a plain conv net: faster so on the CPU, same result
    )
    return small_luma, predict_chroma(small_luma, runner)


def colorize(
    clip: vs.VideoNode,
    model: ModelSpec | Sequence[ModelSpec] = None,
    *,
    weights: Sequence[float] | None = None,
    merge: ColorMerge | str = ColorMerge.WEIGHTED,
    merge_limit: float = 0.1,
    render_size: int | None = None,
    out: ColorOut | str = ColorOut.YUV420,
    saturation: float = 1.0,
    stabilize: bool = True,
    radius: int = 8,
    reference: ReferenceSpec | None = None,
    reference_radius: int | None = None,
    backend: Backend | None = None,
    tile: int | None = None,
) -> vs.VideoNode:
    """Colour a black-and-white clip: the model predicts chroma from the luma; the luma stays the input's.

    :param clip: GRAY, YUV or RGB, any bit depth, constant format and size. A colour clip is coloured anew from
        its luma (for RGB, BT.709 luma).
    :param model: None for vsrestore's embedded default (``vsrestore/models/vsrestore_colorizer_small.pth``: two
        compact nets trained on different photo sets, their chroma averaged and muted where their hues
        disagree), a path to another checkpoint of that architecture (one net or an ensemble, as written by
        ``scripts/train_colorizer.py``), or a path / directory / bare name of DeOldify's
        ``ColorizeVideo_gen.pth``, ``ColorizeStable_gen.pth`` or ``ColorizeArtistic_gen.pth`` (found via
        ``$VSRESTORE_MODEL_DIR``; never downloaded), or of DDColor's ``ddcolor_modelscope.pth``,
        ``ddcolor_artistic.pth``, ``ddcolor_paper.pth`` (ConvNeXt-L) or ``ddcolor_paper_tiny.pth`` (ConvNeXt-T)
        from https://github.com/piddnad/DDColor (weights under ``params`` or bare; the unused ``head_cls`` keys
        are ignored). The architecture is recognised from the state dict. A list of these (``["ColorizeVideo_gen",
        "ddcolor_artistic"]``) runs every model and merges their chroma (see ``weights`` and ``merge``).
    :param weights: with several models, one weight per model (scaled to sum 1; default equal), e.g.
        ``[0.6, 0.4]``. HAVC's "stable" preset gives DDColor 0.4, its "vivid" one 0.6.
    :param merge: :class:`ColorMerge` (default ``WEIGHTED``): ``WEIGHTED`` averages the models' chroma with
        ``weights``; ``CONSTRAINED`` ("DDColor colours, DeOldify stabilises") first clamps every model's Cb and Cr
        after the first to within ``merge_limit`` of the first model's, so give the steadier model (DeOldify's
        video model) first.
    :param merge_limit: for ``CONSTRAINED``, the largest chroma distance from the first model, in chroma units
        (-0.5..0.5 scale; default 0.1, HAVC's 10%; 0 gives the first model's chroma).
    :param render_size: working size in pixels. Default model: the short side of the picture it sees (default
        128; at most the input's). DeOldify: the side of the square it renders (DeOldify's ``render_factor *
        16``; rounded to a multiple of 16; default 336 = factor 21 for the video and stable models, 560 = 35 for
        the artistic one). DDColor: the side of the square it renders (its ``input_size``; rounded to a multiple
        of 32, at least 64; default 512). With several models it applies to each (None: each its own default).
        The model runs at this size only, so memory does not grow with the frame size.
    :param out: :class:`ColorOut`: YUV420 (default; needs even width and height), YUV444 (the input's luma
        plane bit-exact, same depth) or RGB (same depth; float input gives RGBS).
    :param saturation: scale of the predicted chroma (default 1.0: the model's own; for the default model the
        most colour that keeps its mean chroma error at flat grey's on the tuning footage, about half the
        colourfulness of real footage; 0.4 gives the muted look shipped before, 1.5-2 a livelier picture, 0 grey;
        see ``benchmarks/results/colorize.md``). Reference colours are not scaled.
    :param stabilize: motion-compensated temporal smoothing of the chroma (see :mod:`.stabilize`), run
        ``STAB_PASSES`` times (each pass smooths the previous one's output, so the support is passes * radius
        frames each side with tapering weights; it never crosses a scene cut); False gives the raw per-frame
        prediction.
    :param radius: stabilisation neighbours on each side per pass, frames (default 8).
    :param reference: colour keyframes that steer the colours: a dict ``{frame number: one-frame clip, clip as long
        as the input (its frame at that number is used) or image/video path}``, or a colour clip as long as the
        input (every frame its own reference). A keyframe is the clip's frame coloured (by hand, say): same size,
        same picture (refused with the reason otherwise, see :func:`.keyframes.check_keyframes`). Each one
        colours its whole shot, both directions, until a scene cut or the next keyframe (see
        :mod:`.propagate`): carried frame to frame along motion, new content coloured from where the keyframe
        shows similar picture, the automatic prediction (at half its chroma) only where neither knows.
    :param reference_radius: the most frames on each side a keyframe reaches (default None: its whole shot).
    :param backend: torch device / precision / threads (default: CUDA + fp16 when present, else CPU fp32).
    :param tile: tile side in working-size pixels for the default model (None: whole picture, the default and
        the better choice: the net's global scene context is then per tile, which can change colours by a few
        levels); DeOldify and DDColor always render their square whole.
    :returns: the coloured clip. Frame props: the input's, plus ``_Matrix`` (the input's for YUV, else 1 =
        BT.709) and ``_Range`` (the input's; full for RGB input); ``ColorSceneCut`` (1: stabilisation
        restarted at a cut before this frame), ``ColorStabWeight`` (mean total weight the neighbours got),
        ``ColorReferenceFrame`` (reference used, -1 none), ``ColorReferenceWeight`` (0..1 share of the
        reference's chroma).

    Memory: the model only ever sees ``render_size`` pixels (the default model: each of its two nets runs three
    passes, at 0.75, 1 and 1.25 x that size, one after the other), whatever the frame size, so its memory does
    not grow with the frame (GPU or CPU): measured on the CPU, 40 frames of a 2048x1080 GRAY16 clip through the
    whole node (default model, stabilisation on: 3 passes of radius 8) raised a fresh process's peak RSS by
    about 0.4 GB, VapourSynth's frame caches included (``benchmarks/colorize.py --speed-only``).
    DeOldify's and DDColor's memory is set by their square render size alone; on CUDA they run in fp16 (see
    ``backend``). With several models, each runs at its own working size; the others' chroma is resized to the
    first one's working size before the merge, and stabilisation and references act on the merged chroma.
    """
    check_clip(clip, FUNC, min_size=8)
    ofmt = _parse_out(out)
    if radius < 1:
        raise vs.Error(f"{FUNC}: radius={radius} must be at least 1 (use stabilize=False to turn it off)")
    if not 0.0 <= saturation <= 4.0:
        raise vs.Error(f"{FUNC}: saturation={saturation} is out of range; use 0 (grey) to 4 (1.0 is the model's own)")
    if reference_radius is not None and reference_radius < 0:
        raise vs.Error(f"{FUNC}: reference_radius={reference_radius} must be >= 0")
    fmt = clip.format
    assert fmt is not None
    if ofmt == ColorOut.YUV420 and (clip.width % 2 or clip.height % 2):
        raise vs.Error(
            f"{FUNC}: clip is {clip.width}x{clip.height}; out=YUV420 needs even sides. Use out=ColorOut.YUV444 "
            f"or crop/pad one pixel first"
        )
    specs = _model_list(model)
    mode = _parse_merge(merge)
    wts = normalize_weights(weights, len(specs), FUNC)
    if not 0.0 <= merge_limit <= 1.0:
        raise vs.Error(f"{FUNC}: merge_limit={merge_limit} is out of range; use 0 (the first model's chroma) to 1")
    models = [plan_colorizer(m, render_size) for m in specs]  # the default loads at the first frame
    refs = normalize_reference(reference, clip.num_frames) if reference is not None else None

    # the luma plane that is kept, and the output's range and matrix
    matrix = 1
    if fmt.color_family == vs.RGB:
        yuv_fmt = core.query_video_format(vs.YUV, fmt.sample_type, fmt.bits_per_sample, 0, 0)
        yuv = core.resize.Point(clip, format=yuv_fmt.id, matrix_s="709", range_s="full")
        luma = core.std.ShufflePlanes(yuv, 0, vs.GRAY)
        rng = int(vs.Range.RANGE_FULL)
    else:
        luma = core.std.ShufflePlanes(clip, 0, vs.GRAY) if fmt.color_family == vs.YUV else clip
        rng = _source_range(clip)
        if fmt.color_family == vs.YUV:
            m = clip.get_frame(0).props.get("_Matrix", 1)
            matrix = int(m) if int(m) not in (0, 2) else 1  # type: ignore[call-overload]
    luma = core.std.SetFrameProps(luma, _Range=rng)

    # the model(s) at the working size (the first model's, when several are merged)
    small_luma, small = _predict(luma, rng, models[0], backend, tile)
    if len(models) > 1:
        others = [_predict(luma, rng, m, backend, tile)[1] for m in models[1:]]
        others = [core.resize.Bicubic(c, small.width, small.height) for c in others]
        small = merge_chroma([small, *others], wts, mode, merge_limit)
    if saturation != 1.0:
        small = core.std.Expr(small, ["", f"x {saturation} *", f"x {saturation} *"])
    if stabilize:
        motion = motion_field(small_luma, radius)  # searched once, on the luma, for all the passes
        for _ in range(STAB_PASSES):  # (deferrable: the next pass's mvtools read frame 0 while they are built)
            small = deferrable(stabilize_chroma(small, radius=radius, motion=motion))
    if refs is not None and -1 in refs:  # after the stabilisation, so that a hand-coloured frame keeps its colours
        small = apply_reference(small, refs, radius=reference_radius if reference_radius is not None else 0)
    elif refs is not None:
        if not is_building():  # a preset's graph is built on blank frames; it checks its keyframes on the film
            check_keyframes(luma, refs, rng)
        small = propagate_keyframes(luma, refs, small, PropagateSettings(reach=reference_radius), range_in=rng)

    # upsample the chroma and put the original luma back
    ssw, ssh = (1, 1) if ofmt == ColorOut.YUV420 else (0, 0)
    target = core.query_video_format(vs.YUV, fmt.sample_type, fmt.bits_per_sample, ssw, ssh)
    chroma = core.resize.Bicubic(
        small, clip.width, clip.height, format=target.id, range=rng, matrix=matrix, matrix_in=matrix
    )
    result = core.std.ShufflePlanes([luma, chroma, chroma], [0, 1, 2], vs.YUV)
    result = core.std.SetFrameProps(result, _Matrix=matrix, _Range=rng)
    result = core.std.CopyFrameProps(result, chroma, props=list(_PROPS))
    if ofmt == ColorOut.RGB:
        rgb_fmt = core.query_video_format(vs.RGB, fmt.sample_type, fmt.bits_per_sample, 0, 0)
        result = core.resize.Bicubic(result, format=rgb_fmt.id, matrix_in=matrix, range_in=rng)
    return result
