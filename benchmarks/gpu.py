"""GPU readiness in one run (< 5 minutes on a GPU machine): every torch node of vsrestore on CUDA in fp16 and
fp32 at 1080p (frames per second, peak GPU memory, fp16-vs-fp32 difference), then the silent_film preset's fps.

Usage::

    .venv/bin/python benchmarks/gpu.py --out benchmarks/results/gpu.md            # on the GPU machine
    .venv/bin/python benchmarks/gpu.py --size 160x96 --frames 2 --out /tmp/gpu.md  # a quick check on a CPU

Input is real footage that ships with vsrestore (the bundled sample, resized to ``--size``), so the machine needs
nothing but this checkout and its environment; nothing is downloaded. Nodes measured:

* ``colorize`` (the shipped default colouriser; the model always runs at its 128-pixel working size, so this is
  the whole node with stabilisation off: resizes, model, chroma upsampling) and the model alone at that size;
* ``upscale`` (the shipped FilmSR x2 on the luma of a ``--size`` frame, tiled at 512 as by default);
* RIFE, DeOldify and DDColor when their weights are found (``$VSRESTORE_MODEL_DIR``), else listed as skipped.

Each node runs in fp32 and in fp16 on CUDA: fps over ``--frames`` frames after a warm-up frame (frames asked
through VapourSynth as vspipe does), peak memory (``torch.cuda.max_memory_allocated``), and the largest and mean
absolute difference between the fp16 and fp32 outputs. Without CUDA every CUDA row is skipped with the reason, and
the nodes run once in fp32 on the CPU instead (so the script itself is checked anywhere). Then the preset renders
``--preset-frames`` frames of the bundled sample through ``vspipe`` (0 skips it) on the default backend (CUDA in
fp16 when present).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source, sample_path
from vsrestore.core.weights import WeightsError

core = vs.core
ROOT = Path(__file__).resolve().parent.parent

NodeMaker = Callable[[vs.VideoNode, Backend], vs.VideoNode]


@dataclass
class Row:
    node: str
    device: str
    precision: str
    fps: float | None = None
    peak_mib: float | None = None
    diff: str = ""
    note: str = ""

    def md(self) -> str:
        fps = f"{self.fps:.2f}" if self.fps is not None else "-"
        mem = f"{self.peak_mib:.0f}" if self.peak_mib is not None else "-"
        return f"| {self.node} | {self.device} | {self.precision} | {fps} | {mem} | {self.diff or '-'} | {self.note} |"


def source(width: int, height: int, frames: int) -> vs.VideoNode:
    """The bundled sample (real footage) resized to width x height, YUV420P8, ``frames`` frames long."""
    clip = load_source(sample_path())
    return core.resize.Bicubic(clip[40 : 40 + frames], width, height, format=vs.YUV420P8)


def colorize_node(clip: vs.VideoNode, backend: Backend) -> vs.VideoNode:
    from vsrestore.color import colorize

    return colorize(clip, stabilize=False, backend=backend)


def upscale_node(clip: vs.VideoNode, backend: Backend) -> vs.VideoNode:
    from vsrestore.enhance import upscale

    return upscale(clip, 2, backend=backend)


def optional_nodes() -> dict[str, NodeMaker | str]:
    """Nodes whose weights do not ship: the maker, or why it is skipped."""
    out: dict[str, NodeMaker | str] = {}

    def rife(clip: vs.VideoNode, backend: Backend) -> vs.VideoNode:
        from vsrestore.interpolate import interpolate

        return interpolate(clip, factor=2, engine="rife", backend=backend)

    def named(name: str) -> NodeMaker:
        def make(clip: vs.VideoNode, backend: Backend) -> vs.VideoNode:
            from vsrestore.color import colorize

            return colorize(clip, model=name, stabilize=False, backend=backend)

        return make

    for label, maker, probe in (
        ("interpolate RIFE x2", rife, ("rife", None)),
        ("colorize DeOldify video", named("ColorizeVideo_gen"), ("color", "ColorizeVideo_gen")),
        ("colorize DDColor", named("ddcolor_modelscope"), ("color", "ddcolor_modelscope")),
    ):
        try:
            from vsrestore.core.weights import resolve_weights

            if probe[0] == "rife":
                from vsrestore.interpolate.rife import RIFE_INFO

                resolve_weights(None, RIFE_INFO, default="flownet")
            else:
                from vsrestore.color.loader import INFO

                resolve_weights(probe[1], INFO)
            out[label] = maker
        except WeightsError:
            out[label] = "weights not found (put them in $VSRESTORE_MODEL_DIR); skipped"
    return out


def planes(f: vs.VideoFrame) -> list[np.ndarray]:
    return [np.asarray(f[p]).astype(np.float32) for p in range(f.format.num_planes)]


def measure(make: NodeMaker, clip: vs.VideoNode, backend: Backend, frames: int) -> tuple[float, float | None,
                                                                                         list[list[np.ndarray]]]:
    """(fps, peak MiB on CUDA or None, the frames' planes) of a node made fresh on ``clip``."""
    cuda = backend.torch_device().type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    node = make(clip, backend)
    node.get_frame(0)  # warm-up: loads the model, first kernels
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    got = []
    for n in range(1, frames + 1):
        got.append(planes(node.get_frame(n)))
    if cuda:
        torch.cuda.synchronize()
    fps = frames / (time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    return fps, peak, got


def difference(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> str:
    """Largest and mean absolute difference over all planes and frames (VapourSynth float units: 0..1)."""
    d = np.concatenate([np.abs(x - y).ravel() for fa, fb in zip(a, b, strict=True) for x, y in zip(fa, fb,
                                                                                                     strict=True)])
    return f"max {d.max():.2e}, mean {d.mean():.2e}"


def preset_fps(frames: int) -> tuple[float, float]:
    """(start-up seconds, fps after start-up) of silent_film on the bundled sample through vspipe."""
    vspipe = str(Path(sys.executable).with_name("vspipe"))
    script = ROOT / "presets" / "silent_film.vpy"
    t0 = time.perf_counter()
    subprocess.run([vspipe, "--info", str(script), "-"], check=True, capture_output=True)
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([vspipe, "-e", str(frames - 1), str(script), "--"], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    return start, frames / max(wall - start, 1e-6)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", default="1920x1080", help="frame size WxH of the node measurements (default 1080p)")
    ap.add_argument("--frames", type=int, default=20, help="frames timed per node and precision (default 20)")
    ap.add_argument("--preset-frames", type=int, default=48, help="preset frames to render (0: skip the preset)")
    ap.add_argument("--out", type=Path, required=True, help="markdown result file")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    clip = source(w, h, a.frames + 1)
    cuda = torch.cuda.is_available()
    why = "" if cuda else f"CUDA not available (torch {torch.__version__}, built for CUDA {torch.version.cuda})"
    dev_name = torch.cuda.get_device_name(0) if cuda else "none"
    nodes: dict[str, NodeMaker | str] = {"colorize (default model)": colorize_node, "upscale FilmSR x2": upscale_node}
    nodes.update(optional_nodes())
    rows: list[Row] = []
    for label, make in nodes.items():
        if isinstance(make, str):
            rows.append(Row(label, "-", "-", note=make))
            continue
        if not cuda:
            rows.append(Row(label, "cuda", "fp32/fp16", note=f"skipped: {why}"))
            fps, _, _ = measure(make, clip, Backend(device="cpu", fp16=False), a.frames)
            rows.append(Row(label, "cpu", "fp32", fps, note=f"{os.cpu_count()} CPU threads"))
            print(rows[-1].md(), flush=True)
            continue
        fps32, mem32, out32 = measure(make, clip, Backend(device="cuda", fp16=False), a.frames)
        rows.append(Row(label, "cuda", "fp32", fps32, mem32))
        fps16, mem16, out16 = measure(make, clip, Backend(device="cuda", fp16=True), a.frames)
        rows.append(Row(label, "cuda", "fp16", fps16, mem16, diff=difference(out16, out32)))
        print("\n".join(r.md() for r in rows[-2:]), flush=True)
    lines = [f"# GPU readiness ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"`{' '.join([Path(sys.executable).name, *sys.argv])}`", "",
             f"GPU: {dev_name}; torch {torch.__version__}; nodes at {w}x{h}, {a.frames} frames each after a warm-up "
             f"frame; {'CUDA present' if cuda else why}.", "",
             "| node | device | precision | fps | peak MiB | fp16 vs fp32 (abs, 0..1 units) | note |",
             "|---|---|---|---|---|---|---|", *(r.md() for r in rows), ""]
    if a.preset_frames > 0:
        start, fps = preset_fps(a.preset_frames)
        backend = "CUDA fp16" if cuda else "CPU fp32"
        lines.append(f"silent_film preset on the bundled sample (640x272 -> 1280x544, {backend}): start-up "
                     f"{start:.1f} s, {fps:.2f} fps over {a.preset_frames} frames (start-up excluded).")
    else:
        lines.append("silent_film preset: skipped (--preset-frames 0).")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
