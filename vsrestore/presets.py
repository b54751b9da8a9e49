"""Helpers for ``.vpy`` presets: typed access to ``vspipe -a key=value`` arguments and named stage outputs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import vapoursynth as vs

__all__ = ["PRESET_DIR", "ScriptArgs", "preset_path", "set_stage_outputs"]

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off", ""}


def preset_path(name: str) -> Path:
    """The preset file for a name (``silent_film``) or a path to a ``.vpy``.

    :raises ValueError: no such preset; the message lists the shipped ones.
    """
    p = Path(name)
    if p.suffix == ".vpy" and p.is_file():
        return p
    cand = PRESET_DIR / f"{name}.vpy"
    if cand.is_file():
        return cand
    names = ", ".join(sorted(q.stem for q in PRESET_DIR.glob("*.vpy")))
    raise ValueError(f"no preset {name!r}; shipped presets: {names} (or give a path to a .vpy)")


class ScriptArgs:
    """The values vspipe passes with ``-a key=value`` (globals of the script), read with a type and a default.

    Every reader names the argument in its error, e.g. ``-a fps=abc`` gives "fps='abc' is not a frame rate".
    """

    def __init__(self, script_globals: Mapping[str, Any]) -> None:
        # vspipe's arguments are strings (or bytes); anything else in the globals is the script's own names
        self._g = {k: v for k, v in script_globals.items() if isinstance(v, str | bytes) and not k.startswith("__")}

    def raw(self, name: str) -> str | None:
        v = self._g.get(name)
        if v is None:
            return None
        return v.decode() if isinstance(v, bytes) else v

    def text(self, name: str, default: str = "") -> str:
        v = self.raw(name)
        return default if v is None else v

    def path(self, name: str, default: str | os.PathLike[str] | None = None) -> Path | None:
        v = self.raw(name)
        if not v:
            return Path(default) if default is not None else None
        return Path(v).expanduser()

    def flag(self, name: str, default: bool) -> bool:
        v = self.raw(name)
        if v is None:
            return default
        if v.lower() in _TRUE:
            return True
        if v.lower() in _FALSE:
            return False
        raise ValueError(f"-a {name}={v!r} must be one of 1/0, yes/no, true/false")

    def number(self, name: str, default: float) -> float:
        v = self.raw(name)
        if v is None or v == "":
            return default
        try:
            return float(v)
        except ValueError:
            raise ValueError(f"-a {name}={v!r} is not a number") from None

    def fraction(self, name: str, default: str) -> Fraction:
        """A frame rate: ``24``, ``25``, ``30000/1001`` or ``23.976`` (read as 24000/1001)."""
        from .interpolate.timing import parse_rate

        return parse_rate(self.raw(name) or default, name=f"-a {name}", func="preset")


def set_stage_outputs(final: vs.VideoNode, stages: Mapping[str, vs.VideoNode]) -> None:
    """Output 0 is the finished film; outputs 1.. are the stages in order, each with a ``PresetStage`` prop
    (the stage's name) so a previewer or ``vsrestore compare SCRIPT.vpy`` can tell them apart."""
    core = vs.core
    core.std.SetFrameProps(final, PresetStage="final").set_output(0)
    for index, (name, node) in enumerate(stages.items(), start=1):
        core.std.SetFrameProps(node, PresetStage=name).set_output(index)
