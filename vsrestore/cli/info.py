"""``vsrestore info FILE``: what vsrestore sees of a clip or script."""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import vapoursynth as vs

from ..core.source import load_source


def describe(clip: vs.VideoNode, frame: int = 0) -> list[str]:
    """Lines describing a clip: format, size, frames, rate, duration and the props of one frame."""
    fmt = clip.format.name if clip.format else "variable"
    size = f"{clip.width}x{clip.height}" if clip.width else "variable"
    fps = Fraction(clip.fps.numerator, clip.fps.denominator) if clip.fps.denominator else Fraction(0)
    lines = [f"format: {fmt}", f"size: {size}", f"frames: {clip.num_frames}"]
    if fps:
        lines += [f"fps: {fps.numerator}/{fps.denominator} ({float(fps):.3f})",
                  f"duration: {clip.num_frames / float(fps):.3f} s"]
    else:
        lines.append("fps: variable (per-frame _DurationNum/_DurationDen)")
    n = min(max(frame, 0), clip.num_frames - 1)
    props = clip.get_frame(n).props
    lines.append(f"props of frame {n}:")
    for key in sorted(props.keys()):
        lines.append(f"  {key} = {props[key]}")
    return lines


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="print what vsrestore sees of a media file or .vpy script")
    p.add_argument("file", type=Path)
    p.add_argument("--frame", type=int, default=0, help="frame whose props are listed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    clip = load_source(args.file)
    print(f"file: {args.file}")
    for line in describe(clip, args.frame):
        print(line)
    return 0
