"""Recognise a colorization architecture from a state dict's keys and shapes."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..core.weights import WeightsError
from .options import ColorArch

__all__ = ["detect_arch", "tiny_widths"]


def detect_arch(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> ColorArch:
    """The architecture of ``sd``.

    * ``bin_centers`` + ``enc0.*``: vsrestore's embedded default (:class:`~.models.tiny.TinyColorNet`);
    * ``layers.4.shuf.conv.0.weight_orig`` (a fastai/DeOldify U-Net) with Bottleneck ResNet keys
      (``layers.0.4.0.conv3.weight``): DeOldify's wide ResNet-101 generator (video, stable), otherwise the
      deep ResNet-34 one (artistic).

    :raises WeightsError: none of these, naming a few of the keys found.
    """
    if "bin_centers" in sd and "enc0.0.0.weight" in sd:
        return ColorArch.DEFAULT
    if "layers.4.shuf.conv.0.weight_orig" in sd and "layers.0.0.weight" in sd:
        return ColorArch.DEOLDIFY_WIDE if "layers.0.4.0.conv3.weight" in sd else ColorArch.DEOLDIFY_DEEP
    sample = ", ".join(list(sd)[:5])
    raise WeightsError(
        f"{source}: not a colorization model vsrestore knows (keys start {sample}); expected vsrestore's default "
        f"colorizer or a DeOldify generator (ColorizeVideo_gen.pth, ColorizeStable_gen.pth, ColorizeArtistic_gen.pth)"
    )


def tiny_widths(sd: Mapping[str, torch.Tensor]) -> tuple[int, int, int, int]:
    """Channel widths of a TinyColorNet state dict."""
    return (
        int(sd["enc0.0.0.weight"].shape[0]),
        int(sd["enc1.0.0.weight"].shape[0]),
        int(sd["enc2.0.0.weight"].shape[0]),
        int(sd["enc3.0.0.weight"].shape[0]),
    )
