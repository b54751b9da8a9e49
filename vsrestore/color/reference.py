"""Reference colours: hand-coloured frames (or colour photographs of the scene) steer the predicted chroma.

Each frame takes the nearest reference frame (within ``radius`` frames). The reference is motion-compensated
onto the frame with mvtools (vectors from the luma, reference and frame interleaved so that any distance
becomes one step), and its chroma replaces the prediction where the compensated luma matches the frame's
(same weighting as :mod:`.stabilize`); where matching fails, or mvtools sees a different scene, the
prediction stays.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import vapoursynth as vs

from ..core.checks import check_clip
from ..core.planes import plane_view
from .stabilize import MotionSettings, match_weight, to_p16, to_ps

__all__ = ["ReferenceSpec", "apply_reference", "normalize_reference"]

core = vs.core

type RefSource = vs.VideoNode | str | os.PathLike[str]
type ReferenceSpec = vs.VideoNode | Mapping[int, RefSource]
FUNC = "vsrestore.colorize"


def _open(src: RefSource, key: int) -> vs.VideoNode:
    if isinstance(src, vs.VideoNode):
        return src
    from ..core.source import load_source

    path = os.fspath(src)
    if not os.path.isfile(path):
        raise vs.Error(f"{FUNC}: reference[{key}] = {path!r} is not a file; pass an image/video path or a clip")
    return load_source(path)


def normalize_reference(reference: ReferenceSpec, num_frames: int) -> dict[int, vs.VideoNode]:
    """{frame number: one-frame colour clip}. A clip as long as the input gives a reference for every frame."""
    if isinstance(reference, vs.VideoNode):
        check_clip(reference, FUNC, arg="reference", families=(vs.YUV, vs.RGB))
        if reference.num_frames != num_frames:
            raise vs.Error(
                f"{FUNC}: 'reference' clip has {reference.num_frames} frames but the clip has {num_frames}; pass "
                f"a dict {{frame_number: colour_frame}} for a few frames"
            )
        return {-1: reference}
    if not isinstance(reference, Mapping):
        raise vs.Error(
            f"{FUNC}: 'reference' must be a clip or a dict {{frame number: clip or image path}}, "
            f"not {type(reference).__name__}"
        )
    out: dict[int, vs.VideoNode] = {}
    for key, src in reference.items():
        if not isinstance(key, int) or not 0 <= key < num_frames:
            raise vs.Error(f"{FUNC}: reference key {key!r} must be a frame number in 0..{num_frames - 1}")
        clip = check_clip(_open(src, key), FUNC, arg=f"reference[{key}]", families=(vs.YUV, vs.RGB))
        out[key] = clip[key] if clip.num_frames == num_frames else clip[0]
    if not out:
        raise vs.Error(f"{FUNC}: 'reference' is empty")
    return out


def to_yuv444s(ref: vs.VideoNode, width: int, height: int) -> vs.VideoNode:
    """A colour clip (YUV or RGB, BT.709 assumed for RGB) resized to width x height as YUV444PS."""
    fmt = ref.format
    assert fmt is not None
    if fmt.color_family == vs.RGB:
        return core.resize.Bicubic(ref, width, height, format=vs.YUV444PS, matrix_s="709")
    return core.resize.Bicubic(ref, width, height, format=vs.YUV444PS)


def apply_reference(
    small: vs.VideoNode, refs: dict[int, vs.VideoNode], radius: int = 48, sigma: float = 0.03
) -> vs.VideoNode:
    """Steer the U/V planes of ``small`` (YUV444PS working-size clip, Y = luma) with reference frames.

    :param refs: from :func:`normalize_reference` ({-1: clip} means every frame has its own reference).
    :param radius: frames a reference reaches on each side.
    :returns: YUV444PS; props ``ColorReferenceFrame`` (the reference's frame number, -1 for none) and
        ``ColorReferenceWeight`` (mean weight of the reference's chroma in this frame, 0..1).
    """
    n_frames, w, h = small.num_frames, small.width, small.height
    if -1 in refs:
        ref_clip = to_yuv444s(refs[-1], w, h)
        ref_of = list(range(n_frames))
    else:
        keys = sorted(refs)
        smalls = {k: core.std.AssumeFPS(to_yuv444s(refs[k], w, h), small) for k in keys}
        ref_of = []
        for n in range(n_frames):
            k = min(keys, key=lambda k: (abs(k - n), k))
            ref_of.append(k if abs(k - n) <= radius else -1)
        pieces: list[vs.VideoNode] = []
        start = 0
        for n in range(1, n_frames + 1):
            if n == n_frames or ref_of[n] != ref_of[start]:
                k = ref_of[start]
                src = smalls[k] if k >= 0 else small[0]
                pieces.append(src * (n - start))
                start = n
        ref_clip = core.std.Splice(pieces) if len(pieces) > 1 else pieces[0]
    ref_clip = core.std.AssumeFPS(ref_clip, small)
    ms = MotionSettings
    z = to_p16(core.std.Interleave([ref_clip, small]))
    sup = core.mv.Super(z, pel=2, sharp=2, hpad=16, vpad=16)
    vec = core.mv.Analyse(
        sup, isb=False, delta=1, blksize=ms.blksize, overlap=ms.overlap, chroma=False, truemotion=False
    )
    comp = to_ps(core.std.SelectEvery(core.mv.Compensate(z, sup, vec, thscd1=ms.thscd1, thscd2=ms.thscd2), 2, 1))
    scd = core.std.SelectEvery(core.mv.SCDetection(z, vec, thscd1=ms.thscd1, thscd2=ms.thscd2), 2, 1)

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        cur, rc, sc = f
        fout = cur.copy()
        k = ref_of[n]
        weight = 0.0
        if k >= 0 and not sc.props.get("_SceneChangePrev", 0):
            wt = match_weight(np.asarray(plane_view(cur, 0)), np.asarray(plane_view(rc, 0)), sigma)
            for p in (1, 2):
                pv = plane_view(fout, p)
                pv[...] = wt * np.asarray(plane_view(rc, p)) + (1.0 - wt) * np.asarray(plane_view(cur, p))
            weight = float(wt.mean())
        fout.props["ColorReferenceFrame"] = k if weight > 0 else -1
        fout.props["ColorReferenceWeight"] = weight
        return fout

    return core.std.ModifyFrame(small, [small, comp, scd], apply)
