"""The silent_film preset at 720x540 -> 1440x1080 on the CPU: cost of each stage, start-up, and the final picture
against the truth, for this checkout and (``--base DIR``) another checkout of vsrestore side by side in one run.

Usage::

    .venv/bin/python benchmarks/pipeline.py --base /path/to/other/checkout [--frames 12] [--quality-frames 24]
        [--steady 48 --warmup 24 --repeats 1] [--steady-stages] [--memory-frames 12] [--variant NAME=VALUE]
        [--skip-stages] [--out benchmarks/results/pipeline.md]

The input is a transfer of known truth made by :mod:`vsrestore.testing.filmgen` from real footage never used to
tune anything here (``ffc4``: 1920x1080 25 fps camera footage; the centre 1440x1080 is the truth, in colour):
film frames at 16 fps, shown AAB at 24 fps (the ``held`` pattern), each copy with its own grain, dust, flicker
and weave, H.264 at 720x540 in black and white. It is made once and kept in ``$VSRESTORE_CACHE/bench``.

* **Start-up**: wall seconds of ``vspipe --info`` on the preset (script evaluation: imports, graph building,
  anything that renders frames while the graph is built), median of ``--startup-runs``, with the decimator's
  analysis already in its sidecar cache (it is made by a first evaluation that is not counted).
* **Stages**: each stage output of the preset (numbered outputs 1..N, then the final output 0) is pulled through
  ``vspipe`` (no encoding) in a fresh process, for as many of its frames as the first ``--frames`` output frames
  need (every stage output is on the final 24 fps timeline). Each run includes the start-up and every stage
  before it; the difference in CPU seconds (user + system: steadier than wall time on a shared machine) between
  consecutive stages, divided by the output frames, is the stage's own cost per output frame, and its share of
  the total.
  Small frame counts over-weight temporal warm-ups (the colouriser's stabilisation needs ~25 film frames first).
* **Steady state** (``--steady``): the final output's frames ``warmup .. warmup + steady - 1`` timed in one
  process after rendering the first ``warmup`` (start-up and temporal warm-ups out), wall and CPU seconds and
  peak RSS, each checkout (and ``--variant``) ``--repeats`` times, interleaved (base, new, base, new ...), the
  median kept. ``--steady-stages`` does the same for every stage output of the new checkout (cumulative costs).
* **Peak memory at 2K** (``--memory-frames``): peak RSS of ``vspipe`` rendering the first frames of a 1024x576
  transfer made the same way from the whole ffc4 picture (output 2048x1152).
* **Quality**: the first ``--quality-frames`` output frames of the final output against the truth at the same
  instant (output frame k at 24 fps is the source frame nearest k/24 s): PSNR of luma (BT.709 Y of RGB) and of
  RGB, and SSIM of luma, in a fresh process per checkout. The final stage adds random grain, the same for both.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import vapoursynth as vs

ROOT = Path(__file__).resolve().parent.parent
PRESET = "presets/silent_film.vpy"
SIZE = (720, 540)  # transfer size; the truth is twice that
SOURCE_FPS = 25.0
FILM_FPS = 16.0
SECONDS = 3.0  # of film in the transfer: 48 film frames, 72 transfer frames
START = 125  # first source frame used (ffc4 opens with a fade from black that ends at frame 115)
STAGE_NAMES = ["source", "decimated", "levels", "cleaned", "colour", "smooth", "upscaled"]


def transfer_path() -> Path:
    """The benchmark's 720x540 transfer (made on first use from ``ffc4``)."""
    from vsrestore.core.source import cache_dir

    return cache_dir() / "bench" / f"ffc4_{START}_held_720x540.mkv"


def truth_clip():  # type: ignore[no-untyped-def]
    """The truth: ``ffc4``'s centre 1440x1080 in colour from source frame ``START`` on, at its own 25 fps
    (RGBS)."""
    import vapoursynth as vs

    from vsrestore.core.source import load_source
    from vsrestore.testing.media import registry_clip

    core = vs.core
    src = load_source(registry_clip("ffc4"))
    crop = core.std.CropAbs(src, 2 * SIZE[0], 2 * SIZE[1], left=(src.width - 2 * SIZE[0]) // 2,
                            top=(src.height - 2 * SIZE[1]) // 2)
    return core.resize.Bicubic(crop[START:], format=vs.RGBS, matrix_in_s="709")


def make_transfer() -> Path:
    """Write the transfer (once): film frames at 16 fps from the truth's luma at 720x540, ``held`` cadence,
    film look, H.264 crf 19."""
    path = transfer_path()
    if path.is_file():
        return path
    import vapoursynth as vs

    luma = vs.core.resize.Bicubic(truth_clip()[: _count()], SIZE[0], SIZE[1], format=vs.GRAYS, matrix_s="709")
    return _held_transfer(luma, "ffc4_held", 22, path)


def _count() -> int:
    """Source frames a transfer is made from."""
    return int(SECONDS * SOURCE_FPS) + 2


def _held_transfer(luma: vs.VideoNode, name: str, seed: int, path: Path) -> Path:
    """Film frames at FILM_FPS from the GRAYS clip ``luma``, ``held`` cadence, film look, H.264 crf 19."""
    from vsrestore.testing.filmgen import Segment, encode_h264, make_case

    frames = np.stack([np.asarray(f[0]).copy() for f in luma.frames(close=True)]).clip(0.0, 1.0)
    case = make_case(name, frames, [Segment("held", int(SECONDS * FILM_FPS))], source_fps=SOURCE_FPS,
                     film_fps=FILM_FPS, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode_h264(case.frames, path, fps=24, crf=19)


SIZE_2K = (1024, 576)  # the memory check's transfer: ffc4 whole, scaled; the preset makes 2048x1152 of it


def make_transfer_2k() -> Path:
    """A 1024x576 transfer (ffc4's whole picture scaled, same cadence and film look) for the 2K memory check:
    the preset doubles it to 2048x1152. Made once, kept beside the main transfer."""
    from vsrestore.core.source import cache_dir

    path = cache_dir() / "bench" / f"ffc4_{START}_held_{SIZE_2K[0]}x{SIZE_2K[1]}.mkv"
    if path.is_file():
        return path
    import vapoursynth as vs

    from vsrestore.core.source import load_source
    from vsrestore.testing.media import registry_clip

    src = load_source(registry_clip("ffc4"))[START:]
    luma = vs.core.resize.Bicubic(src[: _count()], SIZE_2K[0], SIZE_2K[1], format=vs.GRAYS, matrix_in_s="709")
    return _held_transfer(luma, "ffc4_held_2k", 23, path)


def peak_memory(co: Checkout, args: list[str], frames: int) -> tuple[float, float]:
    """(peak resident memory in MiB, wall s) of ``vspipe`` rendering the first ``frames`` final frames."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([vspipe(), "-e", str(frames - 1), *args, str(co.script), "--"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=co.env(), cwd="/")
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"vspipe {co.script} failed:\n{err.decode(errors='replace')[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t0


@dataclass
class Checkout:
    """A vsrestore checkout to measure: its folder (its preset and package are used)."""

    label: str
    root: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env

    @property
    def script(self) -> Path:
        return self.root / PRESET


def vspipe() -> str:
    return str(Path(sys.executable).with_name("vspipe"))


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of a command, which must succeed. The CPU time does not grow
    when other jobs share the cores, so it is the steadier figure on a busy machine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd="/")
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def outputs_info(co: Checkout, args: list[str]) -> dict[int, int]:
    """Frame count of every output, by index, from one ``vspipe --info`` (it lists them all)."""
    proc = subprocess.run([vspipe(), "--info", *args, str(co.script), "-"], capture_output=True, text=True,
                          env=co.env(), cwd="/")
    if proc.returncode != 0:
        raise SystemExit(f"vspipe --info {co.script} failed:\n{proc.stderr[-2000:]}")
    frames: dict[int, int] = {}
    index = 0
    for line in proc.stdout.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "Output Index":
            index = int(value)
        elif key == "Frames":
            frames[index] = int(value)
    return frames


def startup(co: Checkout, args: list[str], runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``vspipe --info`` (script evaluation)."""
    cmd = [vspipe(), "--info", *args, str(co.script), "-"]
    got = [run_measured(cmd, co.env()) for _ in range(runs)]
    return statistics.median(w for w, _ in got), statistics.median(c for _, c in got)


def stages(co: Checkout, args: list[str], frames: int) -> list[tuple[str, float, float]]:
    """(stage, cumulative wall s, cumulative CPU s), start-up included, for the first ``frames`` output frames,
    stage by stage."""
    counts = outputs_info(co, args)
    total = counts[0]
    outputs = [(k, counts[k]) for k in sorted(counts) if k > 0] + [(0, total)]
    result = []
    for k, n_k in outputs:
        n = min(n_k, math.ceil(frames * n_k / total) + 1)
        wall, cpu = run_measured([vspipe(), "-o", str(k), "-e", str(n - 1), *args, str(co.script), "--"], co.env())
        name = "final" if k == 0 else (STAGE_NAMES[k - 1] if k - 1 < len(STAGE_NAMES) else f"#{k}")
        result.append((name, wall, cpu))
    return result


def quality(co: Checkout, args: list[str], frames: int) -> dict[str, float]:
    """Quality of the final output against the truth, measured in a fresh process with the checkout's code."""
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--_quality={co.script}", f"--_qframes={frames}",
           *(f"--_qarg={v}" for v in args[1::2])]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=co.env(), cwd="/")
    if proc.returncode != 0:
        raise SystemExit(f"quality run failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _quality_child(script: str, frames: int, args: list[str]) -> None:
    """(child process) Evaluate the preset, render ``frames`` output frames and compare them with the truth."""
    import vapoursynth as vs
    from skimage.metrics import structural_similarity

    from vsrestore.core.source import script_outputs

    core = vs.core
    kv = dict(a.split("=", 1) for a in args)
    t0 = time.perf_counter()
    out = script_outputs(script, kv)[0]
    rgb = core.resize.Bicubic(out, format=vs.RGBS, matrix_in_s="709")
    truth = truth_clip()
    ypsnr, rpsnr, ssim = [], [], []
    wy = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)[:, None, None]
    for k in range(min(frames, out.num_frames)):
        a = np.clip(np.stack([np.asarray(p) for p in rgb.get_frame(k)]), 0, 1)
        b = np.clip(np.stack([np.asarray(p) for p in truth.get_frame(round(k * SOURCE_FPS / 24))]), 0, 1)
        ya, yb = (a * wy).sum(0), (b * wy).sum(0)
        ypsnr.append(-10 * math.log10(float(np.mean((ya - yb) ** 2)) + 1e-12))
        rpsnr.append(-10 * math.log10(float(np.mean((a - b) ** 2)) + 1e-12))
        ssim.append(float(structural_similarity(ya, yb, data_range=1.0)))
    wall = time.perf_counter() - t0
    print(json.dumps({"y_psnr": statistics.mean(ypsnr), "rgb_psnr": statistics.mean(rpsnr),
                      "y_ssim": statistics.mean(ssim), "seconds": wall}))


def steady(co: Checkout, args: list[str], output: int, warmup: int, frames: int) -> dict[str, float]:
    """Steady-state cost of one output of the preset, in a fresh process with the checkout's code: its first
    ``warmup`` frames are rendered and not counted, then the next ``frames`` are timed (wall and CPU seconds of
    the whole process, all threads), with the process's peak resident memory."""
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--_steady={co.script}", f"--_output={output}",
           f"--_warmup={warmup}", f"--_sframes={frames}", *(f"--_qarg={v}" for v in args[1::2])]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=co.env(), cwd="/")
    if proc.returncode != 0:
        raise SystemExit(f"steady-state run failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _steady_child(script: str, output: int, warmup: int, frames: int, args: list[str]) -> None:
    """(child process) Evaluate the preset, render ``warmup`` frames of ``output``, then time ``frames`` more
    (frames requested in order, as many at once as the core has threads, like vspipe)."""
    import resource

    from vsrestore.core.source import script_outputs

    def cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    kv = dict(a.split("=", 1) for a in args)
    node = script_outputs(script, kv)[output]
    end = min(node.num_frames, warmup + frames)
    for _ in node[:warmup].frames(close=True):
        pass
    c0, t0 = cpu(), time.perf_counter()
    for _ in node[warmup:end].frames(close=True):
        pass
    wall, used = time.perf_counter() - t0, cpu() - c0
    n = end - warmup
    print(json.dumps({"frames": n, "wall": wall, "cpu": used, "fps_wall": n / wall, "fps_cpu": n / used,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--base", type=Path, help="another vsrestore checkout to measure side by side (e.g. main)")
    ap.add_argument("--new", type=Path, default=ROOT, help="the checkout measured as 'new' (default: this one)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=VALUE",
                    help="also measure the new checkout with this preset argument (quality and fps only)")
    ap.add_argument("--frames", type=int, default=12, help="final output frames of the stage table (default 12)")
    ap.add_argument("--quality-frames", type=int, default=24,
                    help="output frames compared with the truth (0: no quality table)")
    ap.add_argument("--startup-runs", type=int, default=3, help="vspipe --info runs per checkout (median)")
    ap.add_argument("--skip-stages", action="store_true", help="no per-stage table from the first frames")
    ap.add_argument("--steady", type=int, default=48,
                    help="final frames timed after the warm-up, per checkout (default 48; 0: none)")
    ap.add_argument("--warmup", type=int, default=24, help="final frames rendered before the steady timing")
    ap.add_argument("--repeats", type=int, default=1, help="steady-state runs per checkout, interleaved")
    ap.add_argument("--steady-stages", action="store_true",
                    help="also a steady-state table of every stage output of the new checkout")
    ap.add_argument("--memory-frames", type=int, default=12,
                    help="final frames rendered at 2K (1024x576 -> 2048x1152) for the peak memory (0: skip)")
    ap.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    ap.add_argument("--_quality", help=argparse.SUPPRESS)
    ap.add_argument("--_qframes", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_qarg", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--_steady", help=argparse.SUPPRESS)
    ap.add_argument("--_output", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_warmup", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_sframes", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._steady:
        _steady_child(a._steady, a._output, a._warmup, a._sframes, a._qarg)
        return
    if a._quality:
        _quality_child(a._quality, a._qframes, a._qarg)
        return
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    path = make_transfer()
    args = ["-a", f"input={path}"]
    checkouts = [Checkout(f"new ({a.new})", a.new.resolve())]
    if a.base is not None:
        checkouts.insert(0, Checkout(f"base ({a.base})", a.base.resolve()))
    lines = [f"silent_film at {SIZE[0]}x{SIZE[1]} -> {2 * SIZE[0]}x{2 * SIZE[1]}, 24 fps out; input {path.name} "
             f"(ffc4, held 16 -> 24 fps); CPU threads {os.cpu_count()}; load average at start "
             f"{os.getloadavg()[0]:.1f}", ""]
    print(lines[0])
    for co in checkouts:  # the sidecar (analysis cache) is made here, outside every timing
        run_measured([vspipe(), "--info", *args, str(co.script), "-"], co.env())
    starts = {co.label: startup(co, args, a.startup_runs) for co in checkouts}
    lines += ["| checkout | start-up: vspipe --info wall s | its CPU s (user + system) |", "|---|---|---|"]
    lines += [f"| {label} | {w:.1f} | {c:.1f} |" for label, (w, c) in starts.items()]
    print("\n".join(lines[-len(starts) - 2:]))
    fps: dict[str, str] = {}
    if not a.skip_stages:
        for co in checkouts:
            cum = stages(co, args, a.frames)
            wall_total, cpu_total = cum[-1][1], cum[-1][2]
            fps[co.label] = f"{a.frames / wall_total:.3f} / {a.frames / cpu_total:.3f}"
            lines += ["", f"{co.label}: first {a.frames} output frames, start-up included: {wall_total:.1f} s wall, "
                      f"{cpu_total:.1f} CPU s", "",
                      "| stage | cumulative wall s | cumulative CPU s | stage CPU s per output frame | share of CPU |",
                      "|---|---|---|---|---|"]
            prev = 0.0
            rows = [("start-up", *starts[co.label]), *cum]
            for name, w, c in rows:
                own = c - prev
                lines.append(f"| {name} | {w:.1f} | {c:.1f} | {own / a.frames:.3f} | {100 * own / cpu_total:.0f}% |")
                prev = c
            print("\n".join(lines[-len(rows) - 5:]))
    runs = [(co.label, co, args) for co in checkouts]
    runs += [(f"{checkouts[-1].label} -a {v}", checkouts[-1], [*args, "-a", v]) for v in a.variant]
    if a.steady > 0:
        got: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in runs}
        for _ in range(a.repeats):
            for label, co, run_args in runs:  # interleaved: each repeat measures every checkout once
                got[label].append(steady(co, run_args, 0, a.warmup, a.steady))
        lines += ["", f"Steady state: final output frames {a.warmup}..{a.warmup + a.steady - 1} after rendering "
                  f"frames 0..{a.warmup - 1} in the same process; {a.repeats} run(s) each, interleaved, median; "
                  f"load average now {os.getloadavg()[0]:.1f}", "",
                  "| checkout | fps (wall) | fps per CPU s | CPU s per frame | vs first row (CPU) | peak RSS MiB |",
                  "|---|---|---|---|---|---|"]
        first = None
        for label, rs in got.items():
            fw = statistics.median(r["fps_wall"] for r in rs)
            fc = statistics.median(r["fps_cpu"] for r in rs)
            first = first or fc
            rss = max(r["peak_rss_mib"] for r in rs)
            lines.append(f"| {label} | {fw:.3f} | {fc:.3f} | {1 / fc:.2f} | {fc / first:.2f}x | {rss:.0f} |")
        print("\n".join(lines[-len(got) - 4:]))
    if a.steady_stages:
        co = checkouts[-1]
        counts = outputs_info(co, args)
        lines += ["", f"{co.label}: steady state of every stage output (cumulative: each output renders all stages "
                  f"before it; every stage output is on the final 24 fps timeline, film-rate stages showing each "
                  f"film frame for its duration; CPU time of one run, noisy by +-25% on a shared machine)", "",
                  "| output | stage | frames timed | CPU s per output frame (cumulative) | own CPU s per frame |",
                  "|---|---|---|---|---|"]
        prev = 0.0
        for k in [*sorted(i for i in counts if i > 0), 0]:
            ratio = counts[k] / counts[0]
            r = steady(co, args, k, round(a.warmup * ratio), round(a.steady * ratio))
            per_out = r["cpu"] / r["frames"] * ratio
            name = "final" if k == 0 else (STAGE_NAMES[k - 1] if k - 1 < len(STAGE_NAMES) else f"#{k}")
            lines.append(f"| {k} | {name} | {r['frames']:.0f} | {per_out:.3f} | {per_out - prev:.3f} |")
            prev = per_out
            print(lines[-1])
    if a.memory_frames > 0:
        path2k = make_transfer_2k()
        lines += ["", f"Peak memory at 2K: `vspipe` renders the first {a.memory_frames} final frames of {path2k.name} "
                  f"({SIZE_2K[0]}x{SIZE_2K[1]} -> {2 * SIZE_2K[0]}x{2 * SIZE_2K[1]})", "",
                  "| checkout | peak RSS MiB | wall s |", "|---|---|---|"]
        for co in checkouts:
            mib, wall = peak_memory(co, ["-a", f"input={path2k}"], a.memory_frames)
            lines.append(f"| {co.label} | {mib:.0f} | {wall:.0f} |")
            print(lines[-1])
    if a.quality_frames <= 0:
        if a.out:
            a.out.write_text("\n".join(lines) + "\n")
        return
    lines += ["", f"| checkout | frames per wall s / per CPU s (start-up in) | Y PSNR dB | RGB PSNR dB | Y SSIM | "
              f"({a.quality_frames} frames vs truth) |",
              "|---|---|---|---|---|---|"]
    for label, co, run_args in runs:
        if label not in fps and not a.skip_stages:  # a variant: the final output alone
            wall, cpu = run_measured([vspipe(), "-e", str(a.frames - 1), *run_args, str(co.script), "--"], co.env())
            fps[label] = f"{a.frames / wall:.3f} / {a.frames / cpu:.3f}"
        q = quality(co, run_args, a.quality_frames)
        f = fps.get(label, "-")
        lines.append(f"| {label} | {f} | {q['y_psnr']:.2f} | {q['rgb_psnr']:.2f} | {q['y_ssim']:.4f} | "
                     f"{q['seconds']:.0f} s in-process |")
        print(lines[-1])
    if a.out:
        a.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
