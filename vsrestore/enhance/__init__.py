"""vsrestore.enhance: the film clean-up steps, each a VapourSynth node function.

normalize (levels), deflicker, despot (dust), denoise (MC temporal), sharpen (halo-free), upscale (torch SR or
nnedi3) and regrain, plus :func:`enhance`, the default chain.
"""

from .chain import enhance
from .deflicker import deflicker
from .denoise import denoise
from .despot import despot
from .normalize import normalize
from .regrain import regrain
from .sharpen import sharpen
from .upscale import UpscaleMethod, load_sr_model, upscale

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
