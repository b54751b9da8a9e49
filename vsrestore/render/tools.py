"""Finding vspipe and ffmpeg, and asking vspipe what a script outputs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

__all__ = ["ScriptInfo", "find_ffmpeg", "find_vspipe", "probe_audio", "probe_script", "script_args", "script_failed"]

_VSSCRIPT_HINT = (
    "VSScript is not configured for this Python; run `vapoursynth config` once (the set-up command in "
    "README.md does it)"
)


def find_vspipe() -> str:
    """vspipe beside the running Python (the VapourSynth wheel ships it), else the one on PATH."""
    here = Path(sys.executable).parent / "vspipe"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which("vspipe")
    if not found:
        raise FileNotFoundError(
            "vspipe not found: install the 'vapoursynth' wheel into this Python (pip install vapoursynth)"
        )
    return found


def find_ffmpeg(explicit: str | None = None) -> str:
    """``explicit``, else $VSRESTORE_FFMPEG, else ffmpeg on PATH, else the binary in the imageio-ffmpeg wheel."""
    for cand in (explicit, os.environ.get("VSRESTORE_FFMPEG")):
        if cand:
            if not (Path(cand).is_file() or shutil.which(cand)):
                raise FileNotFoundError(f"ffmpeg {cand!r} does not exist")
            return cand
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as e:
        raise FileNotFoundError(
            "ffmpeg not found: install Debian's ffmpeg or the imageio-ffmpeg wheel (a dependency of vsrestore)"
        ) from e


def script_args(args: dict[str, str] | None) -> list[str]:
    """vspipe's ``-a key=value`` arguments."""
    out: list[str] = []
    for k, v in (args or {}).items():
        out += ["-a", f"{k}={v}"]
    return out


@dataclass(frozen=True)
class ScriptInfo:
    """What vspipe reports of a script's output: size, frame count, rate (0 for a variable rate) and format."""

    width: int
    height: int
    frames: int
    fps: Fraction
    format: str


def script_failed(stderr: str) -> bool:
    """True when vspipe's messages show the script itself failed (not a broken pipe to a dead encoder)."""
    return any(m in stderr for m in ("Python exception:", "Script evaluation failed", "Error getting frame",
                                     "Failed to retrieve frame", "VSScript"))


def _vspipe_error(stderr: str, script: Path) -> str:
    """The script's own error in one line when Python raised it (``-a fps=abc`` names the argument), else the
    end of what vspipe printed."""
    if "VSScript" in stderr and "config" in stderr:
        return _VSSCRIPT_HINT
    lines = stderr.splitlines()
    for line in lines:
        if line.startswith("Python exception:"):
            return f"{script.name}: {line.removeprefix('Python exception:').strip()}"
    frame = re.search(r"Failed to retrieve frame (\d+)", stderr)
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception): ", ln)]
    if frame and errors:
        return f"{script.name}: frame {frame.group(1)} failed: {errors[-1]}"
    tail = "\n".join(stderr.strip().splitlines()[-12:])
    return f"script {script} failed:\n{tail}"


def probe_script(script: str | os.PathLike[str], args: dict[str, str] | None = None, output: int = 0) -> ScriptInfo:
    """Run ``vspipe --info`` on a script.

    :raises ValueError: the script does not exist or fails (the message holds the end of its traceback).
    """
    path = Path(script)
    if not path.is_file():
        raise ValueError(f"script {str(path)!r} does not exist")
    cmd = [find_vspipe(), "--info", "-o", str(output), *script_args(args), str(path), "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ValueError(_vspipe_error(proc.stderr, path))
    blocks: dict[int, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if ":" in line:
            k, v = (part.strip() for part in line.split(":", 1))
            if k == "Output Index":
                current = blocks.setdefault(int(v), {})
            current[k] = v
    fields = blocks.get(output, current if not blocks else {})
    if not fields:
        raise ValueError(f"script {path} has no output {output} (it sets {sorted(blocks)})")
    if fields.get("Type", "Video") != "Video":
        raise ValueError(f"output {output} of {path} is not video")
    fps_txt = fields.get("FPS", "0/1").split()[0]
    num, _, den = fps_txt.partition("/")
    fps = Fraction(int(num), int(den or 1)) if num.isdigit() and den.isdigit() and int(den) else Fraction(0)
    width, height = int(fields.get("Width", 0)), int(fields.get("Height", 0))
    if width == 0 or height == 0:
        raise ValueError(f"output {output} of {path} has a variable frame size; ffmpeg needs a constant one")
    return ScriptInfo(width, height, int(fields.get("Frames", 0)), fps, fields.get("Format Name", "?"))


def probe_audio(path: str | os.PathLike[str], ffmpeg: str | None = None) -> str | None:
    """The codec of a media file's first audio stream (``"aac"``, ``"pcm_s16le"``), or None when it has none
    (or ffmpeg cannot read it)."""
    proc = subprocess.run([find_ffmpeg(ffmpeg), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    m = re.search(r"Stream #\d+:\d+\S*: Audio: (\w+)", proc.stderr)
    return m.group(1) if m else None
