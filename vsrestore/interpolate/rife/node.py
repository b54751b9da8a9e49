"""Running RIFE per output frame through the foundation's torch bridge."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.bridge import TorchRunner
from vsrestore.core.planes import frame_to_array, write_tensor
from vsrestore.core.tiling import pad_to_multiple

from ..timing import Schedule
from .arch import IFNet
from .loader import load_rife
from .settings import Padding, RifeSettings, pad_multiple

__all__ = ["pad_frames", "rife_frames", "rife_runner"]

core = vs.core


def pad_frames(x: torch.Tensor, multiple: int, padding: Padding) -> torch.Tensor:
    """(N, 7, H, W) = frame 0 RGB, frame 1 RGB, timestep plane, padded right and bottom to ``multiple``:
    the frames with zeros (:attr:`Padding.REFERENCE`) or by reflection, the timestep plane with its own value
    (the reference builds it at the padded size)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    zeros = padding == Padding.REFERENCE
    imgs = F.pad(x[:, :6], (0, pw, 0, ph)) if zeros else pad_to_multiple(x[:, :6], multiple)[0]
    t = F.pad(x[:, 6:7], (0, pw, 0, ph), mode="replicate")
    return torch.cat((imgs, t), 1)


def rife_runner(net: IFNet, backend: Backend | None = None, settings: RifeSettings | None = None) -> TorchRunner:
    """A thread-safe runner for ``net``: input (N, 7, H, W) = frame 0 RGB, frame 1 RGB, timestep plane ->
    (N, 3, H, W). Frames are padded as ``settings.padding`` says (default: as the reference does) and the
    result cropped back; fp16 on CUDA by default.

    :raises ValueError: settings the version cannot run (ensemble on 4.21+).
    """
    cfg = RifeSettings() if settings is None else settings
    if not isinstance(cfg, RifeSettings):
        raise TypeError(
            f"rife_settings must be a RifeSettings(scale=..., ensemble=..., padding=...), not {type(cfg).__name__}"
        )
    cfg.check(net.spec)
    multiple, padding = pad_multiple(net.spec, cfg), Padding(cfg.padding)

    def forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        xp = pad_frames(x, multiple, padding)
        y = model(xp[:, 0:3], xp[:, 3:6], xp[:, 6:7], scale=cfg.scale, ensemble=cfg.ensemble)
        return y[..., :h, :w]

    return TorchRunner(net, backend=backend, forward=forward)


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
    settings: RifeSettings | None = None,
) -> vs.VideoNode:
    """Output-indexed clip: frame k is RIFE's picture at ``sched.phase[k]`` between source frames
    ``sched.source[k]`` and the next one, in ``src``'s format (the model is loaded once, here).

    :param settings: scale, ensemble and padding (default: the reference's, see :class:`RifeSettings`).
    :raises ValueError: settings the loaded version cannot run.
    """
    net = model if isinstance(model, IFNet) else load_rife(model)[0]
    runner = rife_runner(net, backend, settings)
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
