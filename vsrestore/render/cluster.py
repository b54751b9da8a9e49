"""Rendering a film across a Ray cluster: each segment of a chunked render is one Ray task.

The plan, the resume rules and the segment renderer are those of :mod:`.chunked` (``--jobs``): the driver (the
machine running ``vsrestore``) probes the script, cuts the range into segments and keeps the segments of an
earlier run of the same plan; each missing segment becomes a Ray task that renders it with
:func:`~.chunked.render_segment` (vspipe ``--start/--end`` into ffmpeg) on whichever node Ray picks (one GPU per
task where the cluster has GPUs, else ``cpus`` CPUs); the driver checks every segment's frame count and joins
them losslessly as ``--jobs`` does.

What travels with the tasks, by value (one copy in Ray's object store): the script and every ``-a`` value that
names a file of at most :data:`SHIP_LIMIT` bytes (the decimator's sidecar and override file, small tables). A
worker uses its own file when the same path holds the same bytes there, else a private copy in a temporary
folder. Bigger files (the film itself, model weights) must be at the same path on every node (NFS, or a copy).

Where the segments go: with ``work_dir`` (a folder every node sees at the same path) workers write them there
and the driver reads them in place; without one, a worker encodes into its own temporary folder and the bytes
come back through the object store into ``.NAME.parts`` beside the output.

Faults: a worker or node that dies has its segment retried on another (Ray's ``max_retries``); a segment that
fails :data:`SEGMENT_ATTEMPTS` times stops the render with that segment's own error; Ctrl-C cancels every task
(each stops its vspipe and ffmpeg and removes its half-written file); finished segments stay for the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.files import atomic_write, check_output, process_alive
from ..core.progress import Progress
from .chunked import ChunkJob, count_frames, join_segments, plan_chunks, render_segment
from .encode import EncodeSettings
from .render import RenderError, RenderResult, files_read
from .tools import ScriptInfo, probe_script

__all__ = [
    "AUTO",
    "EXTRA_HINT",
    "SEGMENT_ATTEMPTS",
    "SHIP_LIMIT",
    "STARTUP_FRAMES",
    "ClusterError",
    "ClusterResult",
    "SegmentReport",
    "default_segment_frames",
    "import_ray",
    "render_cluster",
]

#: ``--cluster auto``: $RAY_ADDRESS when set, else a Ray started on this machine for the run
AUTO = "auto"
#: how to get Ray, in a user's terms
EXTRA_HINT = "pip install 'vsrestore[cluster]'"
#: tries of one segment (the first and two retries) before the render stops with its error
SEGMENT_ATTEMPTS = 3
#: ``-a`` files up to this many bytes travel with the tasks (64 MiB); bigger ones must be on every node
SHIP_LIMIT = 64 * 2**20
#: a segment's fixed cost (script start-up, edge frames re-read, encoder start) in frames of rendering: the cost
#: model of benchmarks/cluster.py measured 42 for a Degrain2 chain with x264 and about 35 for the silent_film
#: preset (BENCHMARKS.md "Many machines"); it sets the default segment length
STARTUP_FRAMES = 40
_POLL_S = 0.5  # driver: how often progress is gathered
_REPORT_S = 0.5  # worker: at most one progress message this often
_VERBOSE_S = 5.0  # driver: per-node lines this often with verbose
_TMP_PREFIX = "vsrestore-segment-"  # a task's temporary folder: vsrestore-segment-PID-<random suffix>


class ClusterError(RenderError):
    """The cluster render failed: Ray missing or unreachable, or a segment failed all its tries."""


def import_ray() -> Any:
    """The ``ray`` module; :class:`ClusterError` naming the extra when it is not installed."""
    try:
        import ray
    except ImportError:
        raise ClusterError(
            f"--cluster needs Ray, which is not installed in this Python ({sys.executable}): {EXTRA_HINT} "
            f"(the 'cluster' extra), on this machine and on every node of the cluster"
        ) from None
    return ray


def default_segment_frames(total: int, workers: int, startup_frames: float = STARTUP_FRAMES) -> int:
    """Frames per segment for ``workers`` segments at once over ``total`` frames.

    A segment costs ``startup_frames + L`` frames of work (its fixed cost, then its frames); the last wave of
    segments leaves workers idle for about half a segment. The wall time
    ``T(L) = (total / workers) * (1 + startup_frames / L) + L / 2`` is least at
    ``L = sqrt(2 * total * startup_frames / workers)``; it is capped so that every worker gets a segment and a
    lost segment costs at most 2000 frames of work.
    """
    if total < 1 or workers < 1:
        raise ValueError(f"total={total} and workers={workers} must be at least 1")
    best = math.sqrt(2.0 * total * startup_frames / workers)
    return max(1, min(int(round(best)), math.ceil(total / workers), 2000))


@dataclass(frozen=True)
class _Shipped:
    """A file sent by value: the driver's path, its bytes and their SHA-1."""

    path: str
    data: bytes
    sha1: str

    @staticmethod
    def of(path: Path) -> _Shipped:
        data = path.read_bytes()
        return _Shipped(str(path.resolve()), data, hashlib.sha1(data).hexdigest())

    def materialise(self, folder: Path) -> Path:
        """The driver's path when it holds the same bytes on this node, else a copy (same name) in ``folder``."""
        own = Path(self.path)
        try:
            if own.is_file() and own.stat().st_size == len(self.data) and \
                    hashlib.sha1(own.read_bytes()).hexdigest() == self.sha1:
                return own
        except OSError:
            pass
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / own.name
        copy.write_bytes(self.data)
        return copy


@dataclass(frozen=True)
class _Bundle:
    """Everything a segment task needs besides its frame range (put into the object store once)."""

    script: _Shipped
    args: dict[str, str]
    files: dict[str, _Shipped]  #: -a key -> the file it names, sent by value
    settings: EncodeSettings  #: video only: the audio is added at the join
    info: ScriptInfo
    output_index: int
    ffmpeg: str | None
    suffix: str


def _bundle(job: ChunkJob) -> _Bundle:
    files: dict[str, _Shipped] = {}
    for key, value in job.args.items():
        p = Path(value).expanduser()
        if value and p.is_file() and p.stat().st_size <= SHIP_LIMIT:
            files[key] = _Shipped.of(p)
    return _Bundle(_Shipped.of(job.script), dict(job.args), files, job.video_only, job.info, job.output_index,
                   job.ffmpeg, job.output.suffix)


@dataclass(frozen=True)
class _Done:
    index: int
    node: str
    seconds: float
    data: bytes | None  #: the segment's bytes when there is no shared work folder


def _node_name(ray: Any) -> str:
    return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:6]}"


def _remove_stale_folders() -> None:
    """Remove the temporary folders of segment tasks whose process is gone (a node killed mid-segment)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*-*"):
        pid = folder.name.removeprefix(_TMP_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _segment_task(bundle: _Bundle, index: int, first: int, last: int, dest: str | None, tally: Any) -> _Done:
    """One Ray task: render frames ``first..last`` into ``dest`` (the shared work folder) or, without one, into a
    temporary file whose bytes are returned."""
    import ray

    node = _node_name(ray)
    ray.get(tally.started.remote(index, node))  # waited for: a try killed a moment later still counts
    t0 = last_sent = time.perf_counter()

    def on_frames(done: int) -> None:
        nonlocal last_sent
        now = time.perf_counter()
        if now - last_sent >= _REPORT_S:
            last_sent = now
            tally.progress.remote(index, done)

    _remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-") as tmp:
        folder = Path(tmp)
        script = bundle.script.materialise(folder / "script")
        args = dict(bundle.args)
        for key, shipped in bundle.files.items():
            args[key] = str(shipped.materialise(folder / f"arg-{key}"))
        out = Path(dest) if dest is not None else folder / f"segment-{index:05d}{bundle.suffix}"
        render_segment(script, out, first, last, args=args, settings=bundle.settings, info=bundle.info,
                       output_index=bundle.output_index, ffmpeg=bundle.ffmpeg, on_frames=on_frames)
        data = None if dest is not None else out.read_bytes()
    tally.progress.remote(index, last - first + 1)
    return _Done(index, node, time.perf_counter() - t0, data)


class _Tally:
    """A Ray actor on the driver's node: which node runs each segment, its tries and its frames done."""

    def __init__(self) -> None:
        self.frames: dict[int, int] = {}
        self.nodes: dict[int, str] = {}
        self.starts: dict[int, int] = {}

    def started(self, index: int, node: str) -> None:
        self.starts[index] = self.starts.get(index, 0) + 1
        self.nodes[index] = node
        self.frames[index] = 0

    def progress(self, index: int, done: int) -> None:
        self.frames[index] = done

    def snapshot(self) -> tuple[dict[int, int], dict[int, str], dict[int, int]]:
        return dict(self.frames), dict(self.nodes), dict(self.starts)


@dataclass(frozen=True)
class SegmentReport:
    """What happened to one segment: its frames, the node that rendered it, wall seconds and retries."""

    index: int
    first: int
    last: int
    node: str  #: ``host/node-id`` ("" when reused)
    seconds: float
    retries: int
    reused: bool = False  #: finished by an earlier run and kept

    def line(self) -> str:
        head = f"segment {self.index:3d} (frames {self.first}..{self.last})"
        if self.reused:
            return f"{head}: reused (finished by an earlier run)"
        return f"{head}: node {self.node}, {self.seconds:.1f} s, {self.retries} retries"


@dataclass
class ClusterResult:
    """A cluster render: the file written, the cluster's address and size, and one report per segment."""

    render: RenderResult
    address: str
    nodes: int
    workers: int  #: segments the cluster runs at once
    segment_frames: int
    segments: list[SegmentReport] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The cluster in one line, then one line per segment (node, seconds, retries)."""
        return [f"cluster: {self.address}: {self.nodes} nodes, {self.workers} segments at once, "
                f"{self.segment_frames} frames per segment", *(f"  {s.line()}" for s in self.segments)]


def _connect(ray: Any, address: str) -> tuple[bool, str]:
    """Join the cluster at ``address`` (``auto``: $RAY_ADDRESS, else a Ray started here for the run).

    :returns: whether this call joined (so must leave, and stop a Ray it started), and the address in words.
    """
    if ray.is_initialized():  # a program that joined a cluster itself: it stays joined
        return False, "the cluster this program joined"
    target = (os.environ.get("RAY_ADDRESS") or None) if address == AUTO else address
    kw: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR, "configure_logging": True}
    try:
        if target is None:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            ray.init(address="local", include_dashboard=False, **kw)
            return True, "a Ray started on this machine for the run"
        ray.init(address=target, **kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"--cluster {address}" + (f" (RAY_ADDRESS={target})" if address == AUTO else "")
        raise ClusterError(
            f"cannot reach a Ray cluster at {where}: {str(e).splitlines()[0] if str(e) else type(e).__name__}; "
            f"start one with `ray start --head` (README: Many machines) or give its address as HEAD:6379"
        ) from None
    return True, str(target)


def _parts_folder(work_dir: Path | None, output: Path) -> Path | None:
    if work_dir is None:
        return None
    tag = hashlib.sha1(str(output.resolve()).encode()).hexdigest()[:10]
    return work_dir / f".{output.name}.{tag}.parts"


def _failure(ray: Any, job: ChunkJob, index: int, err: BaseException) -> ClusterError:
    a, b = job.plan.ranges[index]
    cause = getattr(err, "cause", None) if isinstance(err, ray.exceptions.RayTaskError) else None
    if isinstance(cause, RenderError | ValueError | OSError):
        why = str(cause)
    elif isinstance(err, ray.exceptions.RayTaskError):
        why = str(cause or err).strip().splitlines()[-1]
    else:  # the worker process or its node died every time
        why = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'no message'}"
    return ClusterError(f"segment {index} (frames {a}..{b}) failed {SEGMENT_ATTEMPTS} times; the last error: "
                        f"{why}. The finished segments are kept: run the same command again to go on")


def _cancel(ray: Any, refs: list[Any]) -> None:
    """Ask every running task to stop (KeyboardInterrupt in the task: it stops vspipe and ffmpeg and removes its
    half-written file), wait a little for them, then kill the stragglers."""
    for ref in refs:
        with contextlib.suppress(Exception):  # a finished or lost task: nothing to stop
            ray.cancel(ref, force=False)
    if refs:
        _, left = ray.wait(refs, num_returns=len(refs), timeout=15)
        for ref in left:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)


def render_cluster(
    script: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    address: str = AUTO,
    work_dir: str | os.PathLike[str] | None = None,
    args: dict[str, str] | None = None,
    settings: EncodeSettings | None = None,
    start: int | None = None,
    end: int | None = None,
    segment_frames: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    verbose: bool = False,
    keep_parts: bool = False,
    ffmpeg: str | None = None,
    output_index: int = 0,
    cpus: float = 1.0,
    gpus: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> ClusterResult:
    """Render a script in segments as Ray tasks across a cluster, then join them losslessly here.

    Parameters as :func:`~.chunked.render_chunked`, plus:

    :param address: the cluster's head (``HOST:6379``; this machine must be a node of it) or ``auto``
        ($RAY_ADDRESS when set, else a Ray started on this machine for the run and stopped after it).
    :param work_dir: a folder every node sees at the same path (NFS): segments are written there. Default: none;
        segments come back through Ray's object store into ``.NAME.parts`` beside the output.
    :param segment_frames: frames per segment; default :func:`default_segment_frames` for the cluster's size.
    :param verbose: print, every few seconds, what each node is rendering.
    :param cpus: CPUs one segment task asks for (default 1; tasks also get a GPU each when ``gpus``).
    :param gpus: one GPU per task; default: when the cluster has GPUs.
    :param echo: where verbose lines go (default stderr).
    :raises ClusterError: Ray missing or unreachable, or a segment failed :data:`SEGMENT_ATTEMPTS` times (with
        its error); the finished segments are kept for the next run.
    """
    script_p, out_p = Path(script), Path(output)
    settings = settings or EncodeSettings()
    args = dict(args or {})
    say = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    wd = Path(work_dir).expanduser().resolve() if work_dir is not None else None
    if wd is not None and not wd.is_dir():
        raise ValueError(f"--work-dir {str(work_dir)!r} is not a folder; give a folder every node sees at the "
                         f"same path (an NFS mount), or leave --work-dir out")
    if cpus <= 0:
        raise ValueError(f"cpus={cpus} must be more than 0")
    ray = import_ray()
    check_output(out_p, overwrite, files_read(script_p, args, settings))
    info = probe_script(script_p, args, output_index)  # a broken script fails here, before Ray starts
    t0 = time.perf_counter()
    joined, where = _connect(ray, address)
    try:
        res = ray.cluster_resources()
        use_gpus = bool(res.get("GPU", 0) >= 1) if gpus is None else gpus
        workers = max(1, int(res.get("GPU", 0)) if use_gpus else int(res.get("CPU", 1) // cpus))
        nodes = len([n for n in ray.nodes() if n.get("Alive")])
        first = 0 if start is None else start
        last = info.frames - 1 if end is None else end
        seg = segment_frames or default_segment_frames(max(1, last - first + 1), workers)
        job = plan_chunks(script_p, out_p, args=args, settings=settings, start=start, end=end, segment_frames=seg,
                          overwrite=overwrite, ffmpeg=ffmpeg, output_index=output_index,
                          parts=_parts_folder(wd, out_p), info=info)
        result = ClusterResult(RenderResult(out_p, job.total, 0.0, info), where, nodes, workers, seg)
        todo = job.todo()
        result.segments += [SegmentReport(i, *job.plan.ranges[i], "", 0.0, 0, reused=True)
                            for i in range(len(job.plan.ranges)) if i not in todo]
        _run(ray, job, todo, result, wd is not None, use_gpus, cpus, progress, verbose, say)
        join_segments(job, overwrite=overwrite, keep_parts=keep_parts)
    finally:
        if joined:
            ray.shutdown()
    result.segments.sort(key=lambda r: r.index)
    result.render = RenderResult(out_p, job.total, time.perf_counter() - t0, info)
    return result


def _run(ray: Any, job: ChunkJob, todo: list[int], result: ClusterResult, shared: bool, use_gpus: bool,
         cpus: float, progress: bool, verbose: bool, say: Callable[[str], None]) -> None:
    """Submit one task per segment to do, follow them with one progress bar, store and check each result."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    tally = ray.remote(num_cpus=0)(_Tally).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote()
    task = ray.remote(_segment_task).options(
        num_cpus=cpus, num_gpus=1 if use_gpus else 0, max_retries=SEGMENT_ATTEMPTS - 1, retry_exceptions=True)
    bundle = ray.put(_bundle(job))
    refs = {task.remote(bundle, i, *job.plan.ranges[i], str(job.segment_path(i)) if shared else None, tally): i
            for i in todo}
    pending = list(refs)
    already = job.total - sum(job.frames(i) for i in todo)
    finished: set[int] = set()
    label = f"render {job.output.name} ({len(todo)}/{len(job.plan.ranges)} segments on {result.workers} workers)"
    last_verbose = time.perf_counter()
    with Progress(job.total, label, enabled=progress) as bar:
        bar.update(already)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=len(pending), timeout=_POLL_S, fetch_local=False)
                frames, nodes, starts = ray.get(tally.snapshot.remote())
                for ref in ready:
                    i = refs[ref]
                    try:
                        done: _Done = ray.get(ref)
                    except ray.exceptions.RayError as e:
                        raise _failure(ray, job, i, e) from None
                    _store(job, i, done)
                    finished.add(i)
                    a, b = job.plan.ranges[i]
                    report = SegmentReport(i, a, b, done.node, done.seconds, max(0, starts.get(i, 1) - 1))
                    result.segments.append(report)
                    if verbose:
                        say(f"\r{report.line()}")
                bar.update(already + sum(job.frames(i) if i in finished else min(n, job.frames(i))
                                         for i, n in frames.items()))
                if verbose and time.perf_counter() - last_verbose >= _VERBOSE_S:
                    last_verbose = time.perf_counter()
                    for i in sorted(set(nodes) - finished):
                        a, b = job.plan.ranges[i]
                        say(f"\rnode {nodes[i]}: segment {i} (frames {a}..{b}) {frames.get(i, 0)}/{b - a + 1} "
                            f"frames, try {starts.get(i, 1)}")
        except BaseException:  # a failed segment, Ctrl-C or SIGTERM: stop every task still running
            _cancel(ray, pending)
            raise
        finally:
            ray.kill(tally)


def _store(job: ChunkJob, i: int, done: _Done) -> None:
    """Keep a finished segment (its bytes written atomically, unless a worker wrote it into the shared work
    folder) and check that ffmpeg counts exactly its frames here."""
    path = job.segment_path(i)
    if done.data is not None:
        atomic_write(path, done.data)
    frames = count_frames(path, job.ffmpeg)
    if frames != job.frames(i):
        path.unlink(missing_ok=True)
        a, b = job.plan.ranges[i]
        where = "in the work folder" if done.data is None else "as received"
        raise ClusterError(f"segment {i} (frames {a}..{b}) from node {done.node} holds {frames} frames {where}, "
                           f"not {b - a + 1}; is --work-dir the same folder on every node? Run the command again "
                           f"to render it anew")
