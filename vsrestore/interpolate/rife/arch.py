"""RIFE 4.x (IFNet) in plain PyTorch, one configurable module for the published 4.5-4.26 layouts.

The network estimates, coarse to fine, two flows (from the wanted instant to each input frame) and a fusion
mask. Each *block* works at ``1/scale`` resolution: its input is resized down, goes through two stride-2
convolutions, eight residual 3x3 convolutions and a stride-2 transposed convolution followed by a 2x pixel
shuffle, and its output is resized back up. Block 0 sees both frames (and, from 4.7 on, learnt features of
each), the timestep; later blocks see both frames warped by the current flow, the warped features, the
timestep, the mask (and, from 4.21 on, 8 channels passed on from the previous block) plus the current flow,
and add a flow correction. The result is ``warp(img0, f0) * m + warp(img1, f1) * (1 - m)``.
``scale`` (the reference's ``--scale``) divides every block's factor; ``ensemble`` (4.5-4.20, 4.24) also
runs each block on the swapped pair and averages the two estimates.

Parameter names follow the published state dicts (``block0.conv0.0.0.weight``, ``encode.cnn0.weight``,
...), so ``load_state_dict`` takes a ``flownet.pkl`` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["EncoderKind", "IFNet", "RifeSpec", "warp"]


class EncoderKind(StrEnum):
    """The per-frame feature encoder a version has (``encode.*`` parameters)."""

    NONE = "none"  #: 4.5, 4.6: no features
    PAIR = "pair"  #: 4.7-4.9: conv 3->w stride 2, transposed conv w->out
    DEEP = "deep"  #: 4.10-4.12: three convs with LeakyReLU, transposed conv (a Sequential)
    HEAD = "head"  #: 4.13+: the same as a named module (cnn0..cnn3), input clamped to 0..1


@dataclass(frozen=True)
class RifeSpec:
    """One published IFNet layout (and forward) of RIFE 4.x.

    :param name: the version that introduced it (``"4.22"``).
    :param versions: the published versions with exactly this layout and forward.
    :param widths: channels of each block, coarsest first.
    :param scales: each block's downscale factor.
    :param encoder: feature encoder kind; ``enc_width`` its hidden channels, ``enc_out`` its output channels.
    :param out_ch: channels a block emits after the pixel shuffle (4 flow + 1 mask + extras).
    :param block_feat: channels of those extras passed on to the next block (0 or 8).
    :param mask_accumulates: later blocks add to the mask (4.5, 4.6) instead of replacing it.
    :param multiple: input sides must be divisible by this at ``scale=1`` (4 times the coarsest block
        scale); see :meth:`multiple_at`.
    :param ensemble: the version's forward has the ensemble pass (each block also run on the swapped pair,
        the two estimates averaged); 4.21 and later (blocks passing extras on) do not.
    """

    name: str
    versions: tuple[str, ...]
    widths: tuple[int, ...]
    scales: tuple[float, ...] = (8.0, 4.0, 2.0, 1.0)
    encoder: EncoderKind = EncoderKind.HEAD
    enc_width: int = 32
    enc_out: int = 8
    out_ch: int = 6
    block_feat: int = 0
    mask_accumulates: bool = False
    multiple: int = 32
    ensemble: bool = True

    def block_scales(self, scale: float = 1.0) -> tuple[float, ...]:
        """Each block's downscale factor when the flow is estimated at ``scale`` times the frame's resolution
        (the reference's ``scale_list``: ``[8 / scale, 4 / scale, 2 / scale, 1 / scale]`` for 4.x)."""
        return tuple(s / scale for s in self.scales)

    def multiple_at(self, scale: float = 1.0) -> int:
        """Input sides must be divisible by this when the network runs at ``scale``."""
        return max(1, int(self.multiple / scale))


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2, True))


class _ResConv(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones((1, c, 1, 1)))
        self.relu = nn.LeakyReLU(0.2, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x) * self.beta + x)


class _Block(nn.Module):
    def __init__(self, cin: int, c: int, out_ch: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv(cin, c // 2, 2), _conv(c // 2, c, 2))
        self.convblock = nn.Sequential(*[_ResConv(c) for _ in range(8)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * out_ch, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            f = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
            x = torch.cat((x, f), 1)
        y = self.lastconv(self.convblock(self.conv0(x)))
        y = F.interpolate(y, scale_factor=scale, mode="bilinear", align_corners=False)
        return torch.cat((y[:, :4] * scale, y[:, 4:]), 1)


class _Head(nn.Module):
    def __init__(self, width: int, out: int) -> None:
        super().__init__()
        self.cnn0 = nn.Conv2d(3, width, 3, 2, 1)
        self.cnn1 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn2 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(width, out, 4, 2, 1)
        self.relu = nn.LeakyReLU(0.2, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.cnn0(x.clamp(0.0, 1.0)))
        x = self.relu(self.cnn1(x))
        x = self.relu(self.cnn2(x))
        return self.cnn3(x)


def _encoder(spec: RifeSpec) -> nn.Module | None:
    w, o = spec.enc_width, spec.enc_out
    if spec.encoder == EncoderKind.NONE:
        return None
    if spec.encoder == EncoderKind.PAIR:
        return nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), nn.ConvTranspose2d(w, o, 4, 2, 1))
    if spec.encoder == EncoderKind.DEEP:
        act = [nn.LeakyReLU(0.2, True) for _ in range(3)]
        return nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), act[0], nn.Conv2d(w, w, 3, 1, 1), act[1],
                             nn.Conv2d(w, w, 3, 1, 1), act[2], nn.ConvTranspose2d(w, o, 4, 2, 1))
    return _Head(w, o)


_grids: dict[tuple[int, int, str, torch.dtype], torch.Tensor] = {}


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: output pixel p takes ``img`` at ``p + flow(p)`` (flow in pixels, x then y), bilinear,
    border-clamped."""
    n, _, h, w = img.shape
    key = (h, w, str(img.device), img.dtype)
    base = _grids.get(key)
    if base is None:
        ys = torch.linspace(-1.0, 1.0, h, device=img.device, dtype=img.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=img.device, dtype=img.dtype)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        base = torch.stack((gx, gy), -1).unsqueeze(0)
        if len(_grids) < 16:
            _grids[key] = base
    # sampling runs in at least fp32 (fp16 grids are too coarse for large frames)
    work = torch.promote_types(img.dtype, torch.float32)
    div = torch.tensor([max(w - 1, 1) / 2.0, max(h - 1, 1) / 2.0], device=img.device, dtype=work)
    grid = base.to(work) + flow.to(work).permute(0, 2, 3, 1) / div
    out = F.grid_sample(img.to(work), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out.to(img.dtype)


class IFNet(nn.Module):
    """RIFE 4.x flow network for one :class:`RifeSpec`.

    ``forward(img0, img1, timestep, scale=1.0, ensemble=False)``: two (N, 3, H, W) RGB frames in 0..1 (H, W
    divisible by ``spec.multiple_at(scale)``) and a (N, 1, H, W) timestep plane in 0..1 -> the (N, 3, H, W)
    frame at that instant. ``scale`` is the reference's flow resolution (0.5: flow estimated at half
    resolution, for 4K or fast motion); ``ensemble`` runs every block also on the swapped pair (frames,
    features, ``1 - timestep``, ``-mask``, swapped flows) and averages the two, as the reference's
    ``ensemble=True`` does (only where ``spec.ensemble``).
    """

    def __init__(self, spec: RifeSpec) -> None:
        super().__init__()
        self.spec = spec
        feat = 2 * spec.enc_out if spec.encoder != EncoderKind.NONE else 0
        for k, c in enumerate(spec.widths):
            cin = 7 + feat if k == 0 else 8 + 4 + feat + spec.block_feat
            self.add_module(f"block{k}", _Block(cin, c, spec.out_ch))
        enc = _encoder(spec)
        if enc is not None:
            self.encode = enc

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor, scale: float = 1.0,
                ensemble: bool = False) -> torch.Tensor:
        spec = self.spec
        if ensemble and not spec.ensemble:
            raise ValueError(f"RIFE {spec.name} has no ensemble pass; use ensemble=False")
        img0, img1 = img0.clamp(0.0, 1.0), img1.clamp(0.0, 1.0)
        has_enc = spec.encoder != EncoderKind.NONE
        f0: torch.Tensor | None = self.encode(img0) if has_enc else None
        f1: torch.Tensor | None = self.encode(img1) if has_enc else None
        flow = mask = extra = None
        w0, w1 = img0, img1
        for k, s in enumerate(spec.block_scales(scale)):
            block = getattr(self, f"block{k}")
            if flow is None:
                out = block(_cat(img0, img1, f0, f1, timestep), None, s)
                if ensemble:
                    rev = block(_cat(img1, img0, f1, f0, 1 - timestep), None, s)
                    out = _average(out, rev)
                flow, mask = out[:, :4], out[:, 4:5]
            else:
                assert mask is not None
                wf0 = warp(f0, flow[:, :2]) if f0 is not None else None
                wf1 = warp(f1, flow[:, 2:4]) if f1 is not None else None
                more = [extra] if spec.block_feat and extra is not None else []
                out = block(_cat(w0, w1, wf0, wf1, timestep, mask, *more), flow, s)
                if ensemble:
                    rev = block(_cat(w1, w0, wf1, wf0, 1 - timestep, -mask), _swap(flow), s)
                    out = _average(out, rev)
                flow = flow + out[:, :4]
                mask = mask + out[:, 4:5] if spec.mask_accumulates else out[:, 4:5]
            extra = out[:, 5 : 5 + spec.block_feat] if spec.block_feat else None
            w0, w1 = warp(img0, flow[:, :2]), warp(img1, flow[:, 2:4])
        assert mask is not None
        m = torch.sigmoid(mask)
        return w0 * m + w1 * (1 - m)


def _cat(*parts: torch.Tensor | None) -> torch.Tensor:
    return torch.cat([p for p in parts if p is not None], 1)


def _swap(flow: torch.Tensor) -> torch.Tensor:
    """The two flows exchanged (what the swapped pair's flows are)."""
    return torch.cat((flow[:, 2:4], flow[:, :2]), 1)


def _average(out: torch.Tensor, rev: torch.Tensor) -> torch.Tensor:
    """A block's estimate averaged with the swapped pair's: flows exchanged back, mask negated."""
    return torch.cat(((out[:, :4] + _swap(rev[:, :4])) / 2, (out[:, 4:5] - rev[:, 4:5]) / 2), 1)
