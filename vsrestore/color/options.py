"""Typed options of :func:`vsrestore.colorize`."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ColorArch", "ColorOut"]


class ColorOut(StrEnum):
    """Output format of :func:`vsrestore.colorize`.

    ``YUV420`` / ``YUV444``: the input's luma plane untouched (same bit depth) with the predicted chroma;
    ``RGB``: the same picture converted to RGB at the input's bit depth (float input gives RGBS).
    """

    YUV420 = "yuv420"
    YUV444 = "yuv444"
    RGB = "rgb"


class ColorArch(StrEnum):
    """Colorization architectures recognised from a state dict (see :mod:`vsrestore.color.detect`)."""

    DEFAULT = "vsrestore-tiny"
    DEOLDIFY_DEEP = "deoldify-deep"  # ResNet-101 encoder: ColorizeVideo_gen.pth, ColorizeStable_gen.pth
    DEOLDIFY_WIDE = "deoldify-wide"  # ResNet-34 encoder, wide decoder: ColorizeArtistic_gen.pth
