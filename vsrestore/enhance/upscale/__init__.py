"""Super-resolution: a torch model through the foundation bridge, or classical nnedi3 doubling.

Luma and chroma take separate paths for YUV: luma goes through the model (or nnedi3), chroma is resized
with Spline36 (old films are black and white; chroma carries no detail worth a network). GRAY goes through
the model; RGB goes through a 3-channel model as it is, or a 1-channel model per plane.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import vapoursynth as vs

from ...core.backend import Backend, OpenVINO, cuda_visible
from ...core.bridge import TorchRunner, torch_node
from ...core.weights import MODEL_DIR_ENV
from .._common import check_input, check_int
from .classical import nnedi3_scale
from .mlrt import default_onnx, filmsr_openvino

if TYPE_CHECKING:
    import torch

    from .loaders import SR_INFO, LoadedSR, build_from_state_dict, load_sr_model

#: the shipped model's file (vsrestore/models); its layout (FilmSR, x2, luma) is known without loading it
DEFAULT_MODEL = "vsrestore_filmsr_x2.pth"
_DEFAULT_LAYOUT = ("FilmSR", 1, 2)  # arch, channels, scale
# names whose module imports torch: imported on first use, so that building a graph needs no torch
_LAZY = {"SR_INFO": ".loaders", "LoadedSR": ".loaders", "build_from_state_dict": ".loaders",
         "load_sr_model": ".loaders"}

__all__ = ["DEFAULT_MODEL", "SR_INFO", "LoadedSR", "UpscaleMethod", "build_from_state_dict", "load_sr_model",
           "upscale"]

core = vs.core


class UpscaleMethod(StrEnum):
    """How :func:`upscale` enlarges: a torch model, nnedi3 doubling, or a plain Spline36 resize."""

    MODEL = "model"
    NNEDI3 = "nnedi3"
    SPLINE36 = "spline36"


def __getattr__(name: str) -> Any:
    """The loaders' names on first use: their module imports torch."""
    if name in _LAZY:
        from . import loaders

        return getattr(loaders, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class _Plan:
    """What :func:`upscale` needs to know of a model to build the graph: the module, or a function that builds
    it at the first frame (the shipped default), and its layout."""

    model: Any
    arch: str
    channels: int
    scale: int


def _model_gray(gray: vs.VideoNode, sr: _Plan, runner: TorchRunner) -> vs.VideoNode:
    """Run the model on a one-plane clip (GRAYS out at the model's scale)."""
    return torch_node(gray, runner, scale=sr.scale, out_format=vs.GRAYS)


def _load_default() -> torch.nn.Module:
    """The shipped FilmSR, built (at the first frame of a lazy runner); refuses a file of another layout."""
    from .loaders import load_sr_model

    sr = load_sr_model(None)
    if (sr.arch, sr.channels, sr.scale) != _DEFAULT_LAYOUT:
        raise ValueError(f"vsrestore.upscale: the default model {DEFAULT_MODEL} found is {sr.arch} x{sr.scale} with "
                         f"{sr.channels} channel(s), not the shipped FilmSR x2 (luma); pass model= explicitly")
    return sr.model


def upscale(
    clip: vs.VideoNode,
    scale: int = 2,
    *,
    method: UpscaleMethod | str = UpscaleMethod.MODEL,
    model: str | os.PathLike[str] | None = None,
    tile: int | None = 512,
    overlap: int = 16,
    backend: Backend | OpenVINO | None = None,
) -> vs.VideoNode:
    """Enlarge a clip by an integer factor.

    :param clip: GRAY, YUV or RGB, 8-16 bit integer or float; the result has the same format at
        ``scale`` times the width and height.
    :param scale: 1..8, the enlargement. With a model of another scale, the model's output is resized to it
        (Spline36).
    :param method: ``"model"`` (default; torch super-resolution), ``"nnedi3"`` (classical edge-directed
        doubling with znedi3, no model) or ``"spline36"`` (plain resize).
    :param model: with method ``"model"``: None for vsrestore's shipped FilmSR x2 (luma), or a checkpoint
        path / directory / bare name (looked up in ``$VSRESTORE_MODEL_DIR`` then ``vsrestore/models``) of
        FilmSR, Real-ESRGAN RRDBNet x4/x2 or SRVGGNetCompact, recognised from its state dict.
    :param tile: tile side in input pixels for the model through torch (bounds memory on 2K frames); None: whole
        frames. (OpenVINO runs frames up to 1920x1088 whole, larger ones in 1024-pixel tiles.)
    :param overlap: context pixels around each tile.
    :param backend: where the model runs: a torch :class:`~vsrestore.core.backend.Backend` (device, precision),
        or :class:`~vsrestore.core.backend.OpenVINO` (the shipped FilmSR only, through vs-mlrt's ``ov``
        plugin on the CPU). Default: torch on CUDA in fp16 when a GPU is present; else, for the shipped FilmSR,
        OpenVINO in float32 where the ``ov`` plugin is installed (same output within 1e-5, 1.5-2x faster);
        else torch on the CPU in fp32.
    :returns: the enlarged clip. Frame prop ``UpscaleMethod`` (the method used, plus the model's layout:
        ``model:FilmSR`` through torch, ``model:FilmSR:openvino`` through OpenVINO).
    """
    func = "vsrestore.upscale"
    clip = check_input(clip, func)
    check_int(func, "scale", scale, 1, 8)
    try:
        meth = UpscaleMethod(method)
    except ValueError:
        raise ValueError(f"{func}: method={method!r}; use one of {[m.value for m in UpscaleMethod]}") from None
    if tile is not None:
        check_int(func, "tile", tile, 32, 8192)
    check_int(func, "overlap", overlap, 0, 256)
    fmt = clip.format
    assert fmt is not None
    w2, h2 = clip.width * scale, clip.height * scale
    if scale == 1 or meth == UpscaleMethod.SPLINE36:
        out = core.resize.Spline36(clip, w2, h2) if scale > 1 else clip
        return core.std.SetFrameProps(out, UpscaleMethod="spline36")
    tag = meth.value
    fam = fmt.color_family
    if meth == UpscaleMethod.NNEDI3:
        if fam == vs.RGB or fam == vs.GRAY:
            return core.std.SetFrameProps(nnedi3_scale(clip, scale), UpscaleMethod=tag)
        luma = nnedi3_scale(core.std.ShufflePlanes(clip, 0, vs.GRAY), scale)
    elif (network := _openvino_network(model, backend, func)) is not None:
        ov = backend if isinstance(backend, OpenVINO) else OpenVINO()
        tag = f"model:{_DEFAULT_LAYOUT[0]}:openvino"
        if fam == vs.RGB:
            planes = [filmsr_openvino(core.std.ShufflePlanes(clip, p, vs.GRAY).resize.Point(format=vs.GRAYS),
                                      network, ov) for p in range(3)]
            merged = core.std.ShufflePlanes(planes, [0, 0, 0], vs.RGB)
            out = core.resize.Spline36(merged, w2, h2, format=fmt.id) if scale != 2 else core.resize.Point(
                merged, format=fmt.id)
            return core.std.SetFrameProps(out, UpscaleMethod=tag)
        luma = filmsr_openvino(core.std.ShufflePlanes(clip, 0, vs.GRAY).resize.Point(format=vs.GRAYS), network, ov)
        if scale != 2:
            luma = core.resize.Spline36(luma, w2, h2)
    else:
        assert not isinstance(backend, OpenVINO)
        if model is None:  # the shipped model: its layout is known, so it is loaded at the first frame
            sr = _Plan(_load_default, *_DEFAULT_LAYOUT)
        else:
            from .loaders import load_sr_model

            got = load_sr_model(model)
            sr = _Plan(got.model, got.arch, got.channels, got.scale)
        runner = TorchRunner(sr.model, backend=backend, tile=tile, overlap=overlap, scale=sr.scale, multiple=1,
                             forward=None if sr.channels == 1 else _gray_through_rgb, lazy=True,
                             channels_last=True)  # plain conv nets: faster on the CPU, same result
        tag = f"model:{sr.arch}"
        if fam == vs.RGB and sr.channels == 3:
            rgb = torch_node(clip, TorchRunner(sr.model, backend=backend, tile=tile, overlap=overlap,
                                               scale=sr.scale, lazy=True), scale=sr.scale, out_format=vs.RGBS)
            rgb = core.resize.Spline36(rgb, w2, h2, format=fmt.id) if sr.scale != scale else core.resize.Point(
                rgb, format=fmt.id)
            return core.std.SetFrameProps(rgb, UpscaleMethod=tag)
        if fam == vs.RGB:
            planes = [_model_gray(core.std.ShufflePlanes(clip, p, vs.GRAY), sr, runner) for p in range(3)]
            merged = core.std.ShufflePlanes(planes, [0, 0, 0], vs.RGB)
            out = core.resize.Spline36(merged, w2, h2, format=fmt.id) if sr.scale != scale else core.resize.Point(
                merged, format=fmt.id)
            return core.std.SetFrameProps(out, UpscaleMethod=tag)
        luma = _model_gray(core.std.ShufflePlanes(clip, 0, vs.GRAY), sr, runner)
        if sr.scale != scale:
            luma = core.resize.Spline36(luma, w2, h2)
    gray_fmt = fmt.replace(color_family=vs.GRAY, subsampling_w=0, subsampling_h=0)
    luma = _to_plane_format(luma, gray_fmt)
    if fam == vs.GRAY:
        return core.std.SetFrameProps(luma, UpscaleMethod=tag)
    chroma = core.resize.Spline36(clip, w2, h2)
    out = core.std.ShufflePlanes([luma, chroma], [0, 1, 2], vs.YUV)
    return core.std.SetFrameProps(out, UpscaleMethod=tag)


def _openvino_network(model: str | os.PathLike[str] | None, backend: Backend | OpenVINO | None,
                      func: str) -> Path | None:
    """The ONNX network to run through OpenVINO, or None for torch (see :func:`upscale`'s ``backend``)."""
    if isinstance(backend, OpenVINO):
        if model is not None:
            raise ValueError(f"{func}: backend=OpenVINO() runs only the shipped FilmSR; leave model=None or use a "
                             f"torch Backend for {os.fspath(model)!r}")
        if not OpenVINO.available():
            raise ValueError(f"{func}: backend=OpenVINO() needs vs-mlrt's ov plugin; install it with "
                             f"`pip install vapoursynth-mlrt-ov`, or pass a torch Backend")
        network = default_onnx()
        if network is None:
            raise ValueError(f"{func}: backend=OpenVINO() runs the shipped FilmSR only, but ${MODEL_DIR_ENV} holds "
                             f"another {DEFAULT_MODEL}; unset it or pass a torch Backend")
        return network
    if model is not None or backend is not None or cuda_visible() or not OpenVINO.available():
        return None
    return default_onnx()


def _to_plane_format(gray: vs.VideoNode, target: vs.VideoFormat) -> vs.VideoNode:
    """GRAYS from the model back to the clip's luma format: the inverse of the bridge's own conversion (frame
    props, hence the range, are those of the source frame)."""
    if gray.format is not None and gray.format.id == target.id:
        return gray
    return core.resize.Point(gray, format=target.id)


def _gray_through_rgb(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Feed a one-channel input to a 3-channel model as grey RGB and return the channel mean."""
    if x.shape[1] == 1:
        return model(x.expand(-1, 3, -1, -1)).mean(dim=1, keepdim=True)
    return model(x)
