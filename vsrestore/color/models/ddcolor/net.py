"""The whole DDColor network, its two published sizes, and strict loading of its checkpoints."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import torch
from torch import nn

from ..deoldify import IMAGENET_MEAN, IMAGENET_STD, sn_conv
from .convnext import CONVNEXT_LARGE, CONVNEXT_TINY, ConvNeXt, ConvNeXtSpec
from .decoder import DDColorDecoder

__all__ = ["IGNORED_KEYS", "DDColorKind", "DDColorNet", "build_ddcolor", "ddcolor_layout_errors"]

# DDColor's ConvNeXt once had a 4-way classification head; the published files still hold it, the reference
# code no longer builds it (and loads with strict=False). These two keys, and only these, are dropped.
IGNORED_KEYS = ("encoder.arch.head_cls.weight", "encoder.arch.head_cls.bias")


class DDColorKind(StrEnum):
    """The two encoder sizes DDColor publishes."""

    TINY = "tiny"  # ConvNeXt-T: ddcolor_paper_tiny.pth (440 state-dict entries)
    LARGE = "large"  # ConvNeXt-L: ddcolor_paper.pth, ddcolor_modelscope.pth, ddcolor_artistic.pth (602)


SPECS: dict[DDColorKind, ConvNeXtSpec] = {DDColorKind.TINY: CONVNEXT_TINY, DDColorKind.LARGE: CONVNEXT_LARGE}


class _Encoder(nn.Module):
    """Holds the ConvNeXt under ``arch`` (the checkpoints' ``encoder.arch.`` prefix)."""

    def __init__(self, spec: ConvNeXtSpec) -> None:
        super().__init__()
        self.arch = ConvNeXt(*spec)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.arch(x)


class DDColorNet(nn.Module):
    """DDColor (multi-scale colour decoder, 2 output channels, spectral-normed refine conv).

    Input: a grey RGB picture (N, 3, H, W) in 0..1, H and W multiples of 32 (DDColor uses 512 x 512); it is
    normalised here with the stored ImageNet ``mean``/``std`` buffers. Output: Lab ``ab`` (N, 2, H, W), about
    -128..127. ``state_dict()`` matches the published checkpoints (without ``head_cls``).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, kind: DDColorKind, num_queries: int = 100, dec_layers: int = 9) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        spec = SPECS[kind]
        self.encoder = _Encoder(spec)
        self.decoder = DDColorDecoder(spec[1], num_queries, dec_layers)
        self.refine_net = nn.Sequential(sn_conv(num_queries + 3, 2, ks=1, relu=False))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x = (rgb - self.mean) / self.std
        feats = self.encoder(x)
        return self.refine_net(torch.cat([self.decoder(feats), x], 1))


def build_ddcolor(kind: DDColorKind, num_queries: int = 100, dec_layers: int = 9, meta: bool = False) -> DDColorNet:
    """An untrained DDColorNet; ``meta=True`` builds it on the meta device (no memory; load with
    ``assign=True``)."""
    if meta:
        with torch.device("meta"):
            return DDColorNet(kind, num_queries, dec_layers)
    return DDColorNet(kind, num_queries, dec_layers)


def ddcolor_layout_errors(net: nn.Module, sd: Mapping[str, torch.Tensor], limit: int = 6) -> list[str]:
    """What keeps ``sd`` from loading strictly into ``net``, in words (empty when it fits): missing keys,
    extra keys and shape mismatches, each naming up to ``limit`` keys."""
    want = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    problems = []

    def names(keys: list[str]) -> str:
        more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
        return ", ".join(keys[:limit]) + more

    missing = [k for k in want if k not in sd]
    extra = [k for k in sd if k not in want]
    shapes = [
        f"{k} {tuple(sd[k].shape)} (expected {want[k]})" for k in want if k in sd and tuple(sd[k].shape) != want[k]
    ]
    if missing:
        problems.append(f"{len(missing)} missing: {names(missing)}")
    if extra:
        problems.append(f"{len(extra)} unexpected: {names(extra)}")
    if shapes:
        problems.append(f"{len(shapes)} of another shape: {names(shapes)}")
    return problems
