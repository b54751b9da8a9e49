"""The RIFE 4.x layouts vsrestore runs, and telling them apart from a state dict.

Layouts were derived by reading the published model definitions (Practical-RIFE's ``IFNet_HDv3.py`` of
each release). Versions with identical parameters and forward share one :class:`RifeSpec`; a state dict
can only tell layouts apart, so the result names the layout and every version it covers.
4.0-4.4 (plain, non-residual blocks) are not supported.

Which versions have the ensemble pass, and each version's block scales, follow the per-version model
definitions as HolyWu's vs-rife ships them (``IFNet_HDv3_v4_*.py``: ``scale_list`` and the ensemble branch,
or "ensemble is not supported in v4.21 ... v4.26").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from .arch import EncoderKind, RifeSpec

__all__ = ["SCALES", "SPECS", "UnknownLayout", "describe_layout", "detect_spec", "filter_state_dict", "known_versions"]

_C4 = (192, 128, 96, 64)

SPECS: tuple[RifeSpec, ...] = (
    RifeSpec("4.5", ("4.5",), _C4, encoder=EncoderKind.NONE, enc_out=0, out_ch=5, mask_accumulates=True),
    RifeSpec("4.6", ("4.6",), _C4, encoder=EncoderKind.NONE, enc_out=0, out_ch=6, mask_accumulates=True),
    RifeSpec("4.7", ("4.7", "4.8", "4.9"), _C4, encoder=EncoderKind.PAIR, enc_width=16, enc_out=4),
    RifeSpec("4.10", ("4.10", "4.11", "4.12"), _C4, encoder=EncoderKind.DEEP),
    RifeSpec("4.13", ("4.13", "4.14", "4.15", "4.16", "4.17", "4.18", "4.19", "4.24"), _C4),
    RifeSpec("4.20", ("4.20",), (384, 192, 96, 48)),
    RifeSpec("4.21", ("4.21", "4.22", "4.23"), (256, 192, 96, 48), out_ch=13, block_feat=8, ensemble=False),
    RifeSpec("4.22-lite", ("4.22-lite",), (192, 128, 64, 32), enc_width=16, enc_out=4, out_ch=13, block_feat=8,
             ensemble=False),
    RifeSpec("4.25", ("4.25", "4.26"), (192, 128, 96, 64, 32), scales=(16.0, 8.0, 4.0, 2.0, 1.0), enc_width=16,
             enc_out=4, out_ch=13, block_feat=8, multiple=64, ensemble=False),
    RifeSpec("4.25-lite", ("4.25-lite",), (192, 128, 96, 64, 24), scales=(32.0, 16.0, 8.0, 4.0, 1.0),
             enc_width=16, enc_out=4, out_ch=13, block_feat=8, multiple=128, ensemble=False),
)

#: The flow resolutions the reference accepts (Practical-RIFE ``inference_video.py``:
#: ``assert args.scale in [0.25, 0.5, 1.0, 2.0, 4.0]``); each divides every block scale of :data:`SPECS`.
SCALES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)


def known_versions() -> str:
    """The supported versions in words, those sharing one layout together (for messages)."""
    return "; ".join(", ".join(s.versions) for s in SPECS)

_KEEP = re.compile(r"^(block\d+|encode)\.")


class UnknownLayout(ValueError):
    """The state dict is not one of the supported RIFE 4.x IFNet layouts."""


def filter_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Only the IFNet inference parameters (training-only teacher/context/unet parts are dropped)."""
    return {k: v for k, v in sd.items() if _KEEP.match(k) and not k.startswith("block_tea")}


def describe_layout(sd: Mapping[str, torch.Tensor]) -> str:
    """The layout in words (for messages)."""
    found = _found(sd)
    enc = "no encoder" if found.encoder == EncoderKind.NONE else (
        f"{found.encoder.value} encoder {found.enc_width} -> {found.enc_out} channels")
    return (f"{len(found.widths)} blocks of widths {list(found.widths)}, {enc}, "
            f"block output {found.out_ch} channels")


def _found(sd: Mapping[str, torch.Tensor]) -> RifeSpec:
    """What the state dict has, as a (possibly unknown) :class:`RifeSpec` named ``"found"``."""
    nb = 0
    while f"block{nb}.conv0.1.0.weight" in sd:
        nb += 1
    widths = tuple(int(sd[f"block{k}.conv0.1.0.weight"].shape[0]) for k in range(nb))
    last = sd.get("block0.lastconv.0.weight")
    out_ch = int(last.shape[1]) // 4 if last is not None and last.dim() == 4 else 0
    if "encode.cnn0.weight" in sd and "encode.cnn3.weight" in sd:
        kind, ew, eo = EncoderKind.HEAD, int(sd["encode.cnn0.weight"].shape[0]), int(sd["encode.cnn3.weight"].shape[1])
    elif "encode.6.weight" in sd:
        kind, ew, eo = EncoderKind.DEEP, int(sd["encode.0.weight"].shape[0]), int(sd["encode.6.weight"].shape[1])
    elif "encode.1.weight" in sd:
        kind, ew, eo = EncoderKind.PAIR, int(sd["encode.0.weight"].shape[0]), int(sd["encode.1.weight"].shape[1])
    else:
        kind, ew, eo = EncoderKind.NONE, 0, 0
    return RifeSpec("found", (), widths, encoder=kind, enc_width=ew, enc_out=eo, out_ch=out_ch)


def _differences(found: RifeSpec, spec: RifeSpec) -> list[tuple[int, str]]:
    """How ``found`` differs from ``spec``: (weight, words naming what the file has and what the version has);
    the weights (differing blocks, encoder parts) rank the known versions by closeness."""
    diffs: list[tuple[int, str]] = []
    differing = sum(a != b for a, b in zip(found.widths, spec.widths, strict=False))
    if len(found.widths) != len(spec.widths):
        diffs.append((abs(len(found.widths) - len(spec.widths)) + differing,
                      f"block count {len(found.widths)} (RIFE {spec.name} has {len(spec.widths)})"))
    elif differing:
        diffs.append((differing, f"block widths {list(found.widths)} (RIFE {spec.name} has {list(spec.widths)})"))
    if found.encoder != spec.encoder:
        diffs.append((2, f"encoder {found.encoder.value} (RIFE {spec.name} has {spec.encoder.value})"))
    elif found.encoder != EncoderKind.NONE:
        if found.enc_width != spec.enc_width:
            diffs.append((1, f"encoder width {found.enc_width} (RIFE {spec.name} has {spec.enc_width})"))
        if found.enc_out != spec.enc_out:
            diffs.append((1, f"encoder output {found.enc_out} channels (RIFE {spec.name} has {spec.enc_out})"))
    if found.out_ch != spec.out_ch:
        diffs.append((1, f"block output {found.out_ch} channels (RIFE {spec.name} has {spec.out_ch})"))
    return diffs


def detect_spec(sd: Mapping[str, torch.Tensor]) -> RifeSpec:
    """The :class:`RifeSpec` whose parameters the (filtered) state dict has, by names and shapes.

    :raises UnknownLayout: not an IFNet 4.5+ state dict; the message names what differs from the closest
        known version (block count, block widths, encoder kind or width, block output channels) and lists
        the known versions.
    """
    if "block0.conv0.0.0.weight" not in sd:
        raise UnknownLayout("no 'block0.conv0.0.0.weight': this is not a RIFE IFNet (flownet.pkl) state dict")
    if "block0.lastconv.0.weight" not in sd:
        raise UnknownLayout(
            "RIFE 4.0-4.4 layout (plain blocks, no residual convolutions) is not supported; use RIFE 4.5 or newer"
        )
    found = _found(sd)
    # closest: the fewest blocks more or less (the forward differs with them), then the fewest other differences
    ranked = sorted(
        ((abs(len(found.widths) - len(s.widths)), sum(w for w, _ in _differences(found, s)), k)
         for k, s in enumerate(SPECS))
    )
    best = SPECS[ranked[0][2]]
    if ranked[0][:2] == (0, 0):
        return best
    words = "; ".join(d for _, d in _differences(found, best))
    raise UnknownLayout(
        f"unsupported RIFE layout ({describe_layout(sd)}): closest is RIFE {best.name}, but this file has "
        f"{words}. Known versions (grouped by layout): {known_versions()}"
    )
