"""Loading a RIFE 4.x ``flownet.pkl`` into :class:`~.arch.IFNet`, safely, with no network."""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch

from vsrestore.core.weights import ModelInfo, WeightsError, load_state_dict, resolve_weights

from .arch import IFNet, RifeSpec
from .versions import SPECS, UnknownLayout, detect_spec, filter_state_dict, known_versions

__all__ = ["RIFE_INFO", "load_rife"]

RIFE_INFO = ModelInfo(
    arch=f"RIFE 4.x IFNet ({', '.join(v for s in SPECS for v in s.versions)})",
    filenames=("flownet.pkl",),
    source="the Practical-RIFE project, https://github.com/hzwer/Practical-RIFE (model links in its README; "
    "unzip train_log/flownet.pkl)",
)


def load_rife(model: str | os.PathLike[str] | None) -> tuple[IFNet, RifeSpec]:
    """Build the IFNet a checkpoint needs and load it (on the CPU, fp32).

    :param model: path, directory holding ``flownet.pkl``, or a bare name looked up in
        ``$VSRESTORE_MODEL_DIR`` (None: ``flownet``).
    :raises WeightsError: file missing or unreadable, or not a supported RIFE 4.x layout.
    """
    path = resolve_weights(model, RIFE_INFO, default="flownet")
    sd = filter_state_dict(load_state_dict(path, RIFE_INFO))
    try:
        spec = detect_spec(sd)
    except UnknownLayout as e:
        raise WeightsError(f"{path}: {e}. Supported files come from {RIFE_INFO.source}") from e
    net = IFNet(spec)
    misfit = _misfit(net.state_dict(), sd, spec.name)
    if misfit:
        raise WeightsError(
            f"{path}: looks like RIFE {spec.name} ({', '.join(spec.versions)}) but {misfit}; it is a variant "
            f"vsrestore does not know. Known versions (grouped by layout): {known_versions()}. Supported files "
            f"come from {RIFE_INFO.source}"
        )
    net.load_state_dict(sd, strict=True)
    return net.eval(), spec


def _misfit(want: Mapping[str, torch.Tensor], have: Mapping[str, torch.Tensor], name: str) -> str:
    """The first way ``have`` does not fit ``want``, in words ('' when it fits)."""
    for k, v in want.items():
        if k not in have:
            return f"it has no tensor {k!r}"
        if tuple(have[k].shape) != tuple(v.shape):
            return f"its {k!r} has shape {tuple(have[k].shape)} where RIFE {name} has {tuple(v.shape)}"
    extra = sorted(set(have) - set(want))
    if extra:
        return f"it has tensors RIFE {name} does not have ({', '.join(repr(k) for k in extra[:3])})"
    return ""
