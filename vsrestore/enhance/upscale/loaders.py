"""Recognise a super-resolution checkpoint from its state dict and build the matching module.

Known layouts (by their parameter names and shapes, never by file name):

* vsrestore's FilmSR: ``head.weight``, ``blocks.<i>.conv1.weight``, ``tail.weight``;
* ESRGAN / Real-ESRGAN RRDBNet (RealESRGAN_x4plus, x2plus, ...): ``conv_first.weight``,
  ``body.<i>.rdb1.conv1.weight``, ``conv_last.weight``; x2 and x1 models fold their input by pixel-unshuffle,
  which shows as 4x or 16x the image channels at ``conv_first``;
* Real-ESRGAN SRVGGNetCompact (realesr-general-x4v3, realesr-animevideov3, ...): ``body.<i>.weight`` only,
  convolutions at even indices, PReLU slopes (1-D) at odd ones; the last conv has ``out_ch * scale**2``
  outputs.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import torch
from torch import nn

from ...core.weights import ModelInfo, WeightsError, load_state_dict, resolve_weights
from . import DEFAULT_MODEL
from .archs import RRDBSR, CompactSR, FilmSR

__all__ = ["DEFAULT_MODEL", "SR_INFO", "LoadedSR", "build_from_state_dict", "load_sr_model"]

SR_INFO = ModelInfo(
    arch="super-resolution net (vsrestore FilmSR, Real-ESRGAN RRDBNet x4/x2, or SRVGGNetCompact)",
    filenames=(DEFAULT_MODEL, "RealESRGAN_x4plus.pth", "RealESRGAN_x2plus.pth", "realesr-general-x4v3.pth"),
    source="vsrestore ships FilmSR in vsrestore/models; Real-ESRGAN checkpoints are published at "
    "https://github.com/xinntao/Real-ESRGAN/releases",
)


@dataclass(frozen=True)
class LoadedSR:
    """A built model and what it expects: image channels in/out and the integer scale."""

    model: nn.Module
    arch: str
    channels: int
    scale: int


def _indices(sd: dict[str, torch.Tensor], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in sd if (m := rx.match(k))})


def build_from_state_dict(sd: dict[str, torch.Tensor], name: str = "state dict") -> LoadedSR:
    """Build the module whose parameter layout matches ``sd`` and load it (strict).

    :raises WeightsError: the layout is none of the known ones, or the tensors do not fit it.
    """
    try:
        if "head.weight" in sd and "tail.weight" in sd:
            feat, ch = sd["head.weight"].shape[:2]
            blocks = len(_indices(sd, r"blocks\.(\d+)\.conv1\.weight"))
            scale = math.isqrt(sd["tail.weight"].shape[0] // ch)
            model: nn.Module = FilmSR(channels=ch, feat=feat, blocks=blocks, scale=scale)
            arch = "FilmSR"
        elif "conv_first.weight" in sd and "body.0.rdb1.conv1.weight" in sd:
            feat, cin = sd["conv_first.weight"].shape[:2]
            out_ch = sd["conv_last.weight"].shape[0]
            grow = sd["body.0.rdb1.conv1.weight"].shape[0]
            blocks = len(_indices(sd, r"body\.(\d+)\.rdb1\.conv1\.weight"))
            fold2 = cin // out_ch
            scale = {1: 4, 4: 2, 16: 1}.get(fold2, 0)
            if not scale or cin % out_ch:
                raise WeightsError(f"{name}: RRDBNet with {cin} input and {out_ch} output channels is not x4/x2/x1")
            model = RRDBSR(in_ch=out_ch, out_ch=out_ch, scale=scale, feat=feat, blocks=blocks, grow=grow)
            ch = out_ch
            arch = f"RRDBNet x{scale}"
        elif "body.0.weight" in sd and sd["body.0.weight"].ndim == 4:
            convs = [i for i in _indices(sd, r"body\.(\d+)\.weight") if sd[f"body.{i}.weight"].ndim == 4]
            last = convs[-1]
            feat, ch = sd["body.0.weight"].shape[:2]
            num_conv = (last - 2) // 2
            scale = math.isqrt(sd[f"body.{last}.weight"].shape[0] // ch)
            act = "prelu" if "body.1.weight" in sd else "leakyrelu"
            model = CompactSR(in_ch=ch, out_ch=ch, feat=feat, num_conv=num_conv, scale=scale, act=act)
            arch = f"SRVGGNetCompact x{scale}"
        else:
            keys = ", ".join(list(sd)[:6])
            raise WeightsError(
                f"{name}: unknown super-resolution layout (first keys: {keys}); {SR_INFO.describe()}"
            )
        model.load_state_dict(sd, strict=True)
    except WeightsError:
        raise
    except (RuntimeError, KeyError, IndexError, ValueError, ZeroDivisionError) as e:
        raise WeightsError(f"{name}: tensors do not fit the recognised layout ({e}); {SR_INFO.describe()}") from e
    return LoadedSR(model.eval(), arch, int(ch), int(scale))


def load_sr_model(spec: str | os.PathLike[str] | None = None) -> LoadedSR:
    """Resolve ``spec`` (path, directory or bare name; None: vsrestore's shipped FilmSR) and build the model."""
    path = resolve_weights(spec, SR_INFO, default=DEFAULT_MODEL)
    return build_from_state_dict(load_state_dict(path, SR_INFO), str(path))
