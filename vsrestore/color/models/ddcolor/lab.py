"""CIE Lab <-> sRGB in torch, with OpenCV's float conventions (what DDColor was trained with).

RGB is gamma-encoded sRGB in 0..1; L is 0..100; a and b are unbounded (about -128..127 for real colours);
the white point is D65 (Xn 0.950456, Zn 1.088754, as ``cv2.cvtColor(..., COLOR_RGB2Lab)`` uses for floats).
"""

from __future__ import annotations

import torch

__all__ = ["gray_lightness", "lab_to_rgb"]

_XN, _ZN = 0.950456, 1.088754
_DELTA = 6.0 / 29.0
# linear sRGB from XYZ (D65), rows R, G, B
_XYZ_TO_RGB = (
    (3.240479, -1.53715, -0.498535),
    (-0.969256, 1.875991, 0.041556),
    (0.055648, -0.204043, 1.057311),
)


def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    return torch.where(c > 0.04045, ((c.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4, c / 12.92)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    return torch.where(c > 0.0031308, 1.055 * c.clamp_min(0.0031308) ** (1.0 / 2.4) - 0.055, 12.92 * c)


def gray_lightness(y: torch.Tensor) -> torch.Tensor:
    """Lab L (0..100) of grey pixels R = G = B = ``y`` (0..1, gamma-encoded), any shape.

    For grey, XYZ's Y is the linear value itself (the RGB->Y row sums to 1).
    """
    lin = _srgb_to_linear(y.clamp(0, 1))
    f = torch.where(lin > _DELTA**3, lin.clamp_min(_DELTA**3) ** (1.0 / 3.0), lin / (3 * _DELTA**2) + 4.0 / 29.0)
    return 116.0 * f - 16.0


def lab_to_rgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) L and (N, 2, H, W) ab -> (N, 3, H, W) sRGB clipped to 0..1."""

    def finv(t: torch.Tensor) -> torch.Tensor:
        return torch.where(t > _DELTA, t**3, 3 * _DELTA**2 * (t - 4.0 / 29.0))

    fy = (lightness + 16.0) / 116.0
    fx = fy + ab[:, 0:1] / 500.0
    fz = fy - ab[:, 1:2] / 200.0
    x, y, z = _XN * finv(fx), finv(fy), _ZN * finv(fz)
    rgb = [r0 * x + r1 * y + r2 * z for r0, r1, r2 in _XYZ_TO_RGB]
    return _linear_to_srgb(torch.cat(rgb, 1).clamp(0, 1)).clamp(0, 1)
