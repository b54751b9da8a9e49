"""Typed options of :func:`vsrestore.colorize`."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ColorArch", "ColorMerge", "ColorOut"]


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
    DEOLDIFY_DEEP = "deoldify-deep"  # ResNet-34 encoder, deep decoder: ColorizeArtistic_gen.pth
    DEOLDIFY_WIDE = "deoldify-wide"  # ResNet-101 encoder, wide decoder: ColorizeVideo_gen.pth, ColorizeStable_gen.pth
    DDCOLOR_TINY = "ddcolor-tiny"  # ConvNeXt-T encoder: ddcolor_paper_tiny.pth
    DDCOLOR_LARGE = "ddcolor-large"  # ConvNeXt-L: ddcolor_paper.pth, ddcolor_modelscope.pth, ddcolor_artistic.pth


class ColorMerge(StrEnum):
    """How :func:`vsrestore.colorize` combines the chroma of several models (``model=[a, b, ...]``).

    ``WEIGHTED``: the weighted mean of the models' (Cb, Cr), weights from ``weights=``.
    ``CONSTRAINED``: the first model anchors the others ("DDColor colours, DeOldify stabilises", as in HAVC's
    constrained-chroma merge): every other model's Cb and Cr are clamped to within ``merge_limit`` of the
    first model's, then all are averaged with ``weights=``. Give the steadier model first
    (``model=["ColorizeVideo_gen", "ddcolor_artistic"]``).
    """

    WEIGHTED = "weighted"
    CONSTRAINED = "constrained"
