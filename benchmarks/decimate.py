"""Decimation benchmark: vsrestore.decimate vs TDecimate(mode=2, rate=<true rate>) vs VDecimate, in one run.

The sets (:mod:`vsrestore.testing.decimate_sets`):

* ``reporting`` (the figures that count): 40 cases drawn at random from wide ranges (levels, gamma, grain, flicker,
  weave, dust, crf 16-28, 320x240 to 1440x1080; lag 1-3 templates, mixed and switching, jitter, lost frames,
  cuts; about a third with no repeats at all) from sources never tuned on: the 1906 film (its own repeats left
  out), a PAL railway video, a beach, a turning globe. Seeds 5000-5039.
* ``reporting-b``: a second draw of the same (seeds 6000-6039), never tuned on and run once per version.
* ``tuning``: the same generator on other sources (bikes, carphone, a counter, a motorway) and seeds 0-29, and on
  nearly still footage (photographs filmed by a slowly drifting camera, bigbuckbunny's opening) and seeds 100-123;
  the evidence model is fitted on it (``scripts/train_decimator.py``).
* ``legacy``: the first benchmark's nine cases and the bundled sample.
* ``local`` and ``natural``: two more groups on the tuning side, outside the evidence model's training data: a still
  camera with one small moving part (seeds 124-139) and real nearly still footage (a street camera, a talking
  head, a face close-up; seeds 140-163).

Every case is an H.264 file read through the source plugin, as a user's film is. Accuracy = 1 - (film frames
missing + extra frames kept, including kept copies that break the order) / film frames. vsrestore gets no rate;
TDecimate is told the true rate; VDecimate uses its default cycle (drops one frame in five). For cases with no
repeats the share of frames kept is shown too. The calibration table says how often decisions at each
confidence are right.

Usage: OMP_NUM_THREADS=1 python benchmarks/decimate.py [--set reporting reporting-b tuning local natural legacy]
[--out FILE.md]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import vapoursynth as vs

from vsrestore.decimate import analyze
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import build_case
from vsrestore.testing.filmgen import Cadence, accuracy

core = vs.core
TOOLS = ("vsrestore", "TDecimate", "VDecimate")


@dataclass
class Row:
    name: str
    about: str
    frames: int
    film: int
    none: bool
    acc: dict[str, float] = field(default_factory=dict)
    kept: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    source: str = ""
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    right: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    named: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # inside a range the report names


def _hash(f: vs.VideoFrame) -> str:
    return hashlib.sha1(np.ascontiguousarray(np.asarray(f[0])).tobytes()).hexdigest()


def _kept_by_hash(out: vs.VideoNode, hashes: dict[str, int]) -> list[int]:
    return [k for k in (hashes.get(_hash(f), -1) for f in out.frames(close=True)) if k >= 0]


def run_case(name: str, about: str, clip: vs.VideoNode, cad: Cadence, fps: int, none: bool) -> Row:
    """Decimate ``clip`` with the three tools and score them against the truth."""
    yuv = clip if clip.format.color_family == vs.YUV else core.resize.Point(clip, format=vs.YUV420P8)
    yuv = core.std.AssumeFPS(yuv, fpsnum=fps, fpsden=1)
    hashes = {_hash(f): i for i, f in enumerate(yuv.frames(close=True))}
    row = Row(name, about, len(cad), cad.film_count(), none)
    n = len(cad)
    t0 = time.perf_counter()
    an = analyze(yuv, sidecar=False, progress=False)
    row.seconds["vsrestore"] = time.perf_counter() - t0
    kept = an.kept
    row.acc["vsrestore"], row.kept["vsrestore"] = accuracy(kept, cad), len(kept) / n
    truth_new = np.asarray(cad.lag) == 0
    row.confidence = np.asarray(an.confidence)
    row.right = (np.asarray(an.tokens) == 0) == truth_new
    row.named = np.zeros(n, dtype=bool)
    for a, b in an.review():
        row.named[a : b + 1] = True
    rate = float(cad.rate(fps))
    # told a rate equal to the input's (no repeats), TDecimate has nothing to drop: the input is its answer
    for tool, node in (("TDecimate", lambda: core.tivtc.TDecimate(yuv, mode=2, rate=rate) if rate < fps else yuv),
                       ("VDecimate", lambda: core.vivtc.VDecimate(yuv))):
        t0 = time.perf_counter()
        try:
            kept = _kept_by_hash(node(), hashes)
        except vs.Error as e:  # TDecimate mode 2 can refuse a case ("unable to achieve a completely synced result")
            print(f"  {tool} refused {name}: {e}", flush=True)
            row.acc[tool], row.kept[tool] = float("nan"), float("nan")
            continue
        row.seconds[tool] = time.perf_counter() - t0
        row.acc[tool], row.kept[tool] = accuracy(kept, cad), len(kept) / n
    return row


def reporting_rows(specs: Sequence[sets.CaseSpec], label: str) -> list[Row]:
    rows = []
    for spec in specs:
        case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
        c = spec.conditions
        tpl = "none" if spec.kind == "none" else "/".join(sorted({s.name() for s in spec.segments}))[:28]
        about = (f"{spec.source} {c.width}x{c.height} lv {c.black:.0f}-{c.white:.0f} g{c.gamma:.1f} "
                 f"grain {c.grain:.1f} fl {c.flicker * 100:.0f}% crf {c.crf:.0f}; {spec.kind} {tpl}")
        row = run_case(f"{label} {spec.seed}", about, case.clip(), case.cadence, spec.fps, spec.kind == "none")
        row.source = spec.source
        _print_row(row)
        rows.append(row)
    return rows


def legacy_rows() -> list[Row]:
    import json

    from vsrestore.core.source import load_source, sample_path

    rows = []
    for i, (name, *_rest) in enumerate(sets.LEGACY):
        case = sets.legacy_case(i)
        clip = core.resize.Point(case.clip(vs.GRAY8), format=vs.YUV420P8)
        row = run_case(name, "bikes 640x272, first benchmark's look, crf 20", clip, case.cadence, 24, False)
        _print_row(row)
        rows.append(row)
    truth = json.loads(sample_path().with_name("sample_bw24.truth.json").read_text())
    cad = Cadence(film=truth["film"], lag=truth["lag"], segment=truth["segment"], lost=truth["lost"])
    row = run_case("bundled sample_bw24.mkv", "mixed, crf 21, BestSource", load_source(sample_path()), cad, 24, False)
    _print_row(row)
    rows.append(row)
    return rows


HEADER = ("| case | conditions | frames | film | " + " | ".join(f"{t} acc" for t in TOOLS)
          + " | kept (no-repeat cases) | vsrestore s |")
SEP = "|---|---|---|---|" + "---|" * len(TOOLS) + "---|---|"


def _line(r: Row) -> str:
    kept = " / ".join(f"{r.kept[t]:.3f}" for t in TOOLS) if r.none else ""
    return (f"| {r.name} | {r.about} | {r.frames} | {r.film} | " + " | ".join(f"{r.acc[t]:.3f}" for t in TOOLS)
            + f" | {kept} | {r.seconds['vsrestore']:.1f} |")


def _print_row(r: Row) -> None:
    print(_line(r), flush=True)


def summary(rows: list[Row], label: str) -> list[str]:
    out = [f"**{label}**: {len(rows)} cases, {sum(r.none for r in rows)} without repeats", "",
           "| | " + " | ".join(TOOLS) + " |", "|---|" + "---|" * len(TOOLS)]
    # a tool that refused a case scores 0 there (it gave the user no answer); the refusals are counted
    accs = {t: np.nan_to_num(np.array([r.acc[t] for r in rows]), nan=0.0) for t in TOOLS}
    out.append("| mean accuracy | " + " | ".join(f"**{accs[t].mean():.3f}**" for t in TOOLS) + " |")
    out.append("| worst case | " + " | ".join(f"{accs[t].min():.3f}" for t in TOOLS) + " |")
    out.append("| 10th percentile | " + " | ".join(f"{np.percentile(accs[t], 10):.3f}" for t in TOOLS) + " |")
    out.append("| cases >= 0.95 | " + " | ".join(f"{int((accs[t] >= 0.95).sum())}/{len(rows)}" for t in TOOLS) + " |")
    out.append("| cases refused | " + " | ".join(str(sum(1 for r in rows if np.isnan(r.acc[t]))) for t in TOOLS) + " |")
    nr = [r for r in rows if r.none]
    if nr:
        out.append("| no-repeat cases: least kept | "
                   + " | ".join(f"{np.nanmin([r.kept[t] for r in nr]):.3f}" for t in TOOLS) + " |")
    conf = np.concatenate([r.confidence for r in rows])
    right = np.concatenate([r.right for r in rows])
    out += ["", f"vsrestore confidence calibration ({label}): share of decisions right, by confidence", "",
            "| confidence | decisions | right |", "|---|---|---|"]
    for lo, hi in ((0.99, 1.01), (0.9, 0.99), (0.5, 0.9), (0.0, 0.5)):
        sel = (conf >= lo) & (conf < hi)
        share = f"{right[sel].mean():.4f}" if sel.any() else "-"
        out.append(f"| {lo:g}-{min(hi, 1):g} | {int(sel.sum())} | {share} |")
    sel = conf >= 0.9
    out.append(f"| >= 0.9 (all) | {int(sel.sum())} | {right[sel].mean():.4f} |" if sel.any() else "")
    named = np.concatenate([r.named for r in rows])
    wrong = ~right
    named_nr = np.concatenate([r.named for r in nr]) if nr else np.zeros(0, dtype=bool)
    covered, total = int((wrong & named).sum()), int(wrong.sum())
    tail = f" ({named_nr.mean():.1%} in the no-repeat cases)" if nr else ""
    out += ["", f"vsrestore wrong decisions inside a range its report names for a check ({label}): "
            f"{covered} of {total} ({covered / max(total, 1):.1%}); input frames named: {named.mean():.1%}{tail}"]
    return out


def speed_720(frames: int) -> float:
    """vsrestore analysis speed (frames per second) on a 720x540 transfer held in memory."""
    from vsrestore.testing.filmgen import to_clip

    src = sets.bikes_luma()
    big = core.resize.Bicubic(to_clip(src), 720, 540)
    clip = core.std.Splice([big] * (frames // big.num_frames + 1))[:frames]
    clip = core.resize.Point(clip, format=vs.YUV420P8)
    t0 = time.perf_counter()
    analyze(clip, sidecar=False, progress=False)
    return frames / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="vsrestore decimate benchmark")
    ap.add_argument("--set", nargs="+", default=["reporting", "legacy"],
                    choices=["reporting", "reporting-b", "tuning", "local", "natural", "legacy"])
    ap.add_argument("--limit", type=int, default=0, help="only the first N cases of each generated set")
    ap.add_argument("--out", default=None, help="also write the tables to this markdown file")
    ap.add_argument("--speed-frames", type=int, default=1000)
    args = ap.parse_args(argv)
    core.max_cache_size = 2048
    text = ["# Decimation benchmark", "",
            f"Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/decimate.py --set {' '.join(args.set)}"
            + (f" --limit {args.limit}" if args.limit else "") + (f" --out {args.out}`" if args.out else "`"), "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores (shared), "
            f"VapourSynth {core.core_version.release_major}, Python {platform.python_version()}", "",
            (__doc__ or "").split("\n\n")[2].replace("\n", " "), ""]
    summaries: list[str] = []
    for which in args.set:
        print(f"== {which}")
        print(HEADER)
        print(SEP)
        if which == "legacy":
            rows = legacy_rows()
        else:
            specs = {"reporting": sets.reporting_set, "reporting-b": sets.reporting_b_set, "tuning": sets.tuning_set,
                     "local": sets.tuning_local_set, "natural": sets.tuning_natural_set}[which]()
            rows = reporting_rows(specs[: args.limit or None], which)
        label = {"reporting": "reporting set (never tuned on)",
                 "reporting-b": "reporting set, second draw (seeds 6000-6039, never tuned on, run once)",
                 "tuning": "tuning set (the model is fitted on it)",
                 "local": "local group (tuning side, not in the model's training data: a still camera, one small "
                          "moving part)",
                 "natural": "natural group (tuning side, not in the model's training data: real nearly still footage, "
                            "small natural motion)",
                 "legacy": "legacy set (the first benchmark's cases; its regime is in the tuning data)"}[which]
        summ = summary(rows, label)
        print("\n".join(summ), flush=True)
        text += [f"## {label}", "", HEADER, SEP, *[_line(r) for r in rows], ""]
        summaries += [*summ, ""]
    fps = speed_720(args.speed_frames)
    speed = f"vsrestore analysis speed at 720x540 ({args.speed_frames} frames, in-memory source): {fps:.1f} fps"
    print(speed)
    text = text[:8] + ["## Summary", "", *summaries, speed, ""] + text[8:]
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("\n".join(text) + "\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
