"""Rendering scripts: vspipe piped straight into ffmpeg, with progress and no half-written outputs."""

from .encode import Codec, EncodeSettings
from .render import RenderError, RenderResult, render
from .tools import ScriptInfo, find_ffmpeg, find_vspipe, probe_script

__all__ = [
    "Codec",
    "EncodeSettings",
    "RenderError",
    "RenderResult",
    "ScriptInfo",
    "find_ffmpeg",
    "find_vspipe",
    "probe_script",
    "render",
]
