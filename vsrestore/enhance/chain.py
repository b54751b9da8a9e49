"""The default enhancement chain: the steps a restorer runs between decimation and colour."""

from __future__ import annotations

import vapoursynth as vs

from ._common import LUMA_FAMILIES, check_input
from .deflicker import deflicker as _deflicker
from .denoise import denoise as _denoise
from .despot import despot as _despot
from .normalize import normalize as _normalize
from .regrain import regrain as _regrain
from .sharpen import sharpen as _sharpen
from .upscale import UpscaleMethod
from .upscale import upscale as _upscale

__all__ = ["enhance"]


def enhance(
    clip: vs.VideoNode,
    *,
    normalize: bool = True,
    deflicker: bool = True,
    despot: bool = True,
    denoise_strength: float = 1.0,
    sharpen_amount: float = 0.5,
    upscale: int = 1,
    upscale_method: UpscaleMethod | str = UpscaleMethod.MODEL,
    grain: float = 0.0,
) -> vs.VideoNode:
    """Normalise levels, remove flicker, dust and grain, restore sharpness; optionally enlarge and regrain.

    Order: normalize -> deflicker -> despot -> denoise (tr=2) -> contra-sharpen against the despotted clip
    -> upscale -> regrain. Each step uses its defaults; call the steps yourself to tune them.

    :param clip: GRAY or YUV, 8-16 bit integer or float; format and depth are kept.
    :param normalize, deflicker, despot: turn those steps on or off.
    :param denoise_strength: 0..4 (0 skips denoising and sharpening).
    :param sharpen_amount: 0..4 contra-sharpening after denoising (0 skips; default 0.5).
    :param upscale: integer enlargement (1: none).
    :param upscale_method: ``"model"`` (vsrestore's FilmSR), ``"nnedi3"`` or ``"spline36"``.
    :param grain: grain strength to add back at the end (0..0.3 luma units; 0: none).
    :returns: the enhanced clip.
    """
    clip = check_input(clip, "vsrestore.enhance", LUMA_FAMILIES)
    out = clip
    if normalize:
        out = _normalize(out)
    if deflicker:
        out = _deflicker(out)
    if despot:
        out = _despot(out)
    if denoise_strength > 0:
        cleaned = out
        out = _denoise(out, strength=denoise_strength)
        if sharpen_amount > 0:
            out = _sharpen(out, amount=sharpen_amount, reference=cleaned)
    if upscale > 1:
        out = _upscale(out, upscale, method=upscale_method)
    if grain > 0:
        out = _regrain(out, strength=grain)
    return out
