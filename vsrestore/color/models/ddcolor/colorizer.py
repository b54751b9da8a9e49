"""DDColor as a vsrestore colouriser: luma in, (Cb, Cr) out, the way DDColor's inference pipeline does it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..deoldify import rgb_to_cbcr
from .lab import gray_lightness, lab_to_rgb
from .net import DDColorNet

__all__ = ["DDColorColorizer"]


class DDColorColorizer(nn.Module):
    """Luma (N, 1, H, W) 0..1 at any size -> (Cb, Cr) (N, 2, H, W), -0.5..0.5, BT.709 matrix.

    As DDColor's ``ColorizationPipeline``: the picture is stretched to ``render_size`` x ``render_size``
    (bilinear; DDColor's ``input_size``, 512 by default), made a grey RGB picture (for a black-and-white
    picture, converting to Lab, zeroing a and b and converting back gives R = G = B = the grey value, so the
    luma is simply repeated), coloured (Lab ``ab``), the ``ab`` stretched back to (H, W) (bilinear, where the
    reference uses nearest), put under the L of the luma at (H, W), converted to sRGB and then to chroma.
    The Lab conversions run in float32 whatever the model's precision.
    """

    def __init__(self, net: DDColorNet, render_size: int) -> None:
        super().__init__()
        if render_size < 64 or render_size % 32:
            raise ValueError(f"DDColor render size {render_size} must be a multiple of 32 and at least 64")
        self.net = net
        self.render_size = render_size

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        s = self.render_size
        sq = F.interpolate(y, size=(s, s), mode="bilinear", align_corners=False).clamp(0, 1)
        ab = self.net(sq.expand(-1, 3, -1, -1)).float()
        ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
        rgb = lab_to_rgb(gray_lightness(y.float()), ab)
        return rgb_to_cbcr(rgb).to(y.dtype)
