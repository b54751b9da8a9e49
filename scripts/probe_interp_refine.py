"""Probe (not shipped): can a small learned refinement on top of the interpolator's picture gain on the TUNING
clips? Issue 23, round 4; the figures are in ``benchmarks/results/interpolate.md``.

Three steps, all on the CPU, all on the tuning clips of ``benchmarks/interpolate.py`` only:

1. ``dump``: each tuning clip (first ``--frames`` frames) is thinned to the three film rates (1/2, 2/3, 3/4 of
   24 fps); the engine draws each dropped frame, and ``--per-frame`` random crops of its pictures
   (:data:`FEATURES`, from :meth:`~vsrestore.interpolate.mvflow.MVEngine.parts`) and of the true frame are saved.
2. ``cnn``: a three-layer residual CNN (3x3, 8 channels, ReLU, last layer zero-initialised so it starts as the
   engine's picture) fitted by Adam with the mean over crops of ``log10(MSE)`` as the loss.
3. ``linear``: a linear correction fitted by weighted least squares (weights 1/MSE per crop, so each crop counts
   as the benchmark's per-frame PSNR does): 3x3 taps of ``flow - out``, ``sides - out``, ``blend - out`` and the
   same times the compensation share, plus the Laplacian of ``out`` and its product with the share; scored
   leave-one-clip-out and with a fit per clip (an upper bound for a correction of this form).

Both report, per clip, the gain in dB of per-frame PSNR (each frame's ``--per-frame`` crops pooled; the
corrected picture rounded to 8 bits, as the engine would write it).

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_interp_refine.py dump --out /tmp/refine.npz
      OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_interp_refine.py cnn --data /tmp/refine.npz
      OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_interp_refine.py linear --data /tmp/refine.npz
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import vapoursynth as vs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the benchmark is a script, not a package

from interpolate import MODES, TUNING, as_clip, decode, thin  # noqa: E402

from vsrestore.interpolate.mvflow import MVEngine  # noqa: E402

if TYPE_CHECKING:
    from torch import nn

core = vs.core

#: The engine's pictures read by the probes (keys of ``MVEngine.parts``); the first is the one corrected.
FEATURES = ("out", "blend", "flow", "sides", "mask")


def dump(frames: int, crop: int, per_frame: int, cache: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Crops (uint8) of the engine's pictures and the truth: ``x`` (N, len(FEATURES), crop, crop), ``y``
    (N, 1, crop, crop) and ``clip`` (N,), the index of the tuning clip each comes from; each dropped frame
    gives ``per_frame`` consecutive crops."""
    rng = np.random.default_rng(seed)
    xs, ys, ids = [], [], []
    for ci, (name, seg) in enumerate(TUNING.items()):
        arr = decode(seg, cache)[:frames]
        for mode in MODES:
            kept, durs = thin(len(arr), mode)
            sub = core.std.Splice([as_clip(arr)[k] for k in kept])
            parts = MVEngine(sub, durations=durs).parts(128)  # every dropped frame lies half-way
            nodes = [parts[k] for k in FEATURES]
            for j in range(len(kept) - 1):
                if kept[j + 1] != kept[j] + 2:
                    continue
                pics = np.stack([np.asarray(nd.get_frame(j)[0]) for nd in nodes])
                truth = arr[kept[j] + 1]
                h, w = truth.shape
                for _ in range(per_frame):
                    y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
                    xs.append(pics[:, y0:y0 + crop, x0:x0 + crop])
                    ys.append(truth[None, y0:y0 + crop, x0:x0 + crop])
                    ids.append(ci)
            print(f"dump: {name} {mode}: {len(xs)} crops so far", flush=True)
    return {"x": np.stack(xs), "y": np.stack(ys), "clip": np.array(ids), "per_frame": np.array(per_frame)}


def frame_psnr(a: np.ndarray, b: np.ndarray, per_frame: int) -> np.ndarray:
    """PSNR (dB, peak 1) per frame of crops (N, ..., H, W): the MSE pooled over runs of ``per_frame`` crops."""
    mse = ((a.astype(np.float64) - b) ** 2).reshape(len(a), -1).mean(axis=1)
    mse = mse[: len(mse) // per_frame * per_frame].reshape(-1, per_frame).mean(axis=1)
    return -10 * np.log10(mse + 1e-12)


def gain(pred: np.ndarray, out: np.ndarray, y: np.ndarray, per_frame: int) -> float:
    """Mean per-frame gain (dB) of ``pred`` (0..1, rounded to 8 bits here) over ``out``."""
    q = np.round(np.clip(pred, 0, 1) * 255) / 255
    return float((frame_psnr(q, y, per_frame) - frame_psnr(out, y, per_frame)).mean())


def build_cnn(channels: int = 8) -> nn.Module:
    """(N, len(FEATURES), H, W) in 0..1 -> (N, 1, H, W): the first channel plus a correction."""
    import torch
    from torch import nn

    class RefineNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            last = nn.Conv2d(channels, 1, 3, padding=1)
            self.body = nn.Sequential(
                nn.Conv2d(len(FEATURES), channels, 3, padding=1), nn.ReLU(),
                nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                last,
            )
            nn.init.zeros_(last.weight)
            assert last.bias is not None
            nn.init.zeros_(last.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :1] + self.body(x)

    return RefineNet()


def fit_cnn(data: dict[str, np.ndarray], steps: int, batch: int, lr: float, seed: int = 0) -> None:
    """Fit the CNN on all crops and print the in-sample gain per clip."""
    import torch

    torch.manual_seed(seed)
    x = torch.from_numpy(data["x"]).float() / 255
    y = torch.from_numpy(data["y"]).float() / 255
    clip, pf = data["clip"], int(data["per_frame"])
    net = build_cnn()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(clip), batch))
        loss = torch.log10(((net(x[idx]) - y[idx]) ** 2).mean(dim=(1, 2, 3)) + 1e-6).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0:
            print(f"cnn: step {step} loss {loss.item():.4f}", flush=True)
    with torch.no_grad():
        for ci, name in enumerate(TUNING):
            sel = np.flatnonzero(clip == ci)
            pred = torch.cat([net(x[sel[k:k + 256]]) for k in range(0, len(sel), 256)]).numpy()
            g = gain(pred, data["x"][sel, :1] / 255, data["y"][sel] / 255, pf)
            print(f"cnn: {name}: in-sample gain {g:+.3f} dB")


def linear_features(x: np.ndarray) -> np.ndarray:
    """(N, H, W, F) features of the linear probe from crops ``x`` (N, len(FEATURES), H, W) in 0..1."""
    out, blend, flow, sides, share = (x[:, k] for k in range(len(FEATURES)))
    h, w = out.shape[1:]
    feats = []
    for base in (flow - out, sides - out, blend - out):
        for b in (base, share * base):
            p = np.pad(b, ((0, 0), (1, 1), (1, 1)), mode="edge")
            feats += [p[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    p = np.pad(out, ((0, 0), (1, 1), (1, 1)), mode="edge")
    lap = 4 * out - p[:, :-2, 1:-1] - p[:, 2:, 1:-1] - p[:, 1:-1, :-2] - p[:, 1:-1, 2:]
    return np.stack([*feats, lap, share * lap], axis=-1)


def fit_linear(data: dict[str, np.ndarray], samples: int = 400, seed: int = 0) -> None:
    """Weighted least squares of the correction; prints leave-one-clip-out and per-clip-fit gains."""
    rng = np.random.default_rng(seed)
    x = data["x"].astype(np.float32) / 255
    y = data["y"][:, 0].astype(np.float32) / 255
    clip, pf = data["clip"], int(data["per_frame"])
    out = x[:, 0]
    feats = linear_features(x)
    nf = feats.shape[-1]
    resid = y - out
    weight = 1 / (((out - y) ** 2).mean(axis=(1, 2)) + 1e-5)

    def fit(idx: np.ndarray) -> np.ndarray:
        pix = rng.integers(0, out.shape[1] * out.shape[2], samples)
        a = feats[idx].reshape(len(idx), -1, nf)[:, pix]
        b = resid[idx].reshape(len(idx), -1)[:, pix]
        sw = np.sqrt(weight[idx])[:, None]
        return np.linalg.lstsq((a * sw[..., None]).reshape(-1, nf), (b * sw).reshape(-1), rcond=None)[0]

    def score(coef: np.ndarray, sel: np.ndarray) -> float:
        return gain(out[sel] + feats[sel] @ coef, out[sel], y[sel], pf)

    for ci, name in enumerate(TUNING):
        sel = np.flatnonzero(clip == ci)
        loo = score(fit(np.flatnonzero(clip != ci)), sel)
        own = score(fit(sel), sel)
        print(f"linear: {name}: leave-one-clip-out {loo:+.3f} dB, fitted on the clip itself {own:+.3f} dB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--frames", type=int, default=80, help="first N frames of each tuning clip")
    d.add_argument("--crop", type=int, default=96)
    d.add_argument("--per-frame", type=int, default=4)
    d.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vsrestore_bench_interp")
    c = sub.add_parser("cnn")
    c.add_argument("--data", type=Path, required=True)
    c.add_argument("--steps", type=int, default=1500)
    c.add_argument("--batch", type=int, default=32)
    c.add_argument("--lr", type=float, default=2e-3)
    lin = sub.add_parser("linear")
    lin.add_argument("--data", type=Path, required=True)
    args = ap.parse_args()
    core.num_threads = 2
    if args.cmd == "dump":
        arrays: dict[str, Any] = dump(args.frames, args.crop, args.per_frame, args.cache)
        np.savez(args.out, **arrays)
        return
    data = dict(np.load(args.data))
    data.setdefault("per_frame", np.array(4))
    if args.cmd == "cnn":
        import torch

        torch.set_num_threads(1)
        fit_cnn(data, args.steps, args.batch, args.lr)
    else:
        fit_linear(data)


if __name__ == "__main__":
    main()
