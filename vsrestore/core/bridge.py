"""The torch node bridge: run a torch ``nn.Module`` as a VapourSynth node.

Design
------
* The model is built (if a factory is given), moved to its device and cast once: when the runner is made, or
  with ``lazy=True`` at the first forward (under the runner's lock, so once, whatever the threads); frames never
  load or build anything after that. torch itself is imported on first use, so building a graph of torch
  nodes does not pay torch's import (seconds).
* Graph building (:func:`vsrestore.core.deferred.building`): a torch node's output is deferrable, so plugins that
  read frame 0 while their node is created (mvtools) do not run the model then.
* Input planes are read as numpy views and stacked into one float32 tensor (see :mod:`.planes`); the clip is
  first turned into 32-bit float 4:4:4 by a resize node when it is not already: subsampled chroma is
  upsampled (bicubic), and integer samples follow the clip's ``_Range`` into VapourSynth's float meaning
  (luma/RGB 0..1, so limited-range 16..235 becomes 0..1; chroma -0.5..0.5).
* Thread safety: VapourSynth asks for frames from many threads at once. Conversions run in those threads in
  parallel; the forward itself is guarded by **one lock per runner**, so one forward runs at a time per node
  and it may use all CPU threads (or the whole GPU). This keeps results identical whatever the request
  order and avoids oversubscribing the CPU.
* CPU thread count: torch keeps it per OS thread (OpenMP and MKL settings are thread-local, and a thread
  takes the last value set anywhere at its first torch call), and a float forward's last bits depend on it.
  So every CPU forward first sets the calling thread's count to the backend's: the same frame comes out
  whichever VapourSynth thread renders it, whatever other runners (``threads=1``) set before.
* Temporal models: with ``temporal_radius=r`` the model gets frames n-r .. n+r stacked along the channel
  axis (oldest first), each with C channels; at the clip's ends the first/last frame is repeated.
* Large frames: ``tile`` and ``overlap`` (see :mod:`.tiling`) bound memory; ``multiple`` pads to what the
  architecture needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import vapoursynth as vs

from .backend import Backend
from .checks import check_clip
from .deferred import deferrable

if TYPE_CHECKING:
    import torch
    from torch import nn

    ModelLike = nn.Module | Callable[[], nn.Module]
    Forward = Callable[[nn.Module, torch.Tensor], torch.Tensor]

__all__ = ["TorchRunner", "shifted", "to_float444", "torch_node"]

core = vs.core

_threads_lock = threading.Lock()


class TorchRunner:
    """A model on its device, ready for thread-safe, tiled inference on (N, C, H, W) float32 CPU tensors.

    :param model: a module, or a function of no arguments that builds it (called once, here).
    :param backend: device, precision and CPU threads (default: CUDA with fp16 when present, else CPU fp32).
    :param tile: tile size in input pixels (int or (h, w)), None for whole frames.
    :param overlap: context in pixels around each tile, discarded after the forward.
    :param scale: the model's integer upscaling factor.
    :param multiple: input sides are padded (by reflection) to a multiple of this.
    :param forward: how to call the model on a (tiled, padded) input; default ``model(x)``.
    :param lazy: build (a factory), move and cast the model at the first call instead of here (the graph can
        then be built without loading any model); default False.
    :param channels_last: on the CPU, keep the model's weights (hence its convolutions) in channels-last memory
        order, which oneDNN runs faster for plain conv nets (measured: vsrestore's FilmSR 1.65x, the default
        colouriser 1.3x, outputs equal within 1e-6; ``benchmarks/pipeline.py``); default False, since a model that
        reshapes with ``view`` may refuse it. Ignored on CUDA.
    """

    def __init__(
        self,
        model: ModelLike,
        *,
        backend: Backend | None = None,
        tile: int | tuple[int, int] | None = None,
        overlap: int = 16,
        scale: int = 1,
        multiple: int = 1,
        forward: Forward | None = None,
        lazy: bool = False,
        channels_last: bool = False,
    ) -> None:
        self.backend = backend or Backend()
        self.tile, self.overlap, self.scale, self.multiple = tile, overlap, scale, multiple
        self._forward = forward
        self._channels_last = channels_last
        self._lock = threading.Lock()
        self._source: ModelLike | None = model
        self._model: nn.Module | None = None
        self.loads = 0  # how many times a model was built here (0 or 1)
        self._threads = 0  # torch CPU threads every forward runs with (0 on a GPU); set when the model is built
        if not lazy:
            self._ensure_model()

    def _ensure_model(self) -> nn.Module:
        """The model on its device (built, moved and cast on the first call); callers hold ``_lock`` or are the
        constructor."""
        if self._model is not None:
            return self._model
        import torch
        from torch import nn

        self.device = self.backend.torch_device()
        self.dtype = self.backend.dtype()
        model = self._source
        module = model if isinstance(model, nn.Module) else model()  # type: ignore[misc]
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchRunner: model must be an nn.Module or build one, got {type(module).__name__}")
        module = module.eval().requires_grad_(False).to(self.device, self.dtype)
        if self._channels_last and self.device.type == "cpu":
            module = module.to(memory_format=torch.channels_last)
        self._model = module
        self._source = None
        self.loads += 1
        self._threads = self.backend.cpu_threads() if self.device.type == "cpu" else 0
        return self._model

    def _pin_threads(self) -> None:
        """Set this OS thread's torch CPU thread count to the backend's (only when it differs: setting it clears
        oneDNN's cached primitives)."""
        import torch

        if self._threads and torch.get_num_threads() != self._threads:
            with _threads_lock:
                torch.set_num_threads(self._threads)

    @property
    def model(self) -> nn.Module:
        """The model on its device (built now if the runner is lazy and has not run yet)."""
        with self._lock:
            return self._ensure_model()

    @property
    def loaded(self) -> bool:
        """Whether the model has been built (a lazy runner builds it at its first call)."""
        return self._model is not None

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        assert self._model is not None
        if self._forward is not None:
            return self._forward(self._model, x)
        return self._model(x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) float32 on any device -> (N, C', H*scale, W*scale) float32 on the CPU."""
        import torch

        from .tiling import tiled_forward

        with self._lock, torch.inference_mode():
            self._ensure_model()
            self._pin_threads()
            xd = x.to(self.device, self.dtype, non_blocking=True)
            y = tiled_forward(
                self._call, xd, tile=self.tile, overlap=self.overlap, scale=self.scale, multiple=self.multiple
            )
            return y.to("cpu", torch.float32)


def to_float444(clip: vs.VideoNode) -> vs.VideoNode:
    """The clip as 32-bit float without subsampling (no-op when it already is)."""
    fmt = clip.format
    assert fmt is not None
    if fmt.sample_type == vs.FLOAT and fmt.bits_per_sample == 32 and fmt.subsampling_w == fmt.subsampling_h == 0:
        return clip
    target = core.query_video_format(fmt.color_family, vs.FLOAT, 32, 0, 0)
    if fmt.subsampling_w or fmt.subsampling_h:
        return core.resize.Bicubic(clip, format=target.id)
    return core.resize.Point(clip, format=target.id)


def shifted(clip: vs.VideoNode, offset: int) -> vs.VideoNode:
    """Frame n of the result is frame n+offset of ``clip``, clamped to the clip's first/last frame."""
    if offset == 0:
        return clip
    n = clip.num_frames
    k = min(abs(offset), n - 1) if n > 1 else 0
    if k == 0:
        return clip
    if offset < 0:
        return clip[0] * k + clip[: n - k]
    return clip[k:] + clip[n - 1] * k


def torch_node(
    clip: vs.VideoNode,
    model: ModelLike | TorchRunner,
    *,
    luma_only: bool = False,
    temporal_radius: int = 0,
    scale: int = 1,
    out_format: int | vs.PresetVideoFormat | vs.VideoFormat | None = None,
    tile: int | tuple[int, int] | None = None,
    overlap: int = 16,
    multiple: int = 1,
    backend: Backend | None = None,
    forward: Forward | None = None,
) -> vs.VideoNode:
    """Run a torch model on every frame of ``clip``.

    :param clip: GRAY, YUV or RGB; 8-16 bit integer or 16/32 bit float; constant format and size.
    :param model: an ``nn.Module``, a function that builds one, or a ready :class:`TorchRunner`.
    :param luma_only: feed only plane 0 (luma or gray), as one channel.
    :param temporal_radius: feed frames n-r..n+r stacked along channels (edges repeat the end frames).
    :param scale: the model's integer upscaling factor.
    :param out_format: output format; must be 32-bit float (or 16-bit float). Default: 1 output channel ->
        GRAYS; 3 channels -> RGBS for RGB or gray input, YUV444PS for YUV input.
    :param tile, overlap, multiple, backend, forward: see :class:`TorchRunner`.
    :returns: a float clip of size (W*scale, H*scale); frame props are copied from source frame n
        (``_Matrix`` is set to 0 for RGB output).

    Model input is float32 (N=1, C*(2r+1), H, W) in VapourSynth's float meaning: luma/RGB 0..1 (limited-range
    integer input is expanded by its ``_Range``), chroma -0.5..0.5.
    """
    func = "vsrestore.torch_node"
    check_clip(clip, func)
    if temporal_radius < 0:
        raise vs.Error(f"{func}: temporal_radius={temporal_radius} must be >= 0")
    if scale < 1:
        raise vs.Error(f"{func}: scale={scale} must be a positive integer")
    src = core.std.ShufflePlanes(clip, 0, vs.GRAY) if luma_only else clip
    src = to_float444(src)
    in_fam = src.format.color_family
    runner = model if isinstance(model, TorchRunner) else TorchRunner(
        model, backend=backend, tile=tile, overlap=overlap, scale=scale, multiple=multiple, forward=forward
    )
    scale = runner.scale
    if out_format is None:
        out_fmt = src.format if in_fam != vs.GRAY else core.get_video_format(vs.GRAYS)
    else:
        out_fmt = core.get_video_format(out_format)
    if out_fmt.sample_type != vs.FLOAT:
        raise vs.Error(f"{func}: out_format={out_fmt.name} must be a float format (e.g. GRAYS, RGBS, YUV444PS)")
    if out_fmt.subsampling_w or out_fmt.subsampling_h:
        raise vs.Error(f"{func}: out_format={out_fmt.name} must not be subsampled; resize the result afterwards")
    template = core.std.BlankClip(
        src, width=src.width * scale, height=src.height * scale, format=out_fmt.id, keep=True
    )
    r = temporal_radius
    sources = [shifted(src, k) for k in range(-r, r + 1)]
    rgb_out = out_fmt.color_family == vs.RGB

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        import torch

        from .planes import frame_to_array, write_tensor

        arrays = [frame_to_array(fr) for fr in f[1:]]
        x = torch.from_numpy(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))
        y = runner(x.unsqueeze(0))
        if y.shape[1] != out_fmt.num_planes:
            raise vs.Error(
                f"{func}: the model gave {y.shape[1]} channels but out_format {out_fmt.name} has "
                f"{out_fmt.num_planes} planes; pass out_format that matches the model"
            )
        fout = f[0].copy()
        write_tensor(fout, y)
        props = fout.props
        for key, value in f[1 + r].props.items():
            props[key] = value
        if rgb_out:
            props["_Matrix"] = 0
        return fout

    return deferrable(core.std.ModifyFrame(template, [template, *sources], apply))
