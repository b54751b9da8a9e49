"""The RIFE 4.x layouts vsrestore runs, and telling them apart from a state dict.

Layouts were derived by reading the published model definitions (Practical-RIFE's ``IFNet_HDv3.py`` of
each release). Versions with identical parameters and forward share one :class:`RifeSpec`; a state dict
can only tell layouts apart, so the result names the layout and every version it covers.
4.0-4.4 (plain, non-residual blocks) are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from .arch import EncoderKind, RifeSpec

__all__ = ["SPECS", "UnknownLayout", "describe_layout", "detect_spec", "filter_state_dict"]

_C4 = (192, 128, 96, 64)

SPECS: tuple[RifeSpec, ...] = (
    RifeSpec("4.5", ("4.5",), _C4, encoder=EncoderKind.NONE, enc_out=0, out_ch=5, mask_accumulates=True),
    RifeSpec("4.6", ("4.6",), _C4, encoder=EncoderKind.NONE, enc_out=0, out_ch=6, mask_accumulates=True),
    RifeSpec("4.7", ("4.7", "4.8", "4.9"), _C4, encoder=EncoderKind.PAIR, enc_width=16, enc_out=4),
    RifeSpec("4.10", ("4.10", "4.11", "4.12"), _C4, encoder=EncoderKind.DEEP),
    RifeSpec("4.13", ("4.13", "4.14", "4.15", "4.16", "4.17", "4.18", "4.19", "4.24"), _C4),
    RifeSpec("4.20", ("4.20",), (384, 192, 96, 48)),
    RifeSpec("4.21", ("4.21", "4.22", "4.23"), (256, 192, 96, 48), out_ch=13, block_feat=8),
    RifeSpec("4.22-lite", ("4.22-lite",), (192, 128, 64, 32), enc_width=16, enc_out=4, out_ch=13, block_feat=8),
    RifeSpec("4.25", ("4.25", "4.26"), (192, 128, 96, 64, 32), scales=(16.0, 8.0, 4.0, 2.0, 1.0), enc_width=16,
             enc_out=4, out_ch=13, block_feat=8, multiple=64),
    RifeSpec("4.25-lite", ("4.25-lite",), (192, 128, 96, 64, 24), scales=(32.0, 16.0, 8.0, 4.0, 1.0),
             enc_width=16, enc_out=4, out_ch=13, block_feat=8, multiple=128),
)

_KEEP = re.compile(r"^(block\d+|encode)\.")


class UnknownLayout(ValueError):
    """The state dict is not one of the supported RIFE 4.x IFNet layouts."""


def filter_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Only the IFNet inference parameters (training-only teacher/context/unet parts are dropped)."""
    return {k: v for k, v in sd.items() if _KEEP.match(k) and not k.startswith("block_tea")}


def describe_layout(sd: Mapping[str, torch.Tensor]) -> str:
    """The layout in words (for messages)."""
    nb = len({k.split(".")[0] for k in sd if re.match(r"^block\d+\.", k)})
    widths = [tuple(sd[f"block{k}.conv0.1.0.weight"].shape)[0] for k in range(nb) if f"block{k}.conv0.1.0.weight" in sd]
    enc = sorted({k.split(".")[1] for k in sd if k.startswith("encode.")})
    return f"{nb} blocks of widths {widths}, encoder parameters {enc or 'none'}"


def detect_spec(sd: Mapping[str, torch.Tensor]) -> RifeSpec:
    """The :class:`RifeSpec` whose parameters the (filtered) state dict has, by names and shapes.

    :raises UnknownLayout: not an IFNet 4.5+ state dict; the message says what was found.
    """
    if "block0.conv0.0.0.weight" not in sd:
        raise UnknownLayout("no 'block0.conv0.0.0.weight': this is not a RIFE IFNet (flownet.pkl) state dict")
    if "block0.lastconv.0.weight" not in sd:
        raise UnknownLayout(
            "RIFE 4.0-4.4 layout (plain blocks, no residual convolutions) is not supported; use RIFE 4.5 or newer"
        )
    nb = 0
    while f"block{nb}.conv0.1.0.weight" in sd:
        nb += 1
    widths = tuple(int(sd[f"block{k}.conv0.1.0.weight"].shape[0]) for k in range(nb))
    out_ch = int(sd["block0.lastconv.0.weight"].shape[1]) // 4
    if "encode.cnn0.weight" in sd:
        kind, ew, eo = EncoderKind.HEAD, int(sd["encode.cnn0.weight"].shape[0]), int(sd["encode.cnn3.weight"].shape[1])
    elif "encode.6.weight" in sd:
        kind, ew, eo = EncoderKind.DEEP, int(sd["encode.0.weight"].shape[0]), int(sd["encode.6.weight"].shape[1])
    elif "encode.1.weight" in sd:
        kind, ew, eo = EncoderKind.PAIR, int(sd["encode.0.weight"].shape[0]), int(sd["encode.1.weight"].shape[1])
    else:
        kind, ew, eo = EncoderKind.NONE, 32, 0
    for spec in SPECS:
        same_enc = spec.encoder == kind and (kind == EncoderKind.NONE or (spec.enc_width, spec.enc_out) == (ew, eo))
        if spec.widths == widths and spec.out_ch == out_ch and same_enc:
            return spec
    raise UnknownLayout(f"unsupported RIFE layout: {describe_layout(sd)}, block output {out_ch} channels")
