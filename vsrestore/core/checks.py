"""Input checks shared by every vsrestore filter.

Every public filter calls :func:`check_clip` first, so bad input is refused with one kind of message: it names
the filter, the argument and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable

import vapoursynth as vs

__all__ = ["check_clip", "float_format_for", "is_constant"]


def is_constant(clip: vs.VideoNode) -> bool:
    """True when the clip has one format and one frame size."""
    return (
        clip.format is not None and clip.format.color_family != vs.UNDEFINED and clip.width > 0 and clip.height > 0
    )


def check_clip(
    clip: object,
    func: str,
    *,
    arg: str = "clip",
    families: Iterable[vs.ColorFamily] | None = None,
    need_fps: bool = False,
    max_bits: int = 32,
    min_size: int = 1,
) -> vs.VideoNode:
    """Refuse clips that a filter cannot take, with a message that names the input and the fix.

    :param clip: the value passed by the user.
    :param func: the filter's public name, for the message (``"vsrestore.decimate"``).
    :param arg: the argument's name.
    :param families: colour families accepted (None: GRAY, YUV and RGB).
    :param need_fps: the filter needs a constant, known frame rate.
    :param min_size: the smallest width and height accepted, in pixels.
    :returns: the clip, typed.
    """
    if not isinstance(clip, vs.VideoNode):
        raise vs.Error(f"{func}: '{arg}' must be a VapourSynth video clip (vs.VideoNode), not {type(clip).__name__}")
    if not is_constant(clip):
        raise vs.Error(
            f"{func}: '{arg}' changes its pixel format or frame size from frame to frame; make it constant first: "
            f"from the command line, re-encode the file (ffmpeg -i IN -vf scale=W:H,format=yuv420p -c:v ffv1 "
            f"OUT.mkv); in a script, clip = core.resize.Bicubic(clip, width=W, height=H, format=vs.YUV420P16)"
        )
    fams = tuple(families) if families is not None else (vs.GRAY, vs.YUV, vs.RGB)
    if clip.format.color_family not in fams:
        names = ", ".join(f.name for f in fams)
        raise vs.Error(
            f"{func}: '{arg}' is {clip.format.name}, colour family {clip.format.color_family.name}; "
            f"accepted families: {names}. Convert it with core.resize (e.g. format=vs.YUV420P16), or re-encode "
            f"the file with ffmpeg -vf format=yuv420p"
        )
    if clip.format.bits_per_sample > max_bits:
        raise vs.Error(f"{func}: '{arg}' is {clip.format.name}; at most {max_bits} bits per sample are accepted")
    if clip.width < min_size or clip.height < min_size:
        raise vs.Error(
            f"{func}: '{arg}' is {clip.width}x{clip.height}; it must be at least {min_size}x{min_size} pixels"
        )
    if need_fps and (clip.fps.numerator == 0 or clip.fps.denominator == 0):
        raise vs.Error(
            f"{func}: '{arg}' has a variable frame rate (fps 0/1); give it a constant rate first, e.g. "
            f"clip = core.std.AssumeFPS(clip, fpsnum=24, fpsden=1)"
        )
    return clip


def float_format_for(fmt: vs.VideoFormat, *, subsampled: bool = False) -> vs.VideoFormat:
    """The 32-bit float format of the same colour family (4:4:4 unless ``subsampled``)."""
    core = vs.core
    ssw, ssh = (fmt.subsampling_w, fmt.subsampling_h) if subsampled else (0, 0)
    return core.query_video_format(fmt.color_family, vs.FLOAT, 32, ssw, ssh)
