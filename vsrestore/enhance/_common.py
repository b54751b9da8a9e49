"""Helpers shared by the enhancement steps: input checks, working formats and parameter checks."""

from __future__ import annotations

from collections.abc import Iterable

import vapoursynth as vs

from ..core.checks import check_clip

core = vs.core

ALL_FAMILIES = (vs.GRAY, vs.YUV, vs.RGB)
LUMA_FAMILIES = (vs.GRAY, vs.YUV)


def check_input(clip: object, func: str, families: Iterable[vs.ColorFamily] = ALL_FAMILIES) -> vs.VideoNode:
    """check_clip plus the sample types every step takes: 8-16 bit integer or 16/32 bit float."""
    c = check_clip(clip, func, families=families, min_size=8)
    fmt = c.format
    assert fmt is not None
    if fmt.sample_type == vs.INTEGER and not 8 <= fmt.bits_per_sample <= 16:
        raise vs.Error(
            f"{func}: 'clip' is {fmt.name}; integer clips must have 8 to 16 bits per sample "
            f"(convert with core.resize.Point(clip, format=...P16))"
        )
    return c


def check_range(func: str, name: str, value: float, lo: float, hi: float) -> float:
    """Refuse a numeric parameter outside [lo, hi] (or NaN) with a message naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: {name}={value!r} must be a number in [{lo}, {hi}]") from None
    if not lo <= v <= hi:
        raise ValueError(f"{func}: {name}={value!r} is out of range; use a value in [{lo}, {hi}]")
    return v


def check_int(func: str, name: str, value: int, lo: int, hi: int) -> int:
    """Refuse an integer parameter outside [lo, hi], or a non-integer, with a message naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{func}: {name}={value!r} must be an integer in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"{func}: {name}={value} is out of range; use an integer in [{lo}, {hi}]")
    return value


def as_int16(clip: vs.VideoNode) -> vs.VideoNode:
    """The clip at 16-bit integer, same family and subsampling (what mvtools works in here)."""
    fmt = clip.format
    assert fmt is not None
    if fmt.sample_type == vs.INTEGER and fmt.bits_per_sample == 16:
        return clip
    target = fmt.replace(sample_type=vs.INTEGER, bits_per_sample=16)
    return core.resize.Point(clip, format=target.id)


def as_float(clip: vs.VideoNode) -> vs.VideoNode:
    """The clip at 32-bit float, same family and subsampling."""
    fmt = clip.format
    assert fmt is not None
    if fmt.sample_type == vs.FLOAT and fmt.bits_per_sample == 32:
        return clip
    return core.resize.Point(clip, format=fmt.replace(sample_type=vs.FLOAT, bits_per_sample=32).id)


def back_to(clip: vs.VideoNode, fmt: vs.VideoFormat) -> vs.VideoNode:
    """Return ``clip`` to format ``fmt`` (no-op when it already is); rounds to nearest when reducing depth."""
    if clip.format is not None and clip.format.id == fmt.id:
        return clip
    return core.resize.Point(clip, format=fmt.id, dither_type="none")


def luma_peak(fmt: vs.VideoFormat) -> float:
    """The sample value of full white (1.0 for float)."""
    return 1.0 if fmt.sample_type == vs.FLOAT else float((1 << fmt.bits_per_sample) - 1)


def small_gray(clip: vs.VideoNode, width: int, height: int) -> vs.VideoNode:
    """The clip's brightness (luma, or the mean of R, G, B) as GRAYS at ``width`` x ``height``; zimg widens
    the bilinear kernel when shrinking, so this is an area-like reduction."""
    core = vs.core
    fmt = clip.format
    assert fmt is not None
    if fmt.color_family == vs.RGB:
        rgbs = core.resize.Point(clip, format=vs.RGBS)
        gray = core.std.Expr([core.std.ShufflePlanes(rgbs, p, vs.GRAY) for p in range(3)], "x y z + + 3 /")
    else:
        gray = core.std.ShufflePlanes(clip, 0, vs.GRAY)
    return core.resize.Bilinear(gray, width, height, format=vs.GRAYS)
