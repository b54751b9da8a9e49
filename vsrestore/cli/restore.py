"""``vsrestore restore INPUT -o OUTPUT``: the whole restoration in one command (analysis, render, report)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..interpolate.timing import parse_rate
from ..render import Codec, EncodeSettings
from ..workflow import report_paths, restore
from .render import add_cluster_options, check_cluster_options, check_frame_range, parse_script_args


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("restore", help="restore a film transfer with a preset: analyse, render, report")
    p.add_argument("input", type=Path, help="the transfer to restore (any file FFmpeg reads)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file (.mkv, .mp4, .mov)")
    p.add_argument("--preset", default="silent_film",
                   help="silent_film (default), newsreel_bw, colorize_only, smooth_only, or a .vpy path")
    p.add_argument("--fps", help="final frame rate, e.g. 24, 25, 30000/1001 (default: the preset's)")
    color = p.add_mutually_exclusive_group()
    color.add_argument("--no-color", dest="color", action="store_false", default=None, help="stay black-and-white")
    color.add_argument("--color", dest="color", action="store_true", help="colourise")
    p.add_argument("--overrides", type=Path, help="decimator override file (from `vsrestore analyze`)")
    p.add_argument("--sidecar", type=Path, help="decimator analysis cache file")
    p.add_argument("--keyframes", type=Path, metavar="DIR",
                   help="hand-coloured keyframes (from `vsrestore keyframes`): each colours its shot")
    p.add_argument("-a", "--arg", action="append", metavar="KEY=VALUE", help="more preset parameters")
    p.add_argument("--codec", choices=[c.value for c in Codec], default=Codec.X264.value)
    p.add_argument("--crf", type=int, help="x264/x265 quality")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--audio", type=Path, help="take the sound from this file instead of the input's")
    audio.add_argument("--no-audio", action="store_true", help="drop the sound (default: the input's is kept)")
    p.add_argument("--jobs", type=int, help="render in resumable segments, this many at once")
    p.add_argument("--segment-frames", type=int, help="frames per segment with --jobs (default 1000) or "
                   "--cluster (default: chosen for the cluster's size)")
    p.add_argument("--start", type=int, help="first output frame (for a trial render)")
    p.add_argument("--end", type=int, help="last output frame, inclusive")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace an existing output and report")
    p.add_argument("--no-progress", action="store_true")
    add_cluster_options(p)
    p.set_defaults(func=run)


def check_rate(text: str | None) -> str | None:
    """``--fps`` as typed, once it is known to be a rate (one error line in the option's terms otherwise)."""
    if text is None:
        return None
    try:
        return str(parse_rate(text))
    except ValueError:
        raise ValueError(f"--fps {text!r} is not a rate above 0 and at most 1000 frames/second; give e.g. --fps 24 "
                         "or --fps 30000/1001") from None


def run(args: argparse.Namespace) -> int:
    check_cluster_options(args)
    check_frame_range(args)
    fps = check_rate(args.fps)
    settings = EncodeSettings(codec=Codec(args.codec), crf=args.crf, audio=args.audio)
    rep = restore(
        args.input, args.output, preset=args.preset, fps=fps, color=args.color, overrides=args.overrides,
        sidecar=args.sidecar, extra_args=parse_script_args(args.arg), settings=settings, jobs=args.jobs,
        segment_frames=args.segment_frames, start=args.start, end=args.end, overwrite=args.overwrite,
        progress=not args.no_progress, keep_audio=not args.no_audio, cluster=args.cluster, work_dir=args.work_dir,
        verbose=args.verbose,
        keyframes=args.keyframes,
    )
    print(f"wrote {rep.output}: {rep.output_frames} frames, {rep.output_size}, {rep.output_fps} fps "
          f"(film: {rep.film_frames} frames at {rep.film_rate} fps)")
    print(f"audio: {rep.audio}")
    if rep.cluster:
        print("\n".join(rep.cluster))
    print(f"report: {report_paths(rep.output)[0]}")
    return 0
