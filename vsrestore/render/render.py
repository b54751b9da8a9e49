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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..core.files import check_output, partial_name
from ..core.progress import Progress
from .encode import EncodeSettings
from .tools import ScriptInfo, _vspipe_error, find_ffmpeg, find_vspipe, probe_script, script_args

__all__ = ["RenderError", "RenderResult", "render"]

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
) -> RenderResult:
    """Render output ``output_index`` of a ``.vpy`` script to a video file through vspipe and ffmpeg.

    :param script: the VapourSynth script.
    :param output: the file to write; its suffix picks the container (.mkv, .mp4, .mov, ...).
    :param args: values passed to the script (vspipe ``-a key=value``; read there as globals).
    :param settings: codec, quality and audio (default: x264 crf 16).
    :param start, end: first and last frame (inclusive) to render; default the whole clip.
    :param overwrite: replace an existing ``output``; otherwise an existing file is refused.
    :param progress: draw a progress bar with fps and ETA on stderr.
    :param on_frames: called with the number of frames done so far, as vspipe reports them.
    :param info: the script's :func:`probe_script` result when the caller already has it.
    :raises ValueError: bad arguments (the message says which and why).
    :raises RenderError: vspipe or ffmpeg failed (no file is left under ``output``).
    """
    script_p, out_p = Path(script), Path(output)
    settings = settings or EncodeSettings()
    check_output(out_p, overwrite)
    info = info or probe_script(script_p, args, output_index)
    first = 0 if start is None else start
    last = info.frames - 1 if end is None else end
    if not 0 <= first <= last < info.frames:
        raise ValueError(f"frame range {first}..{last} is outside the script's 0..{info.frames - 1}")
    total = last - first + 1
    extra_in = ["-i", str(settings.audio)] if settings.audio else []
    tmp = partial_name(out_p)
    vspipe_cmd = [find_vspipe(), "-c", "y4m", "-p", "-o", str(output_index), *script_args(args)]
    vspipe_cmd += ["-s", str(first), "-e", str(last), str(script_p), "-"]
    ffmpeg_cmd = [find_ffmpeg(ffmpeg), "-hide_banner", "-loglevel", "error", "-f", "yuv4mpegpipe", "-i", "pipe:0"]
    ffmpeg_cmd += extra_in + settings.output_args(out_p) + ["-y", str(tmp)]

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
            rc_ff = ff.wait()
            rc_vs = vspipe.wait()
            t_vs.join()
            t_ff.join()
            if rc_vs != 0:
                msg = b"\n".join(vs_err).decode(errors="replace")
                raise RenderError(f"vspipe failed (exit {rc_vs}): {_vspipe_error(msg, script_p)}")
            if rc_ff != 0:
                tail = b"\n".join(ff_err[-12:]).decode(errors="replace")
                raise RenderError(f"ffmpeg failed (exit {rc_ff}): {tail}")
            bar.update(total)
            if out_p.exists() and not overwrite:
                raise FileExistsError(f"output {str(out_p)!r} appeared during the render; the result is not moved")
            os.replace(tmp, out_p)
            ok = True
        finally:
            if not ok:
                for proc in (vspipe, ff):
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)
                        try:
                            proc.wait(5)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                tmp.unlink(missing_ok=True)
    return RenderResult(out_p, total, time.perf_counter() - t0, info)
