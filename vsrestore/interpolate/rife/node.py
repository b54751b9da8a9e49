"""Running RIFE per output frame through the foundation's torch bridge."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.bridge import TorchRunner
from vsrestore.core.planes import frame_to_array, write_tensor

from ..timing import Schedule
from .arch import IFNet
from .loader import load_rife

__all__ = ["rife_frames", "rife_runner"]

core = vs.core


def _forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x[:, 0:3], x[:, 3:6], x[:, 6:7])


def rife_runner(net: IFNet, backend: Backend | None = None) -> TorchRunner:
    """A thread-safe runner for ``net``: input (N, 7, H, W) = frame 0 RGB, frame 1 RGB, timestep plane;
    sides are padded to the multiple the version needs; fp16 on CUDA by default."""
    return TorchRunner(net, backend=backend, multiple=net.spec.multiple, forward=_forward)


def _to_rgbs(clip: vs.VideoNode) -> vs.VideoNode:
    fmt = clip.format
    if fmt.color_family == vs.GRAY:
        g = core.resize.Point(clip, format=vs.GRAYS)
        return core.std.ShufflePlanes([g, g, g], [0, 0, 0], vs.RGB)
    if fmt.color_family == vs.YUV:
        return core.resize.Bicubic(clip, format=vs.RGBS, matrix_in_s="709")
    return core.resize.Point(clip, format=vs.RGBS)


def _from_rgbs(clip: vs.VideoNode, fmt: vs.VideoFormat) -> vs.VideoNode:
    if fmt.color_family == vs.GRAY:
        planes = [core.std.ShufflePlanes(clip, p, vs.GRAY) for p in range(3)]
        g = core.std.Expr(planes, "x y + z + 3 /")
        return core.resize.Point(g, format=fmt.id)
    if fmt.color_family == vs.YUV:
        return core.resize.Bicubic(clip, format=fmt.id, matrix_s="709")
    return core.resize.Point(clip, format=fmt.id)


def rife_frames(
    src: vs.VideoNode,
    sched: Schedule,
    *,
    model: str | os.PathLike[str] | IFNet | None,
    backend: Backend | None,
    template: vs.VideoNode,
) -> vs.VideoNode:
    """Output-indexed clip: frame k is RIFE's picture at ``sched.phase[k]`` between source frames
    ``sched.source[k]`` and the next one, in ``src``'s format (the model is loaded once, here)."""
    net = model if isinstance(model, IFNet) else load_rife(model)[0]
    runner = rife_runner(net, backend)
    rgb = _to_rgbs(src)
    last = src.num_frames - 1
    index: Sequence[int] = sched.source
    nxt = [min(i + 1, last) for i in index]
    phases = [float(p) for p in sched.phase]
    base = core.std.BlankClip(rgb, length=template.num_frames, fpsnum=template.fps.numerator,
                              fpsden=template.fps.denominator, keep=True)
    a = core.std.FrameEval(base, lambda n: rgb[index[n]])
    b = core.std.FrameEval(base, lambda n: rgb[nxt[n]])

    def run(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        x0, x1 = frame_to_array(f[1]), frame_to_array(f[2])
        t = torch.full((1, 1, *x0.shape[1:]), phases[n], dtype=torch.float32)
        x = torch.cat((torch.from_numpy(x0)[None], torch.from_numpy(x1)[None], t), 1)
        y = runner(x).clamp(0.0, 1.0)
        fout = f[0].copy()
        write_tensor(fout, y)
        return fout

    out = core.std.ModifyFrame(base, [base, a, b], run)
    return _from_rgbs(out, src.format)
