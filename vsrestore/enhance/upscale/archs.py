"""Super-resolution architectures: vsrestore's own small film model and two published layouts.

* :class:`FilmSR` is vsrestore's default: a small residual CNN on luma that doubles the size. It is trained by
  ``scripts/train_enhancer.py`` on photographs with synthetic film damage and ships in ``vsrestore/models``.
* :class:`CompactSR` and :class:`RRDBSR` are written from the published descriptions of Real-ESRGAN's
  SRVGGNetCompact and ESRGAN's RRDBNet, with parameter names laid out so that their public checkpoints load
  with ``load_state_dict(strict=True)``.

All models take (N, C, H, W) float32 in 0..1 and return (N, C_out, H*scale, W*scale).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CompactSR", "FilmSR", "RRDBSR"]


class _ResBlock(nn.Module):
    """conv - PReLU - conv, added to its input."""

    def __init__(self, feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(feat, feat, 3, padding=1)
        self.act = nn.PReLU(feat, init=0.1)
        self.conv2 = nn.Conv2d(feat, feat, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class FilmSR(nn.Module):
    """vsrestore's small film super-resolution net (luma, x2 by default).

    The net predicts the detail that a bicubic enlargement misses: ``out = bicubic(x) + shuffle(body(x))``, so
    an untrained net already gives the bicubic result and the trained one only adds detail and removes the
    film damage it was trained on (fine grain, compression blocks, small specks).

    :param channels: image channels in and out (1 for luma).
    :param feat: feature channels.
    :param blocks: residual blocks in the body.
    :param scale: integer enlargement.
    """

    def __init__(self, channels: int = 1, feat: int = 24, blocks: int = 3, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self.head = nn.Conv2d(channels, feat, 3, padding=1)
        self.head_act = nn.PReLU(feat, init=0.1)
        self.blocks = nn.Sequential(*[_ResBlock(feat) for _ in range(blocks)])
        self.tail = nn.Conv2d(feat, channels * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        nn.init.zeros_(self.tail.weight)
        if self.tail.bias is not None:
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        feat = self.head_act(self.head(x))
        return base + self.shuffle(self.tail(feat + self.blocks(feat)))


def _act(kind: str, feat: int) -> nn.Module:
    if kind == "prelu":
        return nn.PReLU(feat)
    if kind == "leakyrelu":
        return nn.LeakyReLU(0.1, inplace=True)
    if kind == "relu":
        return nn.ReLU(inplace=True)
    raise ValueError(f"unknown activation {kind!r}; use 'prelu', 'leakyrelu' or 'relu'")


class CompactSR(nn.Module):
    """A plain VGG-like stack (Real-ESRGAN's *SRVGGNetCompact* layout, e.g. realesr-general-x4v3).

    ``body`` holds: first conv, activation, then ``num_conv`` (conv, activation) pairs, then the last conv with
    ``out_ch * scale**2`` outputs, all in one ``ModuleList`` (checkpoint keys ``body.<i>.weight``). The result
    is pixel-shuffled and added to the nearest-neighbour enlargement of the input.
    """

    def __init__(
        self, in_ch: int = 3, out_ch: int = 3, feat: int = 64, num_conv: int = 16, scale: int = 4,
        act: str = "prelu",
    ) -> None:
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [nn.Conv2d(in_ch, feat, 3, 1, 1), _act(act, feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(feat, feat, 3, 1, 1), _act(act, feat)]
        layers.append(nn.Conv2d(feat, out_ch * scale * scale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for layer in self.body:
            y = layer(y)
        return self.upsampler(y) + F.interpolate(x, scale_factor=self.scale, mode="nearest")


class _DenseBlock(nn.Module):
    """Five convs, each seeing the input and all previous outputs; residual scaled by 0.2."""

    def __init__(self, feat: int, grow: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(feat, grow, 3, 1, 1)
        self.conv2 = nn.Conv2d(feat + grow, grow, 3, 1, 1)
        self.conv3 = nn.Conv2d(feat + 2 * grow, grow, 3, 1, 1)
        self.conv4 = nn.Conv2d(feat + 3 * grow, grow, 3, 1, 1)
        self.conv5 = nn.Conv2d(feat + 4 * grow, feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            feats.append(F.leaky_relu(conv(torch.cat(feats, 1)), 0.2))
        return x + 0.2 * self.conv5(torch.cat(feats, 1))


class _RRDB(nn.Module):
    def __init__(self, feat: int, grow: int) -> None:
        super().__init__()
        self.rdb1 = _DenseBlock(feat, grow)
        self.rdb2 = _DenseBlock(feat, grow)
        self.rdb3 = _DenseBlock(feat, grow)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBSR(nn.Module):
    """ESRGAN's residual-in-residual dense net (*RRDBNet*, as in RealESRGAN_x4plus / x2plus).

    For ``scale`` 2 (or 1) the input is first space-to-depth folded by 2 (or 4), so the trunk always enlarges
    by 4 with two nearest-neighbour + conv steps.
    """

    def __init__(
        self, in_ch: int = 3, out_ch: int = 3, scale: int = 4, feat: int = 64, blocks: int = 23, grow: int = 32
    ) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBSR: scale must be 1, 2 or 4, got {scale}")
        self.scale = scale
        self.fold = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = nn.Conv2d(in_ch * self.fold * self.fold, feat, 3, 1, 1)
        self.body = nn.Sequential(*[_RRDB(feat, grow) for _ in range(blocks)])
        self.conv_body = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(feat, out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pixel_unshuffle(x, self.fold) if self.fold > 1 else x
        y = self.conv_first(y)
        y = y + self.conv_body(self.body(y))
        for conv in (self.conv_up1, self.conv_up2):
            y = F.leaky_relu(conv(F.interpolate(y, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(y), 0.2))
