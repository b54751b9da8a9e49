"""``vsrestore keyframes INPUT -o DIR``: one frame per shot of the film, as PNG, for a colourist to paint.

The film is the decimated one (each film frame once, as the presets see it; ``--no-decimate`` keeps the input's
frames, for ``--preset colorize_only``). Each PNG is named by its film frame number; ``keyframes.txt`` lists the
shots. ``--precolor`` writes them coloured by the automatic model as a starting point. Paint them, then
``vsrestore restore INPUT -o OUT --keyframes DIR``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line starts fast: the heavy modules load when the command runs
    import numpy as np
    import vapoursynth as vs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("keyframes", help="write one frame per shot as PNG, to be coloured by hand",
                       description=__doc__)
    p.add_argument("input", type=Path, help="the transfer (any file FFmpeg reads)")
    p.add_argument("-o", "--output", type=Path, required=True, help="folder for the PNGs and keyframes.txt")
    p.add_argument("--no-decimate", dest="decimate", action="store_false",
                   help="number frames as in the input (for --preset colorize_only), not as in the decimated film")
    p.add_argument("--overrides", type=Path, help="decimator override file (from `vsrestore analyze`)")
    p.add_argument("--sidecar", type=Path, help="decimator analysis cache file")
    p.add_argument("--precolor", action="store_true", help="colour them with the automatic model first")
    p.add_argument("--color-model", help="model for --precolor (default: vsrestore's own; or a DeOldify .pth)")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace keyframes already in the folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def film_of(input: Path, decimate: bool, overrides: Path | None, sidecar: Path | None, progress: bool) -> vs.VideoNode:
    """The film the keyframes number: the decimated film (as the presets make it) or the input itself."""
    from ..core.source import load_source

    clip = load_source(input)
    if not decimate:
        return clip
    from ..decimate import analyze
    from ..decimate import decimate as decimate_clip

    analyze(clip, overrides=overrides, sidecar=sidecar, progress=progress)
    return decimate_clip(clip, pick="cleanest", sidecar=sidecar, overrides=overrides, progress=False)


def to_rgb24(clip: vs.VideoNode) -> vs.VideoNode:
    """The picture as 8-bit RGB (GRAY: the same value in R, G and B; YUV: its own matrix, else BT.709)."""
    import vapoursynth as vs

    core = vs.core
    fmt = clip.format
    assert fmt is not None
    if fmt.color_family == vs.RGB:
        return core.resize.Point(clip, format=vs.RGB24, dither_type="error_diffusion")
    if fmt.color_family == vs.GRAY:
        g8 = core.resize.Point(clip, format=vs.GRAY8, dither_type="error_diffusion")
        return core.std.ShufflePlanes([g8, g8, g8], [0, 0, 0], vs.RGB)
    m = int(clip.get_frame(0).props.get("_Matrix", 2))  # type: ignore[call-overload]
    return core.resize.Bicubic(clip, format=vs.RGB24, matrix_in=m if m not in (0, 2) else 1,
                               dither_type="error_diffusion")


def _png(rgb: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..color.keyframes import INDEX_NAME, find_shots, keyframe_name, write_index
    from ..core.files import atomic_write

    if not args.input.is_file():
        raise ValueError(f"input {str(args.input)!r} does not exist")
    out: Path = args.output
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {str(out)!r} is a file; give a folder for the keyframes")
    film = film_of(args.input, args.decimate, args.overrides, args.sidecar, not args.no_progress)

    def tick(i: int, total: int) -> None:
        if not args.no_progress and (i == total or i % 50 == 0):
            print(f"\rfinding shots: {i}/{total}", end="\n" if i == total else "", file=sys.stderr, flush=True)

    shots = find_shots(film, tick)
    names = [keyframe_name(s.key) for s in shots] + [INDEX_NAME]
    there = [n for n in names if (out / n).exists()]
    if there and not args.overwrite:
        raise FileExistsError(
            f"{out} already holds {', '.join(there[:3])}{' ...' if len(there) > 3 else ''} (painted keyframes?); "
            f"choose another folder, or pass --overwrite / -y to replace them")
    out.mkdir(parents=True, exist_ok=True)
    pic = film
    if args.precolor:
        from ..color.api import colorize

        pic = colorize(film, model=args.color_model, out="rgb")
    rgb = to_rgb24(pic)
    for s in shots:
        f = rgb.get_frame(s.key)
        img = np.stack([np.asarray(f[p]) for p in range(3)], axis=-1)
        atomic_write(out / keyframe_name(s.key), _png(img))
    write_index(out, shots, args.input.name)
    print(f"wrote {len(shots)} keyframes (one per shot) and {INDEX_NAME} to {out}")
    for s in shots:
        print(f"  shot {s.first}-{s.last}: {keyframe_name(s.key)}")
    print(f"colour them, then: vsrestore restore {args.input} -o OUTPUT --keyframes {out}")
    return 0
