"""Helpers for ``.vpy`` presets: a declared parameter table per preset, arguments read so that no import can
shadow them, and named stage outputs.

Each shipped preset starts with ``_ARGS = dict(globals())`` *before any import*: that copy holds exactly the
strings vspipe put in the script's globals (``-a NAME=VALUE``), so a later ``from vsrestore.enhance import
upscale`` cannot replace the user's ``-a upscale=1``. ``ScriptArgs(_ARGS, preset="silent_film")`` then checks
every argument against the preset's table (:data:`PRESET_PARAMS`): an unknown name or a bad value is one line
naming the argument and the valid choices. The command line (``vsrestore render/restore``) runs the same check
before it starts anything (:func:`check_preset_args`).
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import vapoursynth as vs

if TYPE_CHECKING:
    from .interpolate import MVSettings

__all__ = [
    "PRESET_DIR",
    "PRESET_PARAMS",
    "Param",
    "ParamKind",
    "ScriptArgs",
    "absolute_paths",
    "check_preset_args",
    "colour_spread",
    "cpu_upscaler",
    "hold_frames",
    "keep_own_chroma",
    "motion_settings",
    "preset_name",
    "preset_path",
    "preset_source",
    "set_stage_outputs",
]

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off", ""}
#: chroma spread (mean standard deviation of U and V over the picture, in 8-bit steps) above which a clip is
#: taken to be in colour; a black-and-white transfer has 0, a sepia or tinted one well under 2
COLOUR_SPREAD = 3.0


class ParamKind(StrEnum):
    """How a preset parameter's text is read."""

    PATH = "path"  #: a file (``must_exist``: it must be there)
    FOLDER = "folder"  #: a folder that must be there
    TEXT = "text"  #: any text ("" means none)
    FLAG = "flag"  #: 1/0, yes/no, true/false, on/off
    NUMBER = "number"  #: a decimal number within ``low..high``
    INT = "int"  #: a whole number, one of ``choices``
    RATE = "rate"  #: a frame rate: 24, 25, 30000/1001, 23.976


@dataclass(frozen=True)
class Param:
    """One preset parameter, as a command-line user gives it (``-a NAME=VALUE``).

    :param default: the value used when it is not given, as it would be typed ("" means none).
    :param choices: the only values accepted (INT and TEXT), as typed.
    :param low, high: inclusive range of a NUMBER.
    """

    name: str
    kind: ParamKind
    default: str
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    must_exist: bool = True

    def describe(self) -> str:
        """``name (kind, default X)`` with the valid values, for help and error messages."""
        if self.choices:
            valid = "one of " + ", ".join(self.choices)
        elif self.kind == ParamKind.NUMBER:
            valid = f"{self.low:g}..{self.high:g}"
        else:
            valid = str(self.kind)
        return f"{self.name} ({valid}; default {self.default or 'none'}): {self.help}"

    def parse(self, raw: str) -> Any:
        """The value of ``-a NAME=raw``, typed (Path/None, str/None, bool, float, int or Fraction).

        :raises ValueError: one line naming the argument and the valid values.
        """
        where = f"-a {self.name}={_shown(raw)}"
        if self.kind == ParamKind.PATH:
            if not raw:
                return None
            p = Path(raw).expanduser()
            if self.must_exist and not p.is_file():
                raise ValueError(f"{where}: file {str(p)!r} does not exist")
            return p
        if self.kind == ParamKind.FOLDER:
            if not raw:
                return None
            p = Path(raw).expanduser()
            if not p.is_dir():
                raise ValueError(f"{where}: folder {str(p)!r} does not exist")
            return p
        if self.kind == ParamKind.TEXT:
            if self.choices and raw not in self.choices:
                raise ValueError(f"{where}: must be one of {', '.join(self.choices)}")
            return raw or None
        if self.kind == ParamKind.FLAG:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError(f"{where}: must be 1 or 0 (also yes/no, true/false, on/off)")
        if self.kind == ParamKind.NUMBER:
            try:
                x = float(raw)
            except ValueError:
                x = math.nan
            lo, hi = self.low if self.low is not None else -math.inf, self.high if self.high is not None else math.inf
            if not (math.isfinite(x) and lo <= x <= hi):
                raise ValueError(f"{where}: must be a number from {lo:g} to {hi:g} (default {self.default})")
            return x
        if self.kind == ParamKind.INT:
            if raw.strip() not in self.choices:
                raise ValueError(f"{where}: must be one of {', '.join(self.choices)} (default {self.default})")
            return int(raw)
        from .interpolate.timing import MAX_RATE, parse_rate

        try:
            return parse_rate(raw, name=self.name, func="preset")
        except (ValueError, ArithmeticError):  # "inf" overflows in parse_rate
            raise ValueError(
                f"{where}: not a frame rate; give a number or fraction above 0 and at most {MAX_RATE}, "
                f"e.g. 24, 25 or 30000/1001"
            ) from None


def _shown(text: str) -> str:
    """A value as it can be shown in a one-line message (quoted when it holds spaces or control characters)."""
    return text if text.isprintable() and text.strip() == text and " " not in text and text else repr(text)


def _params(*items: Param) -> dict[str, Param]:
    return {p.name: p for p in items}


_INPUT = Param("input", ParamKind.PATH, "", "the transfer to restore (default: the bundled sample)")
_SIDECAR = Param("sidecar", ParamKind.PATH, "", "decimator analysis cache file", must_exist=False)
_OVERRIDES = Param("overrides", ParamKind.PATH, "", "override file from `vsrestore analyze`, edited by you")
_MODEL = Param("color_model", ParamKind.TEXT, "", "colour model: vsrestore's default, or DeOldify's .pth")
_SATURATION = Param("saturation", ParamKind.NUMBER, "1", "colour strength: 0 grey, 1 the model's own, 2 livelier",
                    low=0, high=4)
_KEYFRAMES = Param("keyframes", ParamKind.FOLDER, "",
                   "folder of hand-coloured keyframes (from `vsrestore keyframes`), each colouring its shot")
_KEEP = Param("keep_chroma", ParamKind.FLAG, "0", "1: a colour input keeps its own colours (is not recoloured)")
_MOTION = Param("motion", ParamKind.TEXT, "standard", "motion interpolation: standard, or fine (a finer dense "
               "optical flow: +0.05 dB on the tuning footage, the interpolator about twice as slow)",
               choices=("standard", "fine"))

#: every shipped preset's parameters, by preset name
PRESET_PARAMS: dict[str, dict[str, Param]] = {
    "silent_film": _params(
        _INPUT, _SIDECAR, _OVERRIDES,
        Param("fps", ParamKind.RATE, "24", "final frame rate: 24, 25, 30000/1001, 48, 60 ..."),
        Param("color", ParamKind.FLAG, "1", "colourise (0: stay black-and-white)"),
        _MODEL, _SATURATION, _KEEP, _KEYFRAMES,
        Param("denoise", ParamKind.NUMBER, "1", "grain removal strength (0 turns it off)", low=0, high=4),
        Param("sharpen", ParamKind.NUMBER, "0.5", "sharpening after denoising (0 turns it off)", low=0, high=4),
        Param("upscale", ParamKind.INT, "2", "enlargement factor", choices=("1", "2", "4")),
        Param("upscaler", ParamKind.TEXT, "model", "how to enlarge: model (FilmSR, the default), nnedi3 (far "
              "cheaper on the CPU, SSIM 0.02 lower), or auto (the model with a CUDA GPU, else nnedi3)",
              choices=("auto", "model", "nnedi3")),
        Param("grain", ParamKind.NUMBER, "0.015", "fine grain added back (0 turns it off)", low=0, high=0.2),
        _MOTION,
    ),
    "newsreel_bw": _params(
        _INPUT, _SIDECAR, _OVERRIDES,
        Param("fps", ParamKind.RATE, "25", "final frame rate (newsreels go to PAL's 25 fps)"),
        Param("denoise", ParamKind.NUMBER, "1", "grain removal strength (0 turns it off)", low=0, high=4),
        Param("sharpen", ParamKind.NUMBER, "0.5", "sharpening after denoising (0 turns it off)", low=0, high=4),
        Param("upscale", ParamKind.INT, "1", "enlargement factor", choices=("1", "2", "4")),
        Param("grain", ParamKind.NUMBER, "0.02", "fine grain added back (0 turns it off)", low=0, high=0.2),
        _MOTION,
    ),
    "colorize_only": _params(
        _INPUT, _MODEL,
        Param("stabilize", ParamKind.FLAG, "1", "motion-compensated chroma smoothing against colour flicker"),
        _SATURATION, _KEEP, _KEYFRAMES,
    ),
    "smooth_only": _params(
        _INPUT, _SIDECAR, _OVERRIDES,
        Param("fps", ParamKind.RATE, "24", "final frame rate"),
        _MOTION,
    ),
}


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


def preset_name(script: str | os.PathLike[str]) -> str | None:
    """The shipped preset a script file is (``silent_film``), or None for any other script."""
    p = Path(script)
    cand = PRESET_DIR / p.name
    if p.stem in PRESET_PARAMS and cand.is_file() and p.is_file() and os.path.samefile(p, cand):
        return p.stem
    return None


def _check_all(preset: str, params: Mapping[str, Param], args: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in args.items():
        if name not in params:
            close = difflib.get_close_matches(name, list(params), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(
                f"-a {_shown(name)}={_shown(raw)}: preset {preset} has no parameter {name!r}{hint}; "
                f"its parameters: {', '.join(params)}"
            )
        values[name] = params[name].parse(raw)
    for name, param in params.items():
        if name not in values:
            values[name] = (param.parse(param.default)
                            if param.kind not in (ParamKind.PATH, ParamKind.FOLDER) or param.default else None)
    return values


def check_preset_args(preset: str, args: Mapping[str, str]) -> dict[str, Any]:
    """Check ``-a`` arguments against a shipped preset's table before anything starts.

    :returns: every parameter's typed value (defaults filled in).
    :raises ValueError: an unknown name (the message lists the preset's parameters) or a bad value (it gives
        the valid ones), in one line.
    """
    return _check_all(preset, PRESET_PARAMS[preset], args)


def absolute_paths(preset: str, args: Mapping[str, str]) -> dict[str, str]:
    """``args`` with the preset's file parameters made absolute against the current folder (vspipe runs a
    script from the script's own folder, where a relative ``-a input=film.mkv`` would name another file)."""
    params = PRESET_PARAMS[preset]
    files = (ParamKind.PATH, ParamKind.FOLDER)
    return {k: (str(Path(v).expanduser().resolve()) if v and k in params and params[k].kind in files
                else v) for k, v in args.items()}


class ScriptArgs:
    """The values vspipe passes with ``-a key=value`` (globals of the script), read with a type and a default.

    With ``preset`` (a shipped preset's name or a table of :class:`Param`), every argument is checked when the
    object is made: unknown names and bad values are refused, and ``args["name"]`` gives the typed value.
    Pass a copy of the globals taken *before the script's imports* (``_ARGS = dict(globals())`` on its first
    line); a parameter found bound to a Python object (a module, a function: an import shadowed it) is refused
    as a bug of the script, never silently replaced by the default.
    """

    def __init__(self, script_globals: Mapping[str, Any], preset: str | Mapping[str, Param] | None = None) -> None:
        # vspipe's arguments are strings (or bytes); anything else in the globals is the script's own names
        self._g = {k: v for k, v in script_globals.items() if isinstance(v, str | bytes) and not k.startswith("__")}
        self._values: dict[str, Any] = {}
        if preset is None:
            return
        name, params = (preset, PRESET_PARAMS[preset]) if isinstance(preset, str) else ("script", preset)
        shadowed = [k for k in params if k in script_globals and k not in self._g]
        if shadowed:
            raise ValueError(
                f"preset {name}: parameter(s) {', '.join(shadowed)} are also Python names in the script (an "
                f"import?), so -a values would be lost; read the arguments first: _ARGS = dict(globals()) "
                f"before any import, then ScriptArgs(_ARGS, ...)"
            )
        self._values = _check_all(name, params, {k: self.text(k) for k in self._g})

    def __getitem__(self, name: str) -> Any:
        """The typed, checked value of a declared parameter (needs ``preset``)."""
        return self._values[name]

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


def preset_source(path: str | os.PathLike[str] | None) -> vs.VideoNode:
    """Open a preset's input (None: the bundled sample) and refuse what no preset can take, with a fix a
    command-line user can run (the frame size or format changes within the file).

    :raises ValueError: one line naming the file and the ffmpeg command that makes it constant.
    """
    from .core.source import load_source, sample_path

    p = Path(path) if path is not None else sample_path()
    clip = load_source(p)
    if clip.format is None or clip.format.color_family == vs.UNDEFINED or clip.width == 0 or clip.height == 0:
        raise ValueError(
            f"input {str(p)!r} changes its frame size or pixel format during the film; presets need one size: "
            f"convert it first, e.g. ffmpeg -i {p.name} -vf scale=W:H,format=yuv420p -c:v ffv1 fixed.mkv"
        )
    return clip


def colour_spread(clip: vs.VideoNode, samples: int = 5) -> float:
    """How much colour a clip holds: the largest, over ``samples`` frames spread through it, of the mean
    standard deviation of its U and V planes over the picture, in 8-bit steps (0 for GRAY; a black-and-white
    transfer stored as YUV gives 0, a sepia-toned one well under 2, colour footage 5-30).
    """
    import numpy as np

    if clip.format is None or clip.format.color_family == vs.GRAY:
        return 0.0
    core = vs.core
    yuv = clip
    if clip.format.color_family == vs.RGB:
        yuv = core.resize.Point(clip, format=vs.YUV444P8, matrix_s="709")
    scale = 2.0 ** (8 - yuv.format.bits_per_sample) if yuv.format.sample_type == vs.INTEGER else 255.0
    n = clip.num_frames
    best = 0.0
    for i in sorted({min(n - 1, (2 * k + 1) * n // (2 * samples)) for k in range(samples)}):
        f = yuv.get_frame(i)
        spread = (float(np.asarray(f[1]).std()) + float(np.asarray(f[2]).std())) / 2 * scale
        best = max(best, spread)
    return best


def cpu_upscaler(choice: str | None) -> str:
    """The ``upscaler`` preset argument resolved: ``"model"`` or ``"nnedi3"``. ``"auto"`` (or None) is the model
    when a CUDA GPU is visible (torch already imported and seeing one, or NVIDIA's driver present:
    ``/proc/driver/nvidia/version``), else nnedi3: on the CPU the model costs more than the rest of the silent_film
    chain for a small gain (``benchmarks/pipeline.py``). Deciding does not import torch."""
    if choice in ("model", "nnedi3"):
        return choice
    from .core.backend import cuda_visible

    return "model" if cuda_visible() else "nnedi3"


def motion_settings(choice: str) -> MVSettings | None:
    """The ``motion`` preset argument as the interpolator's ``mv_settings``: None (its default) for
    ``"standard"``, :meth:`MVSettings.fine() <vsrestore.interpolate.MVSettings.fine>` for ``"fine"``."""
    if choice == "fine":
        from .interpolate import MVSettings as Settings  # imported on use: a preset's check stays light

        return Settings.fine()
    return None


#: frames :func:`hold_frames` keeps per node by default: room for the windows the silent_film chain's temporal steps
#: (denoising, colour stabilisation, the interpolator's motion search and checks) read around the frames in flight
#: (measured up to the interpolator at 720x540, CPU s per output frame: no fixed cache 1.88, 24 frames 0.42, 48
#: frames 0.28; ``benchmarks/results/pipeline.md``)
HOLD_FRAMES = 48


def hold_frames(node: vs.VideoNode, frames: int = HOLD_FRAMES) -> vs.VideoNode:
    """``node`` with a frame cache of a fixed ``frames`` frames (most recently used kept), returned for chaining.

    VapourSynth's own cache adapts its size to the hit pattern it sees and, in front of temporal filters that
    read a window of frames from several nodes at once (mvtools' super, analysis and compensation; the
    interpolator's checks), it stays too small: the same frame is rendered again and again, through everything
    upstream (the silent_film chain rendered each colour frame several times: 3-7x its own cost). A fixed cache
    at each temporal step's input renders every frame once. Memory: ``frames`` times one frame of the node
    (48 frames of 720x540 YUV444PS: 224 MiB)."""
    if frames < 1:
        raise ValueError(f"hold_frames: frames={frames} must be at least 1")
    vs.core.std.SetVideoCache(node, mode=1, fixedsize=1, maxsize=frames)
    return node


def keep_own_chroma(luma: vs.VideoNode, source: vs.VideoNode) -> vs.VideoNode:
    """``luma`` (GRAY, the processed picture) with ``source``'s own chroma (same frame count and size), as
    YUV444 at ``luma``'s depth: for a colour input whose colours are to be kept, not predicted."""
    core = vs.core
    fmt = core.query_video_format(vs.YUV, luma.format.sample_type, luma.format.bits_per_sample, 0, 0)
    chroma = core.resize.Bicubic(source, luma.width, luma.height, format=fmt.id)
    return core.std.ShufflePlanes([luma, chroma], [0, 1, 2], vs.YUV)


def set_stage_outputs(final: vs.VideoNode, stages: Mapping[str, vs.VideoNode]) -> None:
    """Output 0 is the finished film; outputs 1.. are the stages in order, each with a ``PresetStage`` prop
    (the stage's name) so a previewer or ``vsrestore compare SCRIPT.vpy`` can tell them apart."""
    core = vs.core
    core.std.SetFrameProps(final, PresetStage="final").set_output(0)
    for index, (name, node) in enumerate(stages.items(), start=1):
        core.std.SetFrameProps(node, PresetStage=name).set_output(index)
