"""DeOldify's generators in plain PyTorch (no fastai), with the published checkpoints' exact state-dict layout.

The layout was derived by reading DeOldify's ``deoldify/unet.py``, ``deoldify/layers.py``,
``deoldify/generators.py``, ``deoldify/filters.py`` and the fastai v1 code it vendors (``fastai/layers.py``,
``fastai/vision/learner.py``); no code is copied. Summary:

* The model is fastai's ``SequentialEx`` whose children live in ``layers.<i>``:
  0 the ResNet body (torchvision ResNet children up to ``layer4``: ``0`` conv1, ``1`` bn1, ``4``-``7``
  layer1-4), 1 BatchNorm, 2 ReLU, 3 middle convs (c -> 2c -> c), 4-7 four U-Net blocks (deepest first, the
  second one with self-attention), 8 a weight-normed pixel-shuffle upsampler, 9 a dense merge with the input
  image, 10 a residual block, 11 the final 1x1 conv to RGB, 12 a sigmoid to (-3, 3).
* Every conv in the decoder is spectral-normed (keys ``weight_orig``, ``weight_u``, ``weight_v``) and, because
  DeOldify passes ``extra_bn=True``, has no bias but a BatchNorm after its ReLU; the res block and final conv
  use fastai's plain ``conv_layer`` (spectral norm, with bias, no BatchNorm). The upsampler at ``layers.8`` is
  fastai's ``PixelShuffle_ICNR`` with weight norm (``weight_g``, ``weight_v``, ``bias``). Every pixel shuffle is
  followed by a replication pad and 2x2 average pool (fastai's ``if self.blur`` is always true).
* "Wide" (``ColorizeVideo_gen``, ``ColorizeStable_gen``): ResNet-101 body, ``nf_factor=2`` (block outputs
  512, 512, 512, 256). "Deep" (``ColorizeArtistic_gen``): ResNet-34 body, ``nf_factor=1.5`` (two convs per
  block, widths 768, 768, 672, 300).
* Inference (``ColorizerFilter``): the grey picture as RGB is stretched to a square of ``render_factor * 16``
  pixels (bilinear), divided by 255 and normalised with ImageNet mean/std; the output is de-normalised with the
  same statistics, stretched back, and only its chroma is kept (the luma stays the original's).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DeOldifyColorizer", "DeOldifyKind", "build_deoldify_unet", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DeOldifyKind(StrEnum):
    """The two generator families DeOldify publishes."""

    WIDE = "wide"  # ResNet-101, nf_factor 2: ColorizeVideo_gen.pth, ColorizeStable_gen.pth
    DEEP = "deep"  # ResNet-34, nf_factor 1.5: ColorizeArtistic_gen.pth


# ------------------------------------------------------------------------------------------ normed convs
class SpectralConv(nn.Module):
    """A conv whose weight is ``weight_orig / sigma``, sigma from the stored power-iteration vectors (eval)."""

    weight_u: torch.Tensor
    weight_v: torch.Tensor

    def __init__(self, cin: int, cout: int, ks: int, bias: bool, dims: int = 2) -> None:
        super().__init__()
        shape = (cout, cin, ks, ks) if dims == 2 else (cout, cin, ks)
        self.dims, self.padding = dims, (ks - 1) // 2
        self.weight_orig = nn.Parameter(torch.empty(shape))
        nn.init.kaiming_normal_(self.weight_orig)
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        fan = cin * ks**dims
        self.register_buffer("weight_u", F.normalize(torch.randn(cout), dim=0))
        self.register_buffer("weight_v", F.normalize(torch.randn(fan), dim=0))

    def weight(self) -> torch.Tensor:
        w = self.weight_orig
        sigma = torch.dot(self.weight_u, torch.mv(w.reshape(w.shape[0], -1), self.weight_v))
        return w / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 1:
            return F.conv1d(x, self.weight(), self.bias, padding=self.padding)
        return F.conv2d(x, self.weight(), self.bias, padding=self.padding)


class WeightNormConv(nn.Module):
    """A conv whose weight is ``weight_g * weight_v / ||weight_v||`` (norm over all but the output axis)."""

    def __init__(self, cin: int, cout: int, ks: int) -> None:
        super().__init__()
        self.padding = (ks - 1) // 2
        self.weight_g = nn.Parameter(torch.ones(cout, 1, 1, 1))
        self.weight_v = nn.Parameter(torch.empty(cout, cin, ks, ks))
        nn.init.kaiming_normal_(self.weight_v)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.weight_v
        w = self.weight_g * v / v.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None, None]
        return F.conv2d(x, w, self.bias, padding=self.padding)


class SelfAttention(nn.Module):
    """fastai's self-attention (SAGAN) with spectral-normed 1x1 Conv1d query/key/value and a gate ``gamma``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.query = SpectralConv(c, c // 8, 1, bias=False, dims=1)
        self.key = SpectralConv(c, c // 8, 1, bias=False, dims=1)
        self.value = SpectralConv(c, c, 1, bias=False, dims=1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape
        x = x.flatten(2)
        f, g, h = self.query(x), self.key(x), self.value(x)
        beta = torch.softmax(torch.bmm(f.permute(0, 2, 1), g), dim=1)
        return (self.gamma * torch.bmm(h, beta) + x).view(size)


def sn_conv_bn(cin: int, cout: int, ks: int = 3, relu: bool = True, attention: bool = False) -> nn.Sequential:
    """DeOldify's ``custom_conv_layer`` with spectral norm and ``extra_bn``: conv (no bias), [ReLU], BN, [SA]."""
    layers: list[nn.Module] = [SpectralConv(cin, cout, ks, bias=False)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    layers.append(nn.BatchNorm2d(cout))
    if attention:
        layers.append(SelfAttention(cout))
    return nn.Sequential(*layers)


def sn_conv(cin: int, cout: int, ks: int = 3, relu: bool = True) -> nn.Sequential:
    """fastai's ``conv_layer`` with spectral norm: conv (with bias), [ReLU]."""
    layers: list[nn.Module] = [SpectralConv(cin, cout, ks, bias=True)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _shuffle_blur(x: torch.Tensor) -> torch.Tensor:
    x = F.pixel_shuffle(x, 2)
    return F.avg_pool2d(F.pad(x, (1, 0, 1, 0), mode="replicate"), 2, stride=1)


class ShuffleUp(nn.Module):
    """DeOldify's ``CustomPixelShuffle_ICNR``: 1x1 conv to 4*nf (+BN), ReLU, pixel shuffle x2, blur."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = sn_conv_bn(cin, cout * 4, ks=1, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _shuffle_blur(F.relu(self.conv(x)))


class WNShuffleUp(nn.Module):
    """fastai's ``PixelShuffle_ICNR`` with weight norm: 1x1 conv (bias), ReLU, pixel shuffle x2, blur."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(WeightNormConv(c, c * 4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _shuffle_blur(F.relu(self.conv(x)))


class BlockWide(nn.Module):
    """``UnetBlockWide``: upsample to n_out/2, BN on the skip, ReLU(concat), one conv to n_out/2."""

    def __init__(self, up_c: int, skip_c: int, n_out: int, attention: bool) -> None:
        super().__init__()
        half = n_out // 2
        self.shuf = ShuffleUp(up_c, half)
        self.bn = nn.BatchNorm2d(skip_c)
        self.conv = sn_conv_bn(half + skip_c, half, attention=attention)
        self.out_channels = half

    def forward(self, up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        u = self.shuf(up)
        if u.shape[-2:] != skip.shape[-2:]:
            u = F.interpolate(u, skip.shape[-2:], mode="nearest")
        return self.conv(F.relu(torch.cat([u, self.bn(skip)], 1)))


class BlockDeep(nn.Module):
    """``UnetBlockDeep``: upsample to up_c/2, BN on the skip, ReLU(concat), two convs of nf channels."""

    def __init__(self, up_c: int, skip_c: int, final_div: bool, nf_factor: float, attention: bool) -> None:
        super().__init__()
        self.shuf = ShuffleUp(up_c, up_c // 2)
        self.bn = nn.BatchNorm2d(skip_c)
        ni = up_c // 2 + skip_c
        nf = int((ni if final_div else ni // 2) * nf_factor)
        self.conv1 = sn_conv_bn(ni, nf)
        self.conv2 = sn_conv_bn(nf, nf, attention=attention)
        self.out_channels = nf

    def forward(self, up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        u = self.shuf(up)
        if u.shape[-2:] != skip.shape[-2:]:
            u = F.interpolate(u, skip.shape[-2:], mode="nearest")
        return self.conv2(self.conv1(F.relu(torch.cat([u, self.bn(skip)], 1))))


# ------------------------------------------------------------------------------------------ ResNet body
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, c: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))
            if stride != 1 or cin != c
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, c: int, stride: int = 1) -> None:
        super().__init__()
        out = c * 4
        self.conv1 = nn.Conv2d(cin, c, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
            if stride != 1 or cin != out
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + idt)


def resnet_body(depth: int) -> nn.Sequential:
    """torchvision's ResNet-34/101 children up to layer4 (keys ``0``, ``1``, ``4.0.conv1`` ...)."""
    block: type[BasicBlock] | type[Bottleneck] = BasicBlock if depth == 34 else Bottleneck
    counts = (3, 4, 6, 3) if depth == 34 else (3, 4, 23, 3)
    mods: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for i, (c, n) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        blocks: list[nn.Module] = []
        for j in range(n):
            blocks.append(block(cin, c, 2 if (j == 0 and i > 0) else 1))
            cin = c * block.expansion
        mods.append(nn.Sequential(*blocks))
    return nn.Sequential(*mods)


# ------------------------------------------------------------------------------------------ the U-Net
class DeOldifyUnet(nn.Module):
    """The generator; ``state_dict()`` matches the published ``*_gen.pth`` files. Input: ImageNet-normalised
    RGB (N, 3, H, W) with H, W multiples of 32; output: normalised RGB in (-3, 3)."""

    def __init__(self, kind: DeOldifyKind) -> None:
        super().__init__()
        wide = kind == DeOldifyKind.WIDE
        body = resnet_body(101 if wide else 34)
        exp = 4 if wide else 1
        skips = (256 * exp, 128 * exp, 64 * exp, 64)  # layer3, layer2, layer1, relu: deepest first
        ni = 512 * exp
        middle = nn.Sequential(sn_conv_bn(ni, ni * 2), sn_conv_bn(ni * 2, ni))
        mods: list[nn.Module] = [body, nn.BatchNorm2d(ni), nn.ReLU(), middle]
        c = ni
        for i, skip_c in enumerate(skips):
            final = i == len(skips) - 1
            blk: BlockWide | BlockDeep
            if wide:
                nf = 512 * 2
                blk = BlockWide(c, skip_c, nf // 2 if final else nf, attention=i == 1)
            else:
                blk = BlockDeep(c, skip_c, final_div=not final, nf_factor=1.5, attention=i == 1)
            mods.append(blk)
            c = blk.out_channels
        mods.append(WNShuffleUp(c))
        mods.append(nn.Identity())  # MergeLayer(dense=True): no weights
        c += 3
        mods.append(ResBlock(c))
        mods.append(sn_conv(c, 3, ks=1, relu=False))
        self.layers = nn.ModuleList(mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        body = cast(nn.Sequential, self.layers[0])
        feats = []
        h = x
        for idx, m in enumerate(body):
            h = m(h)
            if idx in (2, 4, 5, 6):
                feats.append(h)
        h = self.layers[3](F.relu(self.layers[1](h)))
        for blk, skip in zip(list(self.layers[4:8]), reversed(feats), strict=True):
            h = blk(h, skip)
        h = self.layers[8](h)
        if h.shape[-2:] != x.shape[-2:]:
            h = F.interpolate(h, x.shape[-2:], mode="nearest")
        h = torch.cat([h, x], 1)
        h = self.layers[10](h)
        h = self.layers[11](h)
        return torch.sigmoid(h) * 6.0 - 3.0


class ResBlock(nn.Module):
    """fastai's ``res_block(nf, norm_type=Spectral)``: x + conv(conv(x)), in ``layers.0`` / ``layers.1``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([sn_conv(c, c), sn_conv(c, c)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers[1](self.layers[0](x))


def build_deoldify_unet(kind: DeOldifyKind) -> DeOldifyUnet:
    """The bare generator (load a published state dict into it with ``strict=True``)."""
    return DeOldifyUnet(kind)


class DeOldifyColorizer(nn.Module):
    """Luma in, chroma out, the way DeOldify's ``ColorizerFilter`` does it.

    Input: luma (N, 1, H, W) 0..1 at any size. It is stretched to ``render_size`` x ``render_size`` (bilinear;
    DeOldify's render size is ``render_factor * 16``), repeated to RGB, ImageNet-normalised, coloured,
    de-normalised, clipped to 0..1 and stretched back to (H, W). Output: (Cb, Cr) (N, 2, H, W), -0.5..0.5,
    BT.709 matrix, of that RGB picture.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, unet: DeOldifyUnet, render_size: int) -> None:
        super().__init__()
        if render_size < 32 or render_size % 16:
            raise ValueError(f"DeOldify render size {render_size} must be a multiple of 16 and at least 32")
        self.unet = unet
        self.render_size = render_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        s = self.render_size
        sq = F.interpolate(y, size=(s, s), mode="bilinear", align_corners=False).clamp(0, 1)
        x = (sq.expand(-1, 3, -1, -1) - self.mean) / self.std
        rgb = (self.unet(x) * self.std + self.mean).clamp(0, 1)
        rgb = F.interpolate(rgb, size=(h, w), mode="bilinear", align_corners=False)
        return rgb_to_cbcr(rgb)


def rgb_to_cbcr(rgb: torch.Tensor, coef: Sequence[float] = (0.2126, 0.7152, 0.0722)) -> torch.Tensor:
    """(N, 3, H, W) RGB 0..1 -> (N, 2, H, W) (Cb, Cr) in -0.5..0.5 for the matrix with luma weights ``coef``."""
    kr, kg, kb = coef
    y = kr * rgb[:, 0:1] + kg * rgb[:, 1:2] + kb * rgb[:, 2:3]
    cb = (rgb[:, 2:3] - y) / (2 * (1 - kb))
    cr = (rgb[:, 0:1] - y) / (2 * (1 - kr))
    return torch.cat([cb, cr], 1)
