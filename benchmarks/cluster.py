"""Rendering across a Ray cluster against ``--jobs`` and one job, and the cost model of a segment.

Usage: ``.venv/bin/python benchmarks/cluster.py [--loops 2] [--out benchmarks/results/cluster.md]``
(needs the 'cluster' extra: ``pip install -e '.[cluster]'``).

1. The cost of one segment against its length L (``T(L) = a + b L``), split into the script's start-up
   (``vspipe --info``), the frames re-read at its edges and the pipeline's start (vspipe to /dev/null from the
   middle of the film, minus the start-up), and the encoder (the same segment through
   :func:`~vsrestore.render.chunked.render_segment`, vspipe into ffmpeg x264), for the benchmark chain
   (``benchmarks/cluster_chain.vpy``: the bundled sample through MVTools Degrain2) and for the shipped
   ``silent_film`` preset on the sample. ``c = a / b`` (the fixed cost in frames of rendering) sets the default
   segment length (:func:`~vsrestore.render.cluster.default_segment_frames`).
2. The same render three ways, each a ``vsrestore render`` command: one job, ``--jobs 2`` and ``--cluster`` on a
   2-node Ray cluster on this machine (1 CPU each, started before and not counted, as a real cluster is already
   running), with the same segment length for the last two; their framemd5 must agree (the same segments).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vsrestore.core.source import sample_path
from vsrestore.presets import preset_path
from vsrestore.render import EncodeSettings, find_vspipe, probe_script
from vsrestore.render.chunked import render_segment
from vsrestore.render.cluster import default_segment_frames
from vsrestore.render.tools import find_ffmpeg, script_args
from vsrestore.testing.ray_cluster import LocalCluster

HERE = Path(__file__).resolve().parent
CHAIN = HERE / "cluster_chain.vpy"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def fit(lengths: list[int], seconds: list[float]) -> tuple[float, float]:
    """Least-squares ``seconds = a + b * length``."""
    b, a = np.polyfit(np.array(lengths, float), np.array(seconds, float), 1)
    return float(a), float(b)


def cost_model(script: Path, args: dict[str, str], lengths: list[int], offset: int, work: Path) -> dict[str, object]:
    """Time segments of ``lengths`` frames starting at ``offset``: start-up, script only, and with the encoder."""
    startup = timed([find_vspipe(), "--info", *script_args(args), str(script), "-"])
    info = probe_script(script, args)
    bare, enc = [], []
    for n in lengths:
        bare.append(timed([find_vspipe(), "-c", "y4m", *script_args(args), "-s", str(offset), "-e",
                           str(offset + n - 1), str(script), os.devnull]))
        t0 = time.perf_counter()
        render_segment(script, work / "seg.mkv", offset, offset + n - 1, args=args, settings=EncodeSettings(),
                       info=info)
        enc.append(time.perf_counter() - t0)
    a_bare, b_bare = fit(lengths, bare)
    a_enc, b_enc = fit(lengths, enc)
    return {"startup": startup, "lengths": lengths, "bare": bare, "enc": enc, "a_bare": a_bare, "b_bare": b_bare,
            "a": a_enc, "b": b_enc, "edge": a_bare - startup, "enc_start": a_enc - a_bare,
            "enc_frame": b_enc - b_bare, "c": a_enc / b_enc if b_enc > 0 else float("inf"), "frames": info.frames}


def framemd5(path: Path) -> list[str]:
    out = subprocess.run([find_ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f",
                          "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [ln.split(",")[-1].strip() for ln in out.splitlines() if ln and not ln.startswith("#")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=2, help="sample film repeats in the chain (default 2: 486 frames)")
    ap.add_argument("--out", type=Path, help="write the results as markdown here")
    ap.add_argument("--skip-preset", action="store_true", help="no silent_film cost model (it is slow)")
    ap.add_argument("--repeat", type=int, default=1, help="renders of each kind, in rotated order (default 1)")
    opts = ap.parse_args()
    args = {"loops": str(opts.loops)}
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vsr-cluster-bench-") as tmp:
        work = Path(tmp)
        models = {"chain (Degrain2)": cost_model(CHAIN, args, [10, 40, 160], 200, work)}
        if not opts.skip_preset:
            sample = str(sample_path())
            models["silent_film preset"] = cost_model(preset_path("silent_film"), {"input": sample}, [2, 6], 100,
                                                      work)
        say("## Segment cost model: T(L) = a + b L seconds (L frames, starting mid-film)")
        say()
        say("| chain | L | script only s | with x264 s |")
        say("|---|---|---|---|")
        for name, m in models.items():
            for n, t1, t2 in zip(m["lengths"], m["bare"], m["enc"], strict=True):  # type: ignore[call-overload]
                say(f"| {name} | {n} | {t1:.2f} | {t2:.2f} |")
        say()
        say("| chain | start-up s | edge + pipe start s | encoder start s | script s/frame | x264 s/frame | a s | "
            "b s/frame | c = a/b frames |")
        say("|---|---|---|---|---|---|---|---|---|")
        for name, m in models.items():
            say(f"| {name} | {m['startup']:.2f} | {m['edge']:.2f} | {m['enc_start']:.2f} | {m['b_bare']:.4f} | "
                f"{m['enc_frame']:.4f} | {m['a']:.2f} | {m['b']:.4f} | {m['c']:.0f} |")
        say()
        chain = models["chain (Degrain2)"]
        total = int(chain["frames"])  # type: ignore[call-overload]
        seg = default_segment_frames(total, 2, float(chain["c"]))  # type: ignore[arg-type]
        say(f"Default segment length for this chain, {total} frames on 2 workers: {seg} frames "
            f"(sqrt(2 F c / N) = {np.sqrt(2 * total * float(chain['c']) / 2):.0f}, capped at F/N).")  # type: ignore[arg-type]
        say()

        cluster = LocalCluster(cpus=1, store_mb=200)
        try:
            base = [sys.executable, "-m", "vsrestore.cli.main", "render", str(CHAIN), "-a", f"loops={opts.loops}",
                    "--no-progress", "-y"]
            runs = {
                "one job": [*base, "-o", str(work / "one.mkv")],
                "--jobs 2": [*base, "-o", str(work / "jobs.mkv"), "--jobs", "2", "--segment-frames", str(seg)],
                "--cluster (2 nodes)": [*base, "-o", str(work / "cluster.mkv"), "--cluster", cluster.address,
                                        "--segment-frames", str(seg)],
            }
            points: dict[str, list[float]] = {name: [] for name in runs}
            order = list(runs)
            for r in range(opts.repeat):  # rotated, so a change of the machine's load hits every kind alike
                for name in order[r % 3:] + order[:r % 3]:
                    points[name].append(timed(runs[name], cluster.env))
            times = {name: float(np.median(ts)) for name, ts in points.items()}
        finally:
            cluster.stop()
        same = framemd5(work / "jobs.mkv") == framemd5(work / "cluster.mkv")
        say(f"## {total} frames of the chain (x264 crf 16 medium), segments of {seg} frames")
        say()
        say(f"| render | median wall s of {opts.repeat} | runs s | fps | vs --jobs 2 |")
        say("|---|---|---|---|---|")
        for name, t in times.items():
            runs_s = ", ".join(f"{x:.1f}" for x in points[name])
            say(f"| {name} | {t:.1f} | {runs_s} | {total / t:.1f} | {t / times['--jobs 2'] - 1:+.1%} |")
        say()
        say(f"Ray cluster start (2 nodes, not counted above): {cluster.start_seconds:.1f} s. "
            f"--cluster and --jobs 2 decode to the same frames (framemd5): {same}.")
        say(f"Benchmark wall time: {time.perf_counter() - t_all:.0f} s.")
    if opts.out:
        opts.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
