"""``vsrestore compare``: a side-by-side PNG of chosen frames, before and after, for review without a GUI."""

from __future__ import annotations

import argparse
from pathlib import Path

import vapoursynth as vs

from ..core.source import load_source, script_outputs
from ..review import compare_png
from .render import parse_script_args


def _clips_of(spec: str, script_args: dict[str, str]) -> list[tuple[str, vs.VideoNode]]:
    """FILE, SCRIPT.vpy (every output, named by its PresetStage prop) or SCRIPT.vpy:INDEX."""
    path, sep, index = spec.rpartition(":")
    if not sep or not path.endswith(".vpy"):
        path, index = spec, ""
    if not path.endswith(".vpy"):
        return [(Path(path).name, load_source(path))]
    outs = script_outputs(path, script_args)
    if index:
        if not index.isdigit() or int(index) not in outs:
            raise ValueError(f"{spec!r}: the script has outputs {sorted(outs)}, not {index!r}")
        picked = {int(index): outs[int(index)]}
    else:
        picked = {i: c for i, c in outs.items() if i > 0} or outs
    named = []
    for i, clip in sorted(picked.items()):
        stage = clip.get_frame(0).props.get("PresetStage")
        name = stage.decode() if isinstance(stage, bytes) else (str(stage) if stage else f"output {i}")
        named.append((name, clip))
    return named


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("compare", help="write a side-by-side PNG of frames before and after")
    p.add_argument("inputs", nargs="+", help="media files, SCRIPT.vpy (all stage outputs) or SCRIPT.vpy:INDEX")
    p.add_argument("-o", "--output", type=Path, default=Path("compare.png"), help="PNG to write")
    p.add_argument("--frames", default="0", help="comma-separated frame numbers of the first input")
    p.add_argument("--height", type=int, default=360, help="height of each picture in pixels")
    p.add_argument("-a", "--arg", action="append", metavar="KEY=VALUE", help="value passed to scripts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        frames = [int(x) for x in args.frames.split(",") if x.strip()]
    except ValueError as e:
        raise ValueError(f"--frames {args.frames!r} must be comma-separated frame numbers, e.g. 10,120") from e
    sargs = parse_script_args(args.arg)
    clips = [c for spec in args.inputs for c in _clips_of(spec, sargs)]
    out = compare_png(clips, frames, args.output, height=args.height)
    print(f"wrote {out}: {len(frames)} frame(s) x {len(clips)} clip(s)")
    return 0
