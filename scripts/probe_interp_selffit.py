"""Probe (not shipped): a per-clip correction of the interpolator's picture, fitted on the clip's own frames.
Issue 23, round 8; the figures are in ``benchmarks/results/interpolate.md``.

For each TUNING clip of ``benchmarks/interpolate.py`` (first ``FRAMES`` frames), thinned to 12 fps (every other
frame kept), the engine draws every dropped frame half-way between two kept ones. A linear correction of its
picture, ``out + sum(w_i * (term_i - out))`` with the terms the cross-fade, ``FlowInter``'s picture, the one-sided
pictures' mix and a 3x3 box of ``out`` (``TERMS``), is fitted by least squares (each frame weighted by 1 / its own
MSE, so the fit serves the mean per-frame PSNR):

* ``self``: on the clip's own frames, as a user's clip would allow: every second kept frame predicted from its
  two kept neighbours (twice the real gap), the weights times ``--shrink``, then applied to the real job;
* ``oracle``: on the real job's own truth (an upper bound for a correction of this form).

It prints, per clip, the engine's PSNR and the two corrections' gains in dB.

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_interp_selffit.py 80 --terms 0123 --shrink 0.5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import vapoursynth as vs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the benchmark is a script, not a package

from interpolate import TUNING, as_clip, decode, psnr, thin  # noqa: E402

from vsrestore.interpolate.mvflow import MVEngine  # noqa: E402

core = vs.core
TERMS = ("blend", "flow", "sides", "box3")


def _box3(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1, mode="edge")
    out = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            out += p[i : i + a.shape[0], j : j + a.shape[1]]
    return out / 9.0


def _terms(parts: dict[str, vs.VideoNode], i: int, sel: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The engine's picture at frame ``i`` and the chosen correction terms (H, W, len(sel)), float."""
    g = {k: np.asarray(parts[k].get_frame(i)[0], dtype=np.float64) for k in ("out", "blend", "flow", "sides")}
    o = g["out"]
    every = [g["blend"] - o, g["flow"] - o, g["sides"] - o, _box3(o) - o]
    return o, np.stack([every[k] for k in sel], axis=-1)


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights minimising the per-frame-normalised squared error of ``y - x @ w`` (frames x H x W x terms)."""
    wf = np.sqrt(1.0 / np.maximum((y**2).mean(axis=(1, 2)), 1e-3))
    a = (x * wf[:, None, None, None]).reshape(-1, x.shape[-1])
    b = (y * wf[:, None, None]).reshape(-1)
    return np.linalg.solve(a.T @ a + 0.1 * np.eye(a.shape[1]), a.T @ b)


def probe(frames: int, sel: list[int], shrink: float, cache: Path) -> None:
    gains: dict[str, list[float]] = {"self": [], "oracle": []}
    base: list[float] = []
    for name, seg in TUNING.items():
        arr = decode(seg, cache)[:frames]
        kept, _ = thin(len(arr), "1/2")
        sub = as_clip(np.stack([arr[k] for k in kept]))
        even = sub[0::2]  # its pairs (j, j+1) are kept frames 2j and 2j+2: predict kept frame 2j+1
        pe = MVEngine(even).parts(128)
        xs, ys = [], []
        for j in range(even.num_frames - 1):
            o, x = _terms(pe, j, sel)
            xs.append(x)
            ys.append(np.asarray(sub.get_frame(2 * j + 1)[0], dtype=np.float64) - o)
        w_self = _fit(np.stack(xs), np.stack(ys)) * shrink
        pr = MVEngine(sub).parts(128)
        jobs = [j for j in range(sub.num_frames - 1) if kept[j + 1] == kept[j] + 2]
        real = [(_terms(pr, j, sel), arr[kept[j] + 1].astype(np.float64)) for j in jobs]
        w_oracle = _fit(np.stack([x for (_, x), _ in real]), np.stack([t - o for (o, _), t in real]))
        out = float(np.mean([psnr(t, o) for (o, _), t in real]))
        base.append(out)
        line = f"{name}: engine {out:.3f} dB"
        for key, w in (("self", w_self), ("oracle", w_oracle)):
            g = float(np.mean([psnr(t, np.clip(np.round(o + x @ w), 0, 255)) for (o, x), t in real])) - out
            gains[key].append(g)
            line += f" | {key} {g:+.3f} (weights {np.round(w, 3).tolist()})"
        print(line, flush=True)
    print(f"mean: engine {np.mean(base):.3f} dB | self {np.mean(gains['self']):+.3f} | "
          f"oracle {np.mean(gains['oracle']):+.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("frames", type=int, help="frames per tuning clip (80: the tuning comparisons')")
    ap.add_argument("--terms", default="0123", help=f"which terms, digits into {TERMS}")
    ap.add_argument("--shrink", type=float, default=1.0, help="factor on the self-fitted weights")
    args = ap.parse_args()
    if not args.terms or any(c not in "0123" for c in args.terms):
        ap.error(f"--terms {args.terms}: digits 0-3, one per term of {TERMS}")
    core.num_threads = 2
    cache = Path(tempfile.gettempdir()) / "vsrestore_bench_interp"
    probe(args.frames, [int(c) for c in args.terms], args.shrink, cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
