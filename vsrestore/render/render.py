"""``render``: vspipe's y4m output piped (an OS pipe, no copy through Python) into ffmpeg.

The output is written under a hidden temporary name in the output's folder and renamed into place only when
both programs succeeded, so an error or Ctrl-C never leaves a half-written file under the final name, and an
existing file is never replaced unless ``overwrite`` is asked for.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from ..core.files import check_output, partial_name
from ..core.progress import Progress
from .encode import EncodeSettings
from .tools import ScriptInfo, _vspipe_error, find_ffmpeg, find_vspipe, probe_script, script_args, script_failed

__all__ = ["RenderError", "RenderResult", "files_read", "render"]

_FRAME_RE = re.compile(rb"Frame:\s*(\d+)/(\d+)")


class RenderError(RuntimeError):
    """vspipe or ffmpeg failed; the message holds the end of what it printed."""


@dataclass(frozen=True)
class RenderResult:
    """What a render did: the file, frames written, wall time in seconds, and the average rate in fps."""

    output: Path
    frames: int
    seconds: float
    info: ScriptInfo

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _pump_progress(
    stream: IO[bytes], bar: Progress, sink: list[bytes], on_frames: Callable[[int], None] | None
) -> None:
    buf = b""
    while True:
        chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
        if not chunk:
            break
        buf += chunk
        *lines, buf = re.split(rb"[\r\n]", buf)
        for line in lines:
            m = _FRAME_RE.search(line)
            if m:
                bar.update(int(m.group(1)))
                if on_frames is not None:
                    on_frames(int(m.group(1)))
            elif line.strip():
                sink.append(line)
    if buf.strip():
        sink.append(buf)


def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
    for line in stream:
        sink.append(line.rstrip())


def files_read(script: Path, args: dict[str, str] | None, settings: EncodeSettings) -> list[Path]:
    """The files a render reads, none of which it may write: the script, the audio source, every ``-a`` value
    that names an existing file, and for a shipped preset without ``input`` the bundled sample."""
    from ..core.source import sample_path
    from ..presets import preset_name

    found = [script]
    if settings.audio is not None:
        found.append(Path(settings.audio))
    for value in (args or {}).values():
        p = Path(value).expanduser()
        if value and p.is_file():
            found.append(p)
    if preset_name(script) is not None and "input" not in (args or {}):
        found.append(sample_path())
    return found


def _ffmpeg_error(lines: list[bytes], rc: int, output: Path) -> str:
    """ffmpeg's own message, with what to do about the common causes a user can fix."""
    tail = b"\n".join(lines[-12:]).decode(errors="replace").strip()
    if "No space left on device" in tail:
        return (f"the disk holding {str(output.parent)!r} is full; free some space or choose another folder "
                f"with -o (ffmpeg: No space left on device)")
    if "Permission denied" in tail or "Read-only file system" in tail:
        return f"cannot write into {str(output.parent)!r}; choose another folder with -o (ffmpeg: {tail[-300:]})"
    return f"ffmpeg failed (exit {rc}): {tail or 'no message'}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def render(
    script: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    args: dict[str, str] | None = None,
    settings: EncodeSettings | None = None,
    start: int | None = None,
    end: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    ffmpeg: str | None = None,
    output_index: int = 0,
    on_frames: Callable[[int], None] | None = None,
    info: ScriptInfo | None = None,
    cancel: threading.Event | None = None,
) -> RenderResult:
    """Render output ``output_index`` of a ``.vpy`` script to a video file through vspipe and ffmpeg.

    :param script: the VapourSynth script.
    :param output: the file to write; its suffix picks the container (.mkv, .mp4, .mov, ...). It may not be
        any file the render reads (:func:`files_read`), even with ``overwrite``.
    :param args: values passed to the script (vspipe ``-a key=value``; read there as globals).
    :param settings: codec, quality and audio (default: x264 crf 16).
    :param start, end: first and last frame (inclusive) to render; default the whole clip.
    :param overwrite: replace an existing ``output``; otherwise an existing file is refused.
    :param progress: draw a progress bar with fps and ETA on stderr.
    :param on_frames: called with the number of frames done so far, as vspipe reports them.
    :param info: the script's :func:`probe_script` result when the caller already has it.
    :param cancel: when set (by another thread), the render stops, cleans up and raises KeyboardInterrupt.
    :raises ValueError: bad arguments, or an output that is an input or cannot be written (checked before the
        script starts).
    :raises RenderError: vspipe or ffmpeg failed, with the failing program's own message (no file is left
        under ``output``).
    """
    script_p, out_p = Path(script), Path(output)
    settings = settings or EncodeSettings()
    check_output(out_p, overwrite, files_read(script_p, args, settings))
    info = info or probe_script(script_p, args, output_index)
    first = 0 if start is None else start
    last = info.frames - 1 if end is None else end
    if not 0 <= first <= last < info.frames:
        raise ValueError(f"frame range {first}..{last} is outside the script's 0..{info.frames - 1}")
    total = last - first + 1
    if settings.audio is not None and first > 0 and info.fps > 0:  # the audio of the frames rendered
        settings = replace(settings, audio_start=settings.audio_start + float(first / info.fps))
    tmp = partial_name(out_p)
    vspipe_cmd = [find_vspipe(), "-c", "y4m", "-p", "-o", str(output_index), *script_args(args)]
    vspipe_cmd += ["-s", str(first), "-e", str(last), str(script_p), "-"]
    ffmpeg_cmd = [find_ffmpeg(ffmpeg), "-hide_banner", "-loglevel", "error", "-f", "yuv4mpegpipe", "-i", "pipe:0"]
    ffmpeg_cmd += settings.audio_input_args() + settings.output_args(out_p) + ["-y", str(tmp)]

    t0 = time.perf_counter()
    vs_err: list[bytes] = []
    ff_err: list[bytes] = []
    vspipe = subprocess.Popen(vspipe_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert vspipe.stdout is not None and vspipe.stderr is not None
    try:
        ff = subprocess.Popen(ffmpeg_cmd, stdin=vspipe.stdout, stderr=subprocess.PIPE)
    except BaseException:
        vspipe.kill()
        raise
    vspipe.stdout.close()  # ffmpeg holds the read end now; vspipe gets SIGPIPE if ffmpeg dies
    assert ff.stderr is not None
    ok = False
    with Progress(total, f"render {out_p.name}", enabled=progress) as bar:
        t_vs = threading.Thread(target=_pump_progress, args=(vspipe.stderr, bar, vs_err, on_frames), daemon=True)
        t_ff = threading.Thread(target=_drain, args=(ff.stderr, ff_err), daemon=True)
        t_vs.start()
        t_ff.start()
        try:
            while ff.poll() is None or vspipe.poll() is None:
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt
                if ff.poll() is not None and ff.returncode != 0:
                    _stop(vspipe)  # the encoder died: the script's frames have nowhere to go
                    break
                time.sleep(0.05)
            rc_ff, rc_vs = ff.wait(), vspipe.wait()
            t_vs.join()
            t_ff.join()
            vs_msg = b"\n".join(vs_err).decode(errors="replace")
            # when ffmpeg fails, vspipe fails too (its pipe breaks): blame vspipe only when the script failed
            if rc_vs != 0 and (rc_ff == 0 or script_failed(vs_msg)):
                raise RenderError(f"vspipe failed (exit {rc_vs}): {_vspipe_error(vs_msg, script_p)}")
            if rc_ff != 0:
                raise RenderError(_ffmpeg_error(ff_err, rc_ff, out_p))
            bar.update(total)
            if out_p.exists() and not overwrite:
                raise FileExistsError(f"output {str(out_p)!r} appeared during the render; the result is not moved")
            os.replace(tmp, out_p)
            ok = True
        finally:
            if not ok:
                for proc in (vspipe, ff):
                    _stop(proc)
                tmp.unlink(missing_ok=True)
    return RenderResult(out_p, total, time.perf_counter() - t0, info)
