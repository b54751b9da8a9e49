"""Resumable, chunked renders for long films.

The frame range is cut into segments that are rendered as separate files by :func:`~.render.render`
(vspipe ``--start/--end`` into ffmpeg), ``jobs`` at a time in parallel processes. Segments live in a work
folder next to the output (``.NAME.parts/``) with a manifest that records the script, its arguments, the
encoder settings and the segment plan; a segment counts as done only once its file exists under its final
name (render writes under a temporary name first) *and* ffmpeg counts exactly the frames it should hold.
A crash or Ctrl-C keeps every finished segment: running the same command again renders only what is missing.
A changed script, argument or setting makes a new plan (old segments are not reused). Finally the segments
are joined losslessly (ffmpeg's concat demuxer, stream copy) into a temporary file that is renamed into
place, and the work folder is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..core.files import atomic_write, check_output, partial_name, remove_stale_partials
from ..core.progress import Progress
from .encode import EncodeSettings
from .render import RenderError, RenderResult, _ffmpeg_error, files_read, render
from .tools import ScriptInfo, find_ffmpeg, probe_script

__all__ = ["ChunkJob", "ChunkPlan", "count_frames", "join_segments", "plan_chunks", "render_chunked", "render_segment"]


@dataclass(frozen=True)
class ChunkPlan:
    """Which frames each segment holds: ``ranges[i] = (first, last)``, inclusive."""

    ranges: tuple[tuple[int, int], ...]

    @staticmethod
    def make(first: int, last: int, segment_frames: int) -> ChunkPlan:
        if segment_frames < 1:
            raise ValueError(f"segment length {segment_frames} must be at least 1 frame")
        return ChunkPlan(tuple((a, min(a + segment_frames - 1, last)) for a in range(first, last + 1, segment_frames)))


def count_frames(path: Path, ffmpeg: str | None = None) -> int:
    """Video frames in a file, counted by ffmpeg with stream copy (no decoding); -1 when unreadable."""
    proc = subprocess.run(
        [find_ffmpeg(ffmpeg), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f",
         "null", "-", "-progress", "pipe:1"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        return -1
    frames = [line.split("=", 1)[1] for line in proc.stdout.splitlines() if line.startswith("frame=")]
    return int(frames[-1]) if frames else -1


def _fingerprint(script: Path, args: dict[str, str], settings: EncodeSettings, info: ScriptInfo,
                 plan: ChunkPlan, output_index: int) -> str:
    st = script.stat()
    blob = json.dumps(
        {
            "script": str(script.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "script_sha1": hashlib.sha1(script.read_bytes()).hexdigest(), "args": args,
            "settings": {k: str(v) for k, v in asdict(settings).items()}, "info": str(info),
            "plan": plan.ranges, "output_index": output_index,
        },
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()


@dataclass(frozen=True)
class ChunkJob:
    """A chunked render, planned: what each segment holds and where its file goes.

    Made by :func:`plan_chunks` (on the machine that joins the segments); the segments are rendered with
    :func:`render_segment` (in local processes by :func:`render_chunked`, as Ray tasks by
    :func:`~.cluster.render_cluster`) and joined by :func:`join_segments`.
    """

    script: Path
    output: Path
    args: dict[str, str]
    settings: EncodeSettings  #: the final file's settings (with audio)
    video_only: EncodeSettings  #: what each segment is encoded with (no audio)
    info: ScriptInfo
    plan: ChunkPlan
    parts: Path  #: the work folder holding the segments and the manifest
    output_index: int
    ffmpeg: str | None

    @property
    def total(self) -> int:
        """Frames in the whole render."""
        return self.plan.ranges[-1][1] - self.plan.ranges[0][0] + 1

    def segment_path(self, i: int) -> Path:
        """Where finished segment ``i`` lives (``segment-00003.mkv``)."""
        return self.parts / f"segment-{i:05d}{self.output.suffix}"

    def frames(self, i: int) -> int:
        """Frames segment ``i`` holds."""
        a, b = self.plan.ranges[i]
        return b - a + 1

    def finished(self, i: int) -> bool:
        """True when segment ``i``'s file exists and ffmpeg counts exactly the frames it should hold."""
        p = self.segment_path(i)
        return p.is_file() and count_frames(p, self.ffmpeg) == self.frames(i)

    def todo(self) -> list[int]:
        """The segments still to render (the others are reused: the ``--jobs`` resume rules)."""
        return [i for i in range(len(self.plan.ranges)) if not self.finished(i)]


def plan_chunks(
    script: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    args: dict[str, str] | None = None,
    settings: EncodeSettings | None = None,
    start: int | None = None,
    end: int | None = None,
    segment_frames: int = 1000,
    overwrite: bool = False,
    ffmpeg: str | None = None,
    output_index: int = 0,
    parts: Path | None = None,
    info: ScriptInfo | None = None,
) -> ChunkJob:
    """Check the output, probe the script, cut the range into segments and prepare the work folder.

    The work folder (default ``.NAME.parts`` next to the output) keeps segments of an earlier run of the same
    plan (same script, arguments, settings and ranges); anything else in it is removed.

    :param parts: the work folder (``--work-dir``); default ``.NAME.parts`` beside the output.
    :param info: the script's :func:`probe_script` result when the caller already has it.
    :raises ValueError: a bad frame range or segment length, or an output that may not be written.
    """
    script_p, out_p = Path(script), Path(output)
    settings = settings or EncodeSettings()
    args = dict(args or {})
    check_output(out_p, overwrite, files_read(script_p, args, settings))
    info = info or probe_script(script_p, args, output_index)
    first = 0 if start is None else start
    last = info.frames - 1 if end is None else end
    if not 0 <= first <= last < info.frames:
        raise ValueError(f"frame range {first}..{last} is outside the script's 0..{info.frames - 1}")
    plan = ChunkPlan.make(first, last, segment_frames)
    if settings.audio is not None and first > 0 and info.fps > 0:  # the audio of the frames rendered
        settings = replace(settings, audio_start=settings.audio_start + float(first / info.fps))
    video_only = replace(settings, audio=None, audio_start=0.0)
    parts = parts if parts is not None else out_p.with_name(f".{out_p.name}.parts")
    parts.mkdir(parents=True, exist_ok=True)
    manifest = parts / "manifest.json"
    key = _fingerprint(script_p, args, video_only, info, plan, output_index)
    for stale in parts.glob(".segment-*.partial-*"):  # segments of a killed run (their process is gone)
        remove_stale_partials(stale.with_name(stale.name.split(".partial-")[0][1:] + stale.suffix))
    old = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if old.get("key") != key:  # a different plan: nothing in the folder can be reused
        for f in parts.glob("segment-*"):
            f.unlink()
    atomic_write(manifest, json.dumps({"key": key, "script": str(script_p), "args": args, "ranges": plan.ranges}))
    return ChunkJob(script_p, out_p, args, settings, video_only, info, plan, parts, output_index, ffmpeg)


def render_segment(
    script: Path,
    dest: Path,
    first: int,
    last: int,
    *,
    args: dict[str, str],
    settings: EncodeSettings,
    info: ScriptInfo,
    output_index: int = 0,
    ffmpeg: str | None = None,
    on_frames: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Render frames ``first..last`` (inclusive) of a script into ``dest`` (vspipe ``--start/--end`` into
    ffmpeg, written under a temporary name and renamed), then check that ffmpeg counts exactly those frames.

    :raises RenderError: the render failed or the file holds the wrong number of frames (it is removed).
    """
    dest.unlink(missing_ok=True)
    render(script, dest, args=args, settings=settings, start=first, end=last, progress=False, ffmpeg=ffmpeg,
           output_index=output_index, info=info, on_frames=on_frames, cancel=cancel)
    frames = count_frames(dest, ffmpeg)
    if frames != last - first + 1:
        dest.unlink(missing_ok=True)
        raise RenderError(f"segment file {dest.name} (frames {first}..{last}) holds {frames} frames, not "
                          f"{last - first + 1}")


def render_chunked(
    script: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    args: dict[str, str] | None = None,
    settings: EncodeSettings | None = None,
    start: int | None = None,
    end: int | None = None,
    jobs: int = 2,
    segment_frames: int = 1000,
    overwrite: bool = False,
    progress: bool = True,
    keep_parts: bool = False,
    ffmpeg: str | None = None,
    output_index: int = 0,
) -> RenderResult:
    """Render a script in resumable segments, ``jobs`` in parallel, and join them losslessly.

    Parameters as :func:`~.render.render`, plus:

    :param jobs: segments rendered at once (separate vspipe + ffmpeg processes); default 2.
    :param segment_frames: frames per segment (default 1000).
    :param keep_parts: keep the work folder after joining.
    :raises RenderError: a segment or the join failed; finished segments are kept for the next run.
    """
    if jobs < 1:
        raise ValueError(f"jobs={jobs} must be at least 1")
    job = plan_chunks(script, output, args=args, settings=settings, start=start, end=end,
                      segment_frames=segment_frames, overwrite=overwrite, ffmpeg=ffmpeg, output_index=output_index)
    todo = job.todo()
    already = job.total - sum(job.frames(i) for i in todo)
    t0 = time.perf_counter()
    lock = threading.Lock()
    cancel = threading.Event()
    live: dict[int, int] = {}
    bar = Progress(job.total, f"render {job.output.name} ({len(todo)}/{len(job.plan.ranges)} segments to do)",
                   enabled=progress)
    bar.update(already)

    def report(i: int, done: int) -> None:
        with lock:
            live[i] = done
            bar.update(already + sum(live.values()))

    def run_segment(i: int) -> None:
        a, b = job.plan.ranges[i]
        render_segment(job.script, job.segment_path(i), a, b, args=job.args, settings=job.video_only,
                       info=job.info, output_index=job.output_index, ffmpeg=job.ffmpeg,
                       on_frames=lambda d: report(i, d), cancel=cancel)
        report(i, b - a + 1)

    with bar, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_segment, i) for i in todo]
        try:
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C / SIGTERM: cancel what has not started, stop the running renders
            cancel.set()
            for fut in futures:
                fut.cancel()
            raise
        for fut in pending:
            fut.cancel()
        if pending:
            cancel.set()
        for fut in done:
            fut.result()

    join_segments(job, overwrite=overwrite, keep_parts=keep_parts)
    return RenderResult(job.output, job.total, time.perf_counter() - t0, job.info)


def join_segments(job: ChunkJob, *, overwrite: bool = False, keep_parts: bool = False) -> None:
    """Join the finished segments losslessly (stream copy; the audio added here) into the output, written
    under a temporary name and renamed; the work folder is removed unless ``keep_parts``."""
    _join([job.segment_path(i) for i in range(len(job.plan.ranges))], job.output, job.settings, overwrite,
          job.ffmpeg)
    if not keep_parts:
        shutil.rmtree(job.parts, ignore_errors=True)


def _join(seg_paths: list[Path], out_p: Path, settings: EncodeSettings, overwrite: bool, ffmpeg: str | None) -> None:
    listing = seg_paths[0].parent / "concat.txt"
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in seg_paths))
    tmp = partial_name(out_p)
    cmd = [find_ffmpeg(ffmpeg), "-v", "error", "-nostdin", "-f", "concat", "-safe", "0", "-i", str(listing)]
    if settings.audio is not None:
        cmd += [*settings.audio_input_args(), "-map", "0:v:0", "-map", "1:a:0?", "-shortest", "-c:v", "copy",
                *settings.audio_args(out_p)]
    else:
        cmd += ["-c", "copy"]
    cmd += ["-y", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            msg = _ffmpeg_error([ln.encode() for ln in proc.stderr.splitlines()], proc.returncode, out_p)
            raise RenderError(f"joining the segments failed: {msg}")
        if out_p.exists() and not overwrite:
            raise FileExistsError(f"output {str(out_p)!r} appeared during the render; the result is not moved")
        os.replace(tmp, out_p)
    finally:
        tmp.unlink(missing_ok=True)
