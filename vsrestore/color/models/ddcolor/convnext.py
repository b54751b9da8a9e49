"""ConvNeXt, the encoder of DDColor, with the layout of DDColor's checkpoints (keys under ``encoder.arch.``).

Written from the paper (Liu et al. 2022, "A ConvNet for the 2020s") and DDColor's
``basicsr/archs/ddcolor_arch_utils/convnext.py``: a 4x4/4 stem, three 2x2/2 downsamplings, stages of blocks
(7x7 depthwise conv, LayerNorm, 4x MLP with GELU, layer scale ``gamma``, residual), and a channels-first
LayerNorm ``norm<i>`` after each stage whose output is what the decoder uses. The final ``norm`` (a
LayerNorm of the pooled features, for classification) is stored in the checkpoints but unused; so is the
classification head ``head_cls``, which DDColor's own code no longer builds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CONVNEXT_LARGE", "CONVNEXT_TINY", "ConvNeXt", "ConvNeXtSpec"]

ConvNeXtSpec = tuple[tuple[int, int, int, int], tuple[int, int, int, int]]  # (depths, dims)
CONVNEXT_TINY: ConvNeXtSpec = ((3, 3, 9, 3), (96, 192, 384, 768))
CONVNEXT_LARGE: ConvNeXtSpec = ((3, 3, 27, 3), (192, 384, 768, 1536))
_EPS = 1e-6


class ChannelsFirstNorm(nn.Module):
    """LayerNorm over the channel axis of (N, C, H, W) (biased variance, eps 1e-6), keys ``weight``/``bias``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, _EPS)
        return y.permute(0, 3, 1, 2)


class Block(nn.Module):
    """One ConvNeXt block: x + gamma * MLP(LN(dwconv7(x)))."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=_EPS)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    """The encoder: RGB (N, 3, H, W), H and W multiples of 32 -> the four normed stage outputs, at 1/4, 1/8,
    1/16 and 1/32 of the input size with ``dims`` channels."""

    def __init__(self, depths: Sequence[int], dims: Sequence[int]) -> None:
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), ChannelsFirstNorm(dims[0]))]
            + [
                nn.Sequential(ChannelsFirstNorm(dims[i]), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2))
                for i in range(3)
            ]
        )
        self.stages = nn.ModuleList(
            nn.Sequential(*(Block(d) for _ in range(n))) for n, d in zip(depths, dims, strict=True)
        )
        self.norm0 = ChannelsFirstNorm(dims[0])
        self.norm1 = ChannelsFirstNorm(dims[1])
        self.norm2 = ChannelsFirstNorm(dims[2])
        self.norm3 = ChannelsFirstNorm(dims[3])
        self.norm = nn.LayerNorm(dims[3], eps=_EPS)  # stored in the checkpoints, unused for colour

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        norms = (self.norm0, self.norm1, self.norm2, self.norm3)
        feats = []
        for down, stage, norm in zip(self.downsample_layers, self.stages, norms, strict=True):
            x = stage(down(x))
            feats.append(norm(x))
        return feats
