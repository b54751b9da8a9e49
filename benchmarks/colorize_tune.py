#!/usr/bin/env python3
"""Choose the default colouriser's chroma strength on the TUNING set only (``benchmarks/colorize_sets.py``).

The default model's stabilised chroma at gain 1 (its stored gain undone through ``saturation``) is computed
once per tuning clip; every candidate rule is then applied to it in numpy (stabilisation weights depend on the
luma only, so a global gain commutes with it exactly). For each rule it prints, per clip, chroma PSNR over flat
gray (dB) and colourfulness relative to the truth's, and the rule chosen:

    the most colourful rule (highest mean colourfulness ratio, each clip's ratio capped at 1: more colour than the
    truth on a grey clip is no credit) whose mean margin over flat gray is >= ``--margin`` dB (default 0) and
    whose worst clip is >= ``--worst`` dB (default: no bound, since on the plain wall every colour loses to
    grey).

Rules: ``gain g`` (chroma x g) and ``power g p`` (chroma x g x (|chroma| / 0.05) ^ p: strong, confident chroma is
raised more than weak, unsure chroma).

Usage: ``OMP_NUM_THREADS=2 python benchmarks/colorize_tune.py [--seg 10] [--cache FILE.npz]`` (``--cache`` keeps
the predictions, so that another grid of rules costs seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from colorize_sets import SETS, ClipSet, truth_clip  # noqa: E402

from vsrestore.color.api import colorize  # noqa: E402
from vsrestore.color.metrics import chroma_psnr, colourfulness, uv_planes  # noqa: E402
from vsrestore.color.options import ColorOut  # noqa: E402
from vsrestore.core.backend import Backend  # noqa: E402
from vsrestore.testing.chroma import ycc_to_rgb  # noqa: E402

REF = 0.05  # chroma magnitude the power rule leaves unchanged at g = 1


def stored_gain(model: str | None) -> float:
    """The ``chroma_gain`` buffer of the checkpoint (the embedded default when None)."""
    default = Path(__file__).resolve().parent.parent / "vsrestore" / "models" / "vsrestore_colorizer_small.pth"
    path = model or str(default)
    sd = torch.load(path, map_location="cpu", weights_only=True)
    return float(sd["chroma_gain"])


def collect(seg: int, model: str | None) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, luma (N, H, W), truth chroma (N, 2, H, W), gain-1 stabilised prediction (N, 2, H, W)) per clip."""
    unit = 1.0 / stored_gain(model)
    out = []
    for spec in SETS[ClipSet.TUNE]:
        frames = max(spec.starts) + seg
        truth = truth_clip(spec, max(frames, spec.exemplar + 1))
        grey = truth.std.ShufflePlanes(0, 1)  # GRAY
        pred = colorize(grey, model=model, out=ColorOut.YUV444, saturation=unit, backend=Backend(device="cpu"))
        meas = [n for s in spec.starts for n in range(s, s + seg)]
        ys, ts, ps = [], [], []
        for n in meas:
            f = truth.get_frame(n)
            ys.append(np.asarray(f[0], np.float32))
            ts.append(uv_planes(f))
            ps.append(uv_planes(pred.get_frame(n)))
        out.append((spec.name, np.stack(ys), np.stack(ts), np.stack(ps)))
        print(f"  {spec.name}: {len(meas)} frames", flush=True)
    return out


def rule(kind: str, g: float, p: float, c: np.ndarray) -> np.ndarray:
    if kind == "gain":
        return g * c
    mag = np.sqrt((c**2).sum(1, keepdims=True))
    return np.clip(g * c * (mag / REF) ** p, -0.5, 0.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seg", type=int, default=10)
    ap.add_argument("--model", default=None)
    ap.add_argument("--margin", type=float, default=0.0, help="least mean dB over flat gray")
    ap.add_argument("--worst", type=float, default=-99.0, help="least dB over flat gray on any clip")
    ap.add_argument("--cache", type=Path, default=None, help="npz of the predictions (written once, then read)")
    a = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    if a.cache is not None and a.cache.is_file():
        z = np.load(a.cache)
        names = [str(n) for n in z["names"]]
        data = [(n, z[f"{n}_y"], z[f"{n}_t"], z[f"{n}_p"]) for n in names]
    else:
        data = collect(a.seg, a.model)
        if a.cache is not None:
            arrays = {f"{n}_{k}": v for n, *vs in data for k, v in zip("ytp", vs, strict=True)}
            arrays["names"] = np.array([n for n, *_ in data])
            np.savez(a.cache, **arrays)  # type: ignore[arg-type]
    truth_m = {
        n: np.mean([colourfulness(ycc_to_rgb(y, t)) for y, t in zip(ys, ts, strict=True)]) for n, ys, ts, _ in data
    }
    flat = {n: chroma_psnr(np.zeros_like(ts), ts) for n, _, ts, _ in data}
    rules = [("gain", g, 0.0) for g in np.round(np.arange(0.3, 1.41, 0.05), 2)]
    rules += [("power", g, p) for p in (0.25, 0.5, 0.75, 1.0) for g in np.round(np.arange(0.3, 1.41, 0.05), 2)]
    head = " | ".join(f"{n} dB / ratio" for n, *_ in data)
    print(f"| rule | {head} | mean dB | worst dB | mean ratio (capped at 1) |")
    print("|---|" + "---|" * (len(data) + 3))
    found = []
    for kind, g, p in rules:
        marg, ratio = {}, {}
        for n, ys, ts, ps in data:
            c = rule(kind, float(g), p, ps)
            marg[n] = chroma_psnr(c, ts) - flat[n]
            ratio[n] = np.mean([colourfulness(ycc_to_rgb(y, u)) for y, u in zip(ys, c, strict=True)]) / truth_m[n]
        mean_m, worst = float(np.mean(list(marg.values()))), min(marg.values())
        mean_r = float(np.mean([min(r, 1.0) for r in ratio.values()]))
        label = f"gain {g}" if kind == "gain" else f"power {g} {p}"
        print(
            f"| {label} | " + " | ".join(f"{marg[n]:+.2f} / {ratio[n]:.2f}" for n, *_ in data)
            + f" | {mean_m:+.2f} | {worst:+.2f} | {mean_r:.2f} |",
            flush=True,
        )
        found.append((label, mean_m, worst, mean_r))
    ok = [f for f in found if f[1] >= a.margin and f[2] >= a.worst]
    print("truth colourfulness: " + ", ".join(f"{n} {m:.1f}" for n, m in truth_m.items()))
    if ok:
        best = max(ok, key=lambda f: f[3])
        print(f"chosen: {best[0]} (mean {best[1]:+.2f} dB, worst {best[2]:+.2f} dB, mean ratio {best[3]:.2f})")
    else:
        print("no rule meets the bounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
