"""Recognise a colorization architecture from a state dict's keys and shapes."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..core.weights import WeightsError
from .options import ColorArch

__all__ = ["ddcolor_config", "detect_arch", "tiny_members", "tiny_widths"]

_DDCOLOR_STEM = "encoder.arch.downsample_layers.0.0.weight"
_DDCOLOR_QUERIES = "decoder.color_decoder.query_feat.weight"
_DDCOLOR_WIDTHS = {96: ColorArch.DDCOLOR_TINY, 192: ColorArch.DDCOLOR_LARGE}  # ConvNeXt-T / ConvNeXt-L stem


def detect_arch(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> ColorArch:
    """The architecture of ``sd``.

    * ``bin_centers`` + ``enc0.*``: vsrestore's compact net (:class:`~.models.tiny.TinyColorNet`), or the same
      keys under ``members.<i>.``: an ensemble of them (:class:`~.models.tiny.TinyColorEnsemble`, the shipped
      default);
    * ``layers.4.shuf.conv.0.weight_orig`` (a fastai/DeOldify U-Net) with Bottleneck ResNet keys
      (``layers.0.4.0.conv3.weight``): DeOldify's wide ResNet-101 generator (video, stable), otherwise the
      deep ResNet-34 one (artistic);
    * ``encoder.arch.downsample_layers.0.0.weight`` (a ConvNeXt stem) with ``decoder.color_decoder.query_feat
      .weight`` (colour queries): DDColor, ConvNeXt-T (stem width 96: ``ddcolor_paper_tiny``) or ConvNeXt-L
      (192: ``ddcolor_paper``, ``ddcolor_modelscope``, ``ddcolor_artistic``).

    :raises WeightsError: none of these, naming a few of the keys found.
    """
    if ("bin_centers" in sd and "enc0.0.0.weight" in sd) or (
        "members.0.bin_centers" in sd and "members.0.enc0.0.0.weight" in sd
    ):
        return ColorArch.DEFAULT
    if "layers.4.shuf.conv.0.weight_orig" in sd and "layers.0.0.weight" in sd:
        return ColorArch.DEOLDIFY_WIDE if "layers.0.4.0.conv3.weight" in sd else ColorArch.DEOLDIFY_DEEP
    if _DDCOLOR_STEM in sd and _DDCOLOR_QUERIES in sd:
        width = int(sd[_DDCOLOR_STEM].shape[0])
        if width not in _DDCOLOR_WIDTHS:
            raise WeightsError(
                f"{source}: a DDColor checkpoint with a ConvNeXt of stem width {width}; vsrestore knows the "
                f"published ConvNeXt-T (96: ddcolor_paper_tiny) and ConvNeXt-L (192: ddcolor_paper, "
                f"ddcolor_modelscope, ddcolor_artistic) ones"
            )
        return _DDCOLOR_WIDTHS[width]
    sample = ", ".join(list(sd)[:5])
    raise WeightsError(
        f"{source}: not a colorization model vsrestore knows (keys start {sample}); expected vsrestore's default "
        f"colorizer, a DeOldify generator (ColorizeVideo_gen.pth, ColorizeStable_gen.pth, ColorizeArtistic_gen.pth) "
        f"or a DDColor one (ddcolor_paper_tiny.pth, ddcolor_paper.pth, ddcolor_modelscope.pth, ddcolor_artistic.pth)"
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


def ddcolor_config(sd: Mapping[str, torch.Tensor]) -> tuple[int, int]:
    """(colour queries, transformer decoder layers) of a DDColor state dict (100 and 9 in every published one)."""
    layers = 0
    while f"decoder.color_decoder.transformer_ffn_layers.{layers}.linear1.weight" in sd:
        layers += 1
    return int(sd[_DDCOLOR_QUERIES].shape[0]), layers
