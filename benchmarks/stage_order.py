"""Where the upscaler belongs in silent_film: after the interpolator (today: it enlarges every output frame) or
before it (it enlarges only the film frames, 2/3 as many at 16 -> 24 fps, but the interpolator then searches
motion at four times the pixels). Speed (CPU seconds per output frame) and quality against the truth, per
upscaler, in one run.

Usage::

    .venv/bin/python benchmarks/stage_order.py [--frames 32] [--out benchmarks/results/stage_order.md]

Input: ``ffc4`` (held out from all tuning; 1920x1080 25 fps), centre 1440x1080 = the truth; film frames at
16 fps (source frame nearest j/16 s) scaled to 720x540 (YUV444PS, as the preset's colour stage gives), rendered
once into memory so that only the two stages are timed. Output frame k (24 fps) is compared with the source
frame nearest k/24 s (so both orders share the same timing error): PSNR and SSIM of luma.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import vapoursynth as vs

core = vs.core
START, SOURCE_FPS, FILM_FPS, OUT_FPS = 125, 25, 16, 24


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    from skimage.metrics import structural_similarity

    import vsrestore
    from vsrestore.core.source import load_source
    from vsrestore.enhance import upscale
    from vsrestore.enhance.upscale.mlrt import cpu_backend
    from vsrestore.testing.media import registry_clip

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--frames", type=int, default=32, help="film frames (output: 1.5x as many)")
    ap.add_argument("--out", type=Path, help="also write the table (markdown) here")
    a = ap.parse_args()
    core.num_threads = 2
    core.max_cache_size = 2048  # MB, as the preset sets it
    src = load_source(registry_clip("ffc4"))
    truth = core.std.CropAbs(src, 1440, 1080, left=240, top=0)[START:]
    pick = [round(j * SOURCE_FPS / FILM_FPS) for j in range(a.frames)]
    film_node = core.resize.Bicubic(core.std.Splice([truth[i] for i in pick]), 720, 540, format=vs.YUV444PS,
                                    matrix_in_s="709", matrix_s="709")
    frames = [f.copy() for f in film_node.frames(close=True)]
    film = core.std.ModifyFrame(film_node, film_node, lambda n, f: frames[n])  # in memory: not timed
    durations = [Fraction(1, FILM_FPS)] * a.frames
    truth_y = core.resize.Bicubic(truth, format=vs.GRAYS, matrix_in_s="709")
    sr = cpu_backend(bf16=True, num_streams=2)
    rows = []
    for method in ("model", "nnedi3"):
        for order in ("interpolate, then upscale", "upscale, then interpolate"):
            backend = sr if method == "model" else None
            if order.startswith("interpolate"):
                out = upscale(vsrestore.interpolate(film, fps=OUT_FPS, durations=durations), 2, method=method,
                              backend=backend)
            else:
                out = vsrestore.interpolate(upscale(film, 2, method=method, backend=backend), fps=OUT_FPS,
                                            durations=durations)
            y = core.resize.Point(core.std.ShufflePlanes(out, 0, vs.GRAY), format=vs.GRAYS)
            c0, t0 = cpu_seconds(), time.perf_counter()
            got = [np.asarray(f[0]).copy() for f in y.frames(close=True)]
            cpu, wall = (cpu_seconds() - c0) / len(got), (time.perf_counter() - t0) / len(got)
            psnrs, ssims = [], []
            for k, g in enumerate(got):
                t = np.asarray(truth_y.get_frame(round(k * SOURCE_FPS / OUT_FPS))[0])
                g = np.clip(g, 0, 1)
                psnrs.append(-10 * math.log10(float(np.mean((g - t) ** 2)) + 1e-12))
                ssims.append(float(structural_similarity(g, t, data_range=1.0)))
            tag = f"{method} ({'OpenVINO bf16' if sr is not None else 'torch'})" if method == "model" else method
            rows.append(f"| {tag} | {order} | {len(got)} | {cpu:.3f} | {wall:.3f} | {statistics.mean(psnrs):.2f} | "
                        f"{statistics.mean(ssims):.4f} |")
            print(rows[-1], flush=True)
    import os

    lines = [f"{a.frames} film frames 720x540 -> 1440x1080 at 24 fps (ffc4); CPU threads {os.cpu_count()}, load "
             f"average {os.getloadavg()[0]:.1f}", "",
             "| upscaler | order | output frames | CPU s per output frame | wall s | Y PSNR dB | Y SSIM |",
             "|---|---|---|---|---|---|---|", *rows]
    if a.out:
        a.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
