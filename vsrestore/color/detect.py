"""Recognise a colorization architecture from a state dict's keys and shapes."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..core.weights import WeightsError
from .options import ColorArch

__all__ = ["detect_arch", "tiny_members", "tiny_widths"]


def detect_arch(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> ColorArch:
    """The architecture of ``sd``.

    * ``bin_centers`` + ``enc0.*``: vsrestore's compact net (:class:`~.models.tiny.TinyColorNet`), or the same
      keys under ``members.<i>.``: an ensemble of them (:class:`~.models.tiny.TinyColorEnsemble`, the shipped
      default);
    * ``layers.4.shuf.conv.0.weight_orig`` (a fastai/DeOldify U-Net) with Bottleneck ResNet keys
      (``layers.0.4.0.conv3.weight``): DeOldify's wide ResNet-101 generator (video, stable), otherwise the
      deep ResNet-34 one (artistic).

    :raises WeightsError: none of these, naming a few of the keys found.
    """
    if ("bin_centers" in sd and "enc0.0.0.weight" in sd) or (
        "members.0.bin_centers" in sd and "members.0.enc0.0.0.weight" in sd
    ):
        return ColorArch.DEFAULT
    if "layers.4.shuf.conv.0.weight_orig" in sd and "layers.0.0.weight" in sd:
        return ColorArch.DEOLDIFY_WIDE if "layers.0.4.0.conv3.weight" in sd else ColorArch.DEOLDIFY_DEEP
    sample = ", ".join(list(sd)[:5])
    raise WeightsError(
        f"{source}: not a colorization model vsrestore knows (keys start {sample}); expected vsrestore's default "
        f"colorizer or a DeOldify generator (ColorizeVideo_gen.pth, ColorizeStable_gen.pth, ColorizeArtistic_gen.pth)"
    )


def tiny_widths(sd: Mapping[str, torch.Tensor], prefix: str = "") -> tuple[int, int, int, int]:
    """Channel widths of a TinyColorNet state dict (its keys under ``prefix``, e.g. ``members.0.``)."""
    return (
        int(sd[prefix + "enc0.0.0.weight"].shape[0]),
        int(sd[prefix + "enc1.0.0.weight"].shape[0]),
        int(sd[prefix + "enc2.0.0.weight"].shape[0]),
        int(sd[prefix + "enc3.0.0.weight"].shape[0]),
    )


def tiny_members(sd: Mapping[str, torch.Tensor]) -> int:
    """Number of members of a TinyColorEnsemble state dict (0: a single TinyColorNet)."""
    n = 0
    while f"members.{n}.bin_centers" in sd:
        n += 1
    return n
