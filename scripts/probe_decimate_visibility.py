"""Probe (not shipped): how visible were a case's copies, frame by frame, in the decimator's own measures?

For every case of a set of ``vsrestore.testing.decimate_sets`` with repeats, and every lag k with at least four
copies: the AUC of copies (true lag k) against new film frames for the top-block and whole-frame distances
between frame n and n-k and for the motion agreement (the chance that a copy is closer, or agrees less, than a new
frame: 0.5 means no trace left in that measure, 1 fully separable), beside the decimator's accuracy. Run it
after a version is chosen: it explains failures, it tunes nothing (fifteenth session, issue 17).

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_decimate_visibility.py reporting reporting-b
"""

from __future__ import annotations

import argparse

import numpy as np
import vapoursynth as vs

from vsrestore.decimate import analyze
from vsrestore.decimate.metrics import agreement, split
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import build_case
from vsrestore.testing.filmgen import accuracy
from vsrestore.testing.separation import copy_auc

SETS = {"reporting": sets.reporting_set, "reporting-b": sets.reporting_b_set, "local": sets.tuning_local_set,
        "natural": sets.tuning_natural_set, "tuning": sets.tuning_set}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", choices=sorted(SETS))
    args = ap.parse_args()
    print("| case | conditions | lag | copies | top | whole | agreement | accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        for spec in SETS[name]():
            if spec.kind == "none":
                continue
            case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
            clip = case.clip()
            yuv = clip if clip.format.color_family == vs.YUV else vs.core.resize.Point(clip, format=vs.YUV420P8)
            an = analyze(vs.core.std.AssumeFPS(yuv, fpsnum=spec.fps, fpsden=1), sidecar=False, progress=False)
            top, whole, _ = split(an.metrics)
            agr = agreement(an.metrics)
            lag, film = np.asarray(case.cadence.lag), np.asarray(case.cadence.film)
            c = spec.conditions
            about = (f"{spec.source} {c.width}x{c.height} lv {c.black:.0f}-{c.white:.0f} grain {c.grain:.1f} "
                     f"(shared {c.grain_shared:.2f}) weave {c.weave:.2f} crf {c.crf:.0f}")
            acc = accuracy(an.kept, case.cadence)
            for k in range(1, top.shape[1] + 1):
                copies = lag == k
                if copies.sum() < 4:
                    continue
                new = (lag == 0) & (np.r_[np.zeros(k, dtype=bool), film[k:] != film[:-k]])
                cells = [copy_auc(x[copies, k - 1], x[new, k - 1]) for x in (top, whole, agr)]
                print(f"| {name} {spec.seed} | {about} | {k} | {int(copies.sum())} | "
                      + " | ".join(f"{v:.3f}" for v in cells) + f" | {acc:.3f} |", flush=True)


if __name__ == "__main__":
    main()
