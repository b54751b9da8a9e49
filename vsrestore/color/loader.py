"""Turn ``model=`` into a ready torch module that maps luma (N, 1, H, W) to chroma (N, 2, H, W)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from ..core.weights import ModelInfo, WeightsError, load_state_dict, resolve_weights
from .detect import ddcolor_config, detect_arch, tiny_members, tiny_widths
from .models.ddcolor import IGNORED_KEYS, DDColorColorizer, DDColorKind, build_ddcolor, ddcolor_layout_errors
from .models.deoldify import DeOldifyColorizer, DeOldifyKind, build_deoldify_unet
from .models.tiny import TinyColorEnsemble, TinyColorNet
from .options import ColorArch
from .plan import DEFAULT_RENDER_SIZE

__all__ = ["DEFAULT_MODEL", "INFO", "LoadedColorizer", "build_tiny", "load_colorizer", "load_ddcolor"]

DEFAULT_MODEL = "vsrestore_colorizer_small"
DDCOLOR_SOURCE = (
    "DDColor's model zoo, https://github.com/piddnad/DDColor (MODEL_ZOO.md: ddcolor_modelscope, ddcolor_artistic, "
    "ddcolor_paper, ddcolor_paper_tiny)"
)
INFO = ModelInfo(
    arch="colorization network (vsrestore's default, DeOldify's ResNet-101/ResNet-34 U-Net generator, or DDColor)",
    filenames=(
        "ColorizeVideo_gen.pth",
        "ColorizeStable_gen.pth",
        "ColorizeArtistic_gen.pth",
        "ddcolor_modelscope.pth",
        "ddcolor_artistic.pth",
        "ddcolor_paper.pth",
        "ddcolor_paper_tiny.pth",
        DEFAULT_MODEL + ".pth",
    ),
    source="vsrestore (default, ships in the package), DeOldify's release page, https://github.com/jantic/DeOldify, "
    "or " + DDCOLOR_SOURCE,
    # DDColor's files hold the weights under "params" (some also under "params_ema"); its inference uses "params"
    wrappers=("params", "params_ema", "state_dict", "model", "net_g", "generator"),
)
# default working sizes, pixels: the short side for the default net; the square side (render_factor * 16)
# for DeOldify: 21 * 16 for the video model is DeOldify's video default, 35 * 16 its image default; the square
# side for DDColor (its inference scripts' input_size, 512).
DEFAULT_RENDER = {
    ColorArch.DEFAULT: DEFAULT_RENDER_SIZE,
    ColorArch.DEOLDIFY_WIDE: 336,
    ColorArch.DEOLDIFY_DEEP: 560,
    ColorArch.DDCOLOR_TINY: 512,
    ColorArch.DDCOLOR_LARGE: 512,
}


def build_tiny(sd: dict[str, torch.Tensor]) -> TinyColorNet | TinyColorEnsemble:
    """An untrained TinyColorNet or TinyColorEnsemble shaped like ``sd``; fills, in ``sd``, the scalar buffers
    that checkpoints made before they existed lack (``chroma_gain`` 1, ``multiscale`` off; an ensemble's
    ``flip`` off)."""

    def single(prefix: str) -> TinyColorNet:
        sd.setdefault(prefix + "chroma_gain", torch.tensor(1.0))
        sd.setdefault(prefix + "multiscale", torch.tensor(0.0))
        bins = sd[prefix + "bin_centers"].float()
        return TinyColorNet(tiny_widths(sd, prefix), bins=bins, regression=prefix + "reg.weight" in sd)

    n = tiny_members(sd)
    if not n:
        return single("")
    sd.setdefault("flip", torch.tensor(0.0))
    return TinyColorEnsemble([single(f"members.{i}.") for i in range(n)])


@dataclass(frozen=True)
class LoadedColorizer:
    """A colorizer ready to run: ``module(luma) -> (Cb, Cr)``; ``square`` when it works on a square picture."""

    module: nn.Module
    arch: ColorArch
    render_size: int
    multiple: int
    square: bool
    path: str


def load_colorizer(model: str | os.PathLike[str] | None, render_size: int | None) -> LoadedColorizer:
    """Resolve, load (strictly) and wrap ``model`` (None: the shipped default).

    :param render_size: working size in pixels (see :func:`vsrestore.colorize`); None for the model's default.
    :raises WeightsError: missing file, unknown architecture, or a state dict that does not fit.
    """
    path = resolve_weights(model, INFO, default=DEFAULT_MODEL)
    sd = load_state_dict(path, INFO)
    arch = detect_arch(sd, str(path))
    size = DEFAULT_RENDER[arch] if render_size is None else int(render_size)
    if size < 16:
        raise ValueError(
            f"vsrestore.colorize: render_size={size} is too small; use at least 16 (default {DEFAULT_RENDER[arch]})"
        )
    if arch in (ColorArch.DDCOLOR_TINY, ColorArch.DDCOLOR_LARGE):
        return load_ddcolor(sd, arch, size, str(path))
    try:
        if arch == ColorArch.DEFAULT:
            net = build_tiny(sd)
            net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
            return LoadedColorizer(net, arch, size, TinyColorNet.multiple, False, str(path))
        kind = DeOldifyKind.WIDE if arch == ColorArch.DEOLDIFY_WIDE else DeOldifyKind.DEEP
        size = max(32, (size + 8) // 16 * 16)
        unet = build_deoldify_unet(kind)
        unet.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=True)
        return LoadedColorizer(DeOldifyColorizer(unet, size), arch, size, 1, True, str(path))
    except RuntimeError as e:
        raise WeightsError(f"{path}: the weights do not fit the {arch.value} layout: {str(e).splitlines()[0]}") from e


def load_ddcolor(sd: dict[str, torch.Tensor], arch: ColorArch, render_size: int, path: str) -> LoadedColorizer:
    """A DDColor colorizer from its state dict, loaded strictly.

    The two ``encoder.arch.head_cls`` keys (a classification head the published files hold and DDColor's own
    code ignores) are dropped; any other missing, extra or misshapen key is refused, by name. The net is built
    on the meta device and takes the file's tensors as they are (no second copy of the weights).

    :param render_size: the side of the square the model sees, pixels; rounded to a multiple of 32, at least 64.
    :raises WeightsError: the state dict does not have the published layout.
    """
    kind = DDColorKind.TINY if arch == ColorArch.DDCOLOR_TINY else DDColorKind.LARGE
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items() if k not in IGNORED_KEYS}
    queries, layers = ddcolor_config(sd)
    net = build_ddcolor(kind, queries, max(1, layers), meta=True)
    problems = ddcolor_layout_errors(net, sd)
    if problems:
        raise WeightsError(
            f"{path}: the weights do not fit DDColor's {kind.value} "
            f"(ConvNeXt-{'T' if kind == DDColorKind.TINY else 'L'}) layout: {'; '.join(problems)}. "
            f"Use an unmodified checkpoint from {DDCOLOR_SOURCE}"
        )
    net.load_state_dict(sd, strict=True, assign=True)
    size = max(64, (render_size + 16) // 32 * 32)
    return LoadedColorizer(DDColorColorizer(net, size), arch, size, 1, True, path)
