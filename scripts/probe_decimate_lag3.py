"""Probe (not shipped): lag-3 templates on moving TUNING footage, where the copies are plain frame by frame.

Each seed draws a tuning case as the benchmark's generator does (:func:`vsrestore.testing.casegen.draw_case` on
``TUNING_SOURCES``, always with repeats) and gives every segment one random template that has a lag-3 copy
(:func:`~vsrestore.testing.casegen.random_template`); the decimator's accuracy, its token errors and the templates
it learned are printed with the AUC of the lag-3 copies against new frames (whole-frame distance). Fifteenth
session, issue 17: the reporting set's lag-3 failures (copies plain, AUC 1.0, decisions 0.80-0.83 right) have
this kind of case as their tuning-side likeness; ``benchmarks/results/decimate.md`` says what it showed.

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_decimate_lag3.py 300 324
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import vapoursynth as vs

from vsrestore.decimate import analyze
from vsrestore.decimate.metrics import split
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import CaseSpec, build_case, draw_case, random_template
from vsrestore.testing.filmgen import accuracy
from vsrestore.testing.separation import copy_auc


def lag3_case(seed: int) -> CaseSpec:
    """A tuning case with repeats (seed ``seed``) whose segments all follow one template with a lag-3 copy."""
    rng = np.random.default_rng([seed, 7919])
    spec = draw_case(rng, sets._sources(sets.TUNING_SOURCES), seed=seed, no_repeat_share=0.0)
    trng = np.random.default_rng([seed, 31])
    tokens = random_template(trng)
    while 3 not in tokens:
        tokens = random_template(trng)
    return dataclasses.replace(spec, segments=[dataclasses.replace(s, pattern=tokens) for s in spec.segments])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("first", type=int)
    ap.add_argument("end", type=int)
    args = ap.parse_args()
    accs = []
    for seed in range(args.first, args.end):
        spec = lag3_case(seed)
        case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
        clip = case.clip()
        yuv = clip if clip.format.color_family == vs.YUV else vs.core.resize.Point(clip, format=vs.YUV420P8)
        an = analyze(vs.core.std.AssumeFPS(yuv, fpsnum=spec.fps, fpsden=1), sidecar=False, progress=False)
        lag, film = np.asarray(case.cadence.lag), np.asarray(case.cadence.film)
        whole = split(an.metrics)[1][:, 2]
        copies = lag == 3
        new = (lag == 0) & np.r_[np.zeros(3, dtype=bool), film[3:] != film[:-3]]
        auc = copy_auc(whole[copies], whole[new])
        acc = accuracy(an.kept, case.cadence)
        accs.append(acc)
        wrong = int((np.asarray(an.tokens) != lag).sum())
        c = spec.conditions
        print(f"{seed} {spec.source} {spec.kind} {spec.segments[0].tokens()} {c.width}x{c.height} lv "
              f"{c.black:.0f}-{c.white:.0f} grain {c.grain:.1f} crf {c.crf:.0f}: accuracy {acc:.3f}, token errors "
              f"{wrong}, lag-3 AUC {auc:.3f}, learned {an.templates}", flush=True)
    print(f"mean accuracy {np.mean(accs):.4f} over {len(accs)} cases")


if __name__ == "__main__":
    main()
