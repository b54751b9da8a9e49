"""vsrestore.enhance: the film clean-up steps, each a VapourSynth node function.

normalize (levels), deflicker, despot (dust), denoise (MC temporal), sharpen (halo-free), upscale (torch SR or
nnedi3) and regrain, plus :func:`enhance`, the default chain.
"""

from typing import TYPE_CHECKING, Any

from .chain import enhance
from .deflicker import deflicker
from .denoise import denoise
from .despot import despot
from .normalize import normalize
from .regrain import regrain
from .sharpen import sharpen
from .upscale import UpscaleMethod, upscale

if TYPE_CHECKING:
    from .upscale.loaders import load_sr_model

_LAZY = {"load_sr_model": ".upscale.loaders"}

__all__ = [
    "UpscaleMethod",
    "deflicker",
    "denoise",
    "despot",
    "enhance",
    "load_sr_model",
    "normalize",
    "regrain",
    "sharpen",
    "upscale",
]


def __getattr__(name: str) -> Any:
    """``load_sr_model`` on first use: its module imports torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
