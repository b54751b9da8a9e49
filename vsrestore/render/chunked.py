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
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..core.files import atomic_write, check_output, partial_name, remove_stale_partials
from ..core.progress import Progress
from .encode import EncodeSettings
from .render import RenderError, RenderResult, _ffmpeg_error, files_read, render
from .tools import ScriptInfo, find_ffmpeg, probe_script

__all__ = ["ChunkPlan", "count_frames", "render_chunked"]


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
    script_p, out_p = Path(script), Path(output)
    settings = settings or EncodeSettings()
    args = dict(args or {})
    if jobs < 1:
        raise ValueError(f"jobs={jobs} must be at least 1")
    check_output(out_p, overwrite, files_read(script_p, args, settings))
    info = probe_script(script_p, args, output_index)
    first = 0 if start is None else start
    last = info.frames - 1 if end is None else end
    if not 0 <= first <= last < info.frames:
        raise ValueError(f"frame range {first}..{last} is outside the script's 0..{info.frames - 1}")
    plan = ChunkPlan.make(first, last, segment_frames)
    if settings.audio is not None and first > 0 and info.fps > 0:  # the audio of the frames rendered
        settings = replace(settings, audio_start=settings.audio_start + float(first / info.fps))
    video_only = replace(settings, audio=None, audio_start=0.0)
    parts = out_p.with_name(f".{out_p.name}.parts")
    parts.mkdir(exist_ok=True)
    manifest = parts / "manifest.json"
    key = _fingerprint(script_p, args, video_only, info, plan, output_index)
    for stale in parts.glob(".segment-*.partial-*"):  # segments of a killed run (their process is gone)
        remove_stale_partials(stale.with_name(stale.name.split(".partial-")[0][1:] + stale.suffix))
    old = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if old.get("key") != key:  # a different plan: nothing in the folder can be reused
        for f in parts.glob("segment-*"):
            f.unlink()
    atomic_write(manifest, json.dumps({"key": key, "script": str(script_p), "args": args, "ranges": plan.ranges}))

    suffix = out_p.suffix
    seg_paths = [parts / f"segment-{i:05d}{suffix}" for i in range(len(plan.ranges))]
    todo = [
        i for i, (a, b) in enumerate(plan.ranges)
        if not (seg_paths[i].is_file() and count_frames(seg_paths[i], ffmpeg) == b - a + 1)
    ]
    total = last - first + 1
    already = total - sum(plan.ranges[i][1] - plan.ranges[i][0] + 1 for i in todo)
    t0 = time.perf_counter()
    lock = threading.Lock()
    cancel = threading.Event()
    live: dict[int, int] = {}
    bar = Progress(total, f"render {out_p.name} ({len(todo)}/{len(plan.ranges)} segments to do)", enabled=progress)
    bar.update(already)

    def report(i: int, done: int) -> None:
        with lock:
            live[i] = done
            bar.update(already + sum(live.values()))

    def run_segment(i: int) -> None:
        a, b = plan.ranges[i]
        seg_paths[i].unlink(missing_ok=True)
        render(script_p, seg_paths[i], args=args, settings=video_only, start=a, end=b, progress=False,
               ffmpeg=ffmpeg, output_index=output_index, info=info, on_frames=lambda d: report(i, d),
               cancel=cancel)
        frames = count_frames(seg_paths[i], ffmpeg)
        if frames != b - a + 1:
            seg_paths[i].unlink(missing_ok=True)
            raise RenderError(f"segment {i} ({a}..{b}) holds {frames} frames instead of {b - a + 1}")
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

    _join(seg_paths, out_p, settings, overwrite, ffmpeg)
    if not keep_parts:
        shutil.rmtree(parts, ignore_errors=True)
    return RenderResult(out_p, total, time.perf_counter() - t0, info)


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
