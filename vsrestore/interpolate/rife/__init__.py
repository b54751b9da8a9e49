"""RIFE 4.x (Practical-RIFE ``flownet.pkl``) as an interpolation engine: architecture, loader, node."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .arch import IFNet, RifeSpec
    from .loader import RIFE_INFO, load_rife
    from .settings import Padding, RifeSettings
    from .versions import SCALES, SPECS, detect_spec

# names whose modules import torch: imported on first use, so that building a graph needs no torch
_LAZY = {"IFNet": ".arch", "RifeSpec": ".arch", "RIFE_INFO": ".loader", "load_rife": ".loader",
         "SCALES": ".versions", "SPECS": ".versions", "detect_spec": ".versions", "Padding": ".settings",
         "RifeSettings": ".settings"}

__all__ = ["RIFE_INFO", "SCALES", "SPECS", "IFNet", "Padding", "RifeSettings", "RifeSpec", "detect_spec", "load_rife"]


def __getattr__(name: str) -> Any:
    """The architecture, loader and versions on first use: their modules import torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
