"""The silent_film preset on the bundled sample: speed of each stage, the whole render, memory, --jobs 2.

Usage: .venv/bin/python benchmarks/pipeline.py [--frames N] [--preset silent_film]

Each stage output of the preset (numbered outputs 1..N, then the final output 0) is pulled through vspipe with
no encoding (``vspipe -o K script --``) in a fresh process: the time includes every stage before it, so the
table shows how the cost adds up along the chain. The script's start-up (imports, model loading, the cached
analysis; measured with ``vspipe --info``) is subtracted for the fps column and shown on its own. Peak memory
is the maximum resident set of that vspipe process (os.wait4). Then the final output is rendered into ffmpeg
(x264) once as one job and once as ``--jobs 2`` segments, and the speedup is printed.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vsrestore.presets import preset_path
from vsrestore.render import probe_script
from vsrestore.render.tools import find_vspipe


def run_measured(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="silent_film")
    ap.add_argument("--frames", type=int, default=48, help="frames of each output to render (from frame 0)")
    args = ap.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    script = preset_path(args.preset)
    vspipe = find_vspipe()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("VSRESTORE_CACHE", str(Path(tmp) / "cache"))
        outputs = []
        k = 1
        while True:  # find the stage outputs and their sizes
            try:
                info = probe_script(script, output=k)
            except ValueError:
                break
            outputs.append((k, info))
            k += 1
        outputs.append((0, probe_script(script, output=0)))
        print(f"{script.name}: sample, first {args.frames} frames of each output; CPU threads {os.cpu_count()}")
        startup, _ = run_measured([vspipe, "--info", str(script), "-"])
        print(f"script start-up (evaluation, model loading): {startup:.1f} s")
        print(f"{'output':>6} {'stage':>12} {'size':>10} {'frames':>7} {'seconds':>8} {'fps':>7} {'peak MiB':>9}")
        names = ["source", "decimated", "levels", "cleaned", "colour", "smooth"]
        for k, info in outputs:
            n = min(args.frames, info.frames)
            wall, rss = run_measured([vspipe, "-o", str(k), "-e", str(n - 1), str(script), "--"])
            name = "final" if k == 0 else (names[k - 1] if k - 1 < len(names) else f"#{k}")
            fps = n / max(wall - startup, 1e-3)
            print(f"{k:>6} {name:>12} {info.width:>4}x{info.height:<5} {n:>7} {wall:8.1f} {fps:7.2f} {rss:9.0f}")
        final = outputs[-1][1]
        n = min(args.frames, final.frames)
        base = [sys.executable, "-m", "vsrestore.cli.main", "render", str(script), "--end", str(n - 1),
                "--no-progress", "-y"]
        one, rss1 = run_measured([*base, "-o", str(Path(tmp) / "one.mkv")])
        two, rss2 = run_measured([*base, "-o", str(Path(tmp) / "two.mkv"), "--jobs", "2", "--segment-frames",
                                  str((n + 1) // 2)])
        print(f"render to x264, {n} frames: 1 job {one:.1f} s ({n / one:.2f} fps); --jobs 2 {two:.1f} s "
              f"({n / two:.2f} fps); speedup {one / two:.2f}x")


if __name__ == "__main__":
    main()
