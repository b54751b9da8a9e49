"""Side-by-side PNGs of chosen frames of several clips (stages of a restoration), matched in time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import vapoursynth as vs

__all__ = ["compare_png", "frame_rgb", "matching_frame"]

core = vs.core


def frame_rgb(clip: vs.VideoNode, n: int, height: int | None = None) -> np.ndarray:
    """Frame ``n`` as an (H, W, 3) uint8 RGB array, resized to ``height`` (aspect kept) when given."""
    fmt = clip.format
    if fmt is None:
        raise vs.Error("frame_rgb: the clip has a variable format")
    w, h = clip.width, clip.height
    if height is not None and height != h:
        w, h = max(2, round(clip.width * height / clip.height / 2) * 2), height
    if fmt.color_family == vs.GRAY:
        rgb = core.resize.Bicubic(clip, w, h, format=vs.GRAY8)
    elif fmt.color_family == vs.YUV:
        rgb = core.resize.Bicubic(clip, w, h, format=vs.RGB24, matrix_in_s="709", range_in_s="limited",
                                  dither_type="error_diffusion")
        rgb = core.std.SetFrameProps(rgb, _Matrix=0)
    else:
        rgb = core.resize.Bicubic(clip, w, h, format=vs.RGB24)
    f = rgb.get_frame(n)
    planes = [np.asarray(f[p]) for p in range(f.format.num_planes)]
    if len(planes) == 1:
        planes = planes * 3
    return np.stack(planes, axis=-1).copy()


def _time_of(clip: vs.VideoNode, n: int) -> float:
    if clip.fps.numerator:
        return n * clip.fps.denominator / clip.fps.numerator
    t = Fraction(0)
    for i in range(n):  # variable rate: add up the durations (only for review, a few frames)
        props = clip.get_frame(i).props
        t += Fraction(int(props.get("_DurationNum", 1)), int(props.get("_DurationDen", 24)))
    return float(t)


def matching_frame(reference: vs.VideoNode, n: int, other: vs.VideoNode) -> int:
    """The frame of ``other`` shown at the time of frame ``n`` of ``reference`` (both starting at 0 s).

    A decimated frame names its source with the ``DecimateSource`` prop, which is used when ``other`` is the
    source of ``reference``; otherwise times come from the frame rates (or per-frame durations).
    """
    props = reference.get_frame(n).props
    if "DecimateSource" in props and other.num_frames > reference.num_frames:
        return min(int(props["DecimateSource"]), other.num_frames - 1)
    t = _time_of(reference, n)
    if other.fps.numerator:
        m = int(round(t * other.fps.numerator / other.fps.denominator))
    else:
        m, acc = 0, 0.0
        while m < other.num_frames - 1:
            p = other.get_frame(m).props
            step = int(p.get("_DurationNum", 1)) / int(p.get("_DurationDen", 24))
            if acc + step > t + 1e-9:
                break
            acc += step
            m += 1
    return max(0, min(m, other.num_frames - 1))


def _label(img: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    draw.rectangle((0, 0, 8 + 7 * len(text), 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return np.asarray(pil)


def compare_png(
    clips: Sequence[tuple[str, vs.VideoNode]],
    frames: Sequence[int],
    output: str | os.PathLike[str],
    *,
    height: int = 360,
) -> Path:
    """Write a PNG grid: one row per frame (numbered in the first clip), one column per clip, labelled.

    :param clips: (name, clip) pairs; the first is the reference whose frame numbers ``frames`` are.
    :param frames: frame numbers of the first clip.
    :param height: each picture's height in pixels (aspect kept).
    :returns: the written path (written atomically; an existing file is replaced only by a complete one).
    """
    from PIL import Image

    if not clips:
        raise ValueError("compare_png: give at least one clip")
    ref = clips[0][1]
    bad = [n for n in frames if not 0 <= n < ref.num_frames]
    if bad or not frames:
        raise ValueError(f"compare_png: frames {bad or list(frames)} are outside 0..{ref.num_frames - 1}")
    rows = []
    for n in frames:
        cells = []
        for name, clip in clips:
            m = n if clip is ref else matching_frame(ref, n, clip)
            cells.append(_label(frame_rgb(clip, m, height), f"{name} #{m}"))
        rows.append(np.concatenate(cells, axis=1))
    width = max(r.shape[1] for r in rows)
    grid = np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
    out = Path(output)
    tmp = out.with_name(f".{out.stem}.partial-{os.getpid()}.png")
    Image.fromarray(grid).save(tmp)
    os.replace(tmp, out)
    return out
