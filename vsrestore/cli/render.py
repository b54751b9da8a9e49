"""``vsrestore render SCRIPT.vpy -o OUT.mkv``: vspipe into ffmpeg with a progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.files import check_output
from ..core.source import load_source
from ..presets import absolute_paths, check_preset_args, colour_spread, preset_name
from ..render import Codec, EncodeSettings, render
from ..render.chunked import render_chunked
from ..render.cluster import ClusterResult, render_cluster
from ..render.render import files_read
from ..render.tools import find_ffmpeg
from ..workflow import audio_plan, colour_warning


def parse_script_args(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--arg {item!r} must look like key=value (e.g. --arg input=film.mkv)")
        out[key] = value
    return out


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """``--cluster``, ``--work-dir`` and ``--verbose`` (for ``render`` and ``restore``)."""
    p.add_argument("--cluster", metavar="ADDRESS|auto",
                   help="render the segments as Ray tasks across a cluster: its head (HOST:6379) or 'auto' "
                        "($RAY_ADDRESS, else a Ray started here for the run); needs pip install "
                        "'vsrestore[cluster]' (README: Many machines)")
    p.add_argument("--work-dir", type=Path, help="with --cluster: a folder every node sees at the same path "
                   "(NFS) for the segments (default: they come back through Ray)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="with --cluster: what each node renders, and a line per finished segment")


def check_cluster_options(args: argparse.Namespace) -> None:
    """One clear error for cluster options that do not go together."""
    if args.cluster is not None and args.jobs is not None:
        raise ValueError("--jobs and --cluster: give one (--jobs renders on this machine, --cluster across a "
                         "Ray cluster)")
    if args.cluster is None and args.work_dir is not None:
        raise ValueError("--work-dir is for --cluster renders; leave it out or add --cluster ADDRESS|auto")


def check_frame_range(args: argparse.Namespace) -> None:
    """One clear error for a --start/--end pair that cannot be rendered, before anything is analysed."""
    if args.start is not None and args.start < 0:
        raise ValueError(f"--start {args.start}: frames are numbered from 0; give 0 or more")
    if args.end is not None and args.end < 0:
        raise ValueError(f"--end {args.end}: frames are numbered from 0; give 0 or more")
    if args.start is not None and args.end is not None and args.start > args.end:
        raise ValueError(f"--start {args.start} is after --end {args.end}; --end is the last frame rendered "
                         f"(inclusive), so give --end {args.start} or more")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("render", help="render a .vpy script through vspipe into ffmpeg")
    p.add_argument("script", type=Path, help="the VapourSynth script (.vpy)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file (.mkv, .mp4, .mov)")
    p.add_argument("-a", "--arg", action="append", metavar="KEY=VALUE", help="value passed to the script")
    p.add_argument("--codec", choices=[c.value for c in Codec], default=Codec.X264.value)
    p.add_argument("--crf", type=int, help="x264/x265 quality (default 16/18; lower is better)")
    p.add_argument("--preset", help="x264/x265 preset (default medium)")
    p.add_argument("--pix-fmt", help="output pixel format, e.g. yuv420p10le")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--audio", type=Path, help="put the sound of this file into the output (for a shipped "
                       "preset the default is the sound of its -a input=FILE)")
    audio.add_argument("--no-audio", action="store_true", help="no sound, even from a preset's input")
    p.add_argument("--start", type=int, help="first frame to render")
    p.add_argument("--end", type=int, help="last frame to render (inclusive)")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ffmpeg", help="ffmpeg binary (default: PATH, then the imageio-ffmpeg wheel's)")
    p.add_argument("--output-index", type=int, default=0, help="which script output to render")
    p.add_argument("--jobs", type=int, help="render in resumable segments, this many at once (implies chunked)")
    p.add_argument("--segment-frames", type=int, help="frames per segment for a chunked render (default 1000 "
                   "with --jobs; with --cluster, chosen for the cluster's size)")
    p.add_argument("--keep-parts", action="store_true", help="keep the segments of a chunked render")
    add_cluster_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_cluster_options(args)
    check_frame_range(args)
    settings = EncodeSettings(
        codec=Codec(args.codec), crf=args.crf, preset=args.preset, pix_fmt=args.pix_fmt, audio=args.audio
    )
    script_args = parse_script_args(args.arg)
    name = preset_name(args.script)
    audio_note = ""
    check_output(args.output, args.overwrite, files_read(args.script, script_args, settings))
    find_ffmpeg(args.ffmpeg)  # a missing encoder is named now, not after the script has started
    if name is not None:  # a shipped preset: its arguments are checked now, before anything starts
        script_args = absolute_paths(name, script_args)
        values = check_preset_args(name, script_args)
        if values.get("input") is not None:
            settings, audio_note = audio_plan(values["input"], args.output, settings, not args.no_audio,
                                              args.ffmpeg)
            note = colour_warning(name, values, colour_spread(load_source(values["input"])))
            if note:
                print(f"vsrestore render: warning: {note}", file=sys.stderr)
    common = dict(
        args=script_args,
        settings=settings,
        start=args.start,
        end=args.end,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        ffmpeg=args.ffmpeg,
        output_index=args.output_index,
    )
    cluster: ClusterResult | None = None
    if args.cluster is not None:
        cluster = render_cluster(
            args.script, args.output, address=args.cluster, work_dir=args.work_dir,
            segment_frames=args.segment_frames, keep_parts=args.keep_parts, verbose=args.verbose,
            **common,  # type: ignore[arg-type]
        )
        res = cluster.render
    elif args.jobs is not None or args.segment_frames is not None:
        res = render_chunked(
            args.script, args.output, jobs=args.jobs or 2, segment_frames=args.segment_frames or 1000,
            keep_parts=args.keep_parts, **common,  # type: ignore[arg-type]
        )
    else:
        res = render(args.script, args.output, **common)  # type: ignore[arg-type]
    print(f"wrote {res.output}: {res.frames} frames of {res.info.width}x{res.info.height} in "
          f"{res.seconds:.1f} s ({res.fps:.1f} fps)")
    if cluster is not None:
        print("\n".join(cluster.lines()))
    if audio_note:
        print(f"audio: {audio_note}")
    return 0
