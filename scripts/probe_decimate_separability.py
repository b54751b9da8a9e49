"""Probe (not shipped): is there anything left in a case's frames that tells copies from new frames? Issue 17,
ninth session; the figures are in ``benchmarks/results/decimate.md``.

For each TUNING case (seeds of ``vsrestore.testing.decimate_sets``: 0-29 moving, 100-123 nearly still, 124-139
still camera with one small moving part), the transfer is reduced as the decimator reduces it
(:func:`~vsrestore.decimate.metrics.reduce_clip` at ``--width``, levels per strip, flicker matched), and for
every lag k the 8x8-block squared differences between frame n and n-k are scored three ways:

* ``top``: the decimator's top-block distance (the 15% most different blocks);
* ``all``: the whole frame;
* ``weighted``: blocks weighted by how much they change over +-12 frames (above the frame's median block), so
  a small moving part counts and still areas, which hold only grain, do not; optionally (``--align PX``) the
  earlier frame is first moved onto the later by a global sub-pixel shift of at most ``PX`` reduced pixels (a
  copy differs from its original by gate weave);
* ``agreement``: the decimator's motion agreement (:mod:`vsrestore.decimate.agreement`) with the reference of
  ``--agreement-window`` frames each side and ``--agreement-focus`` (twelfth session; a copy agrees about 0).

It prints, per case and lag, the AUC of copies (true lag k) against new frames: the chance that a copy is
closer than a new frame (0.5: no trace left; 1: fully separable).

With ``--conditions crf=10,grain=0,...`` the case is rendered again with those conditions changed
(:class:`~vsrestore.testing.casegen.Conditions` fields; same seed, template and source), to see which of them
hides the copies.

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_decimate_separability.py 124 127 128 --width 320
      OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_decimate_separability.py 128 --conditions crf=10,grain=0
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import numpy as np

from vsrestore.core.source import load_source
from vsrestore.decimate.metrics import (
    MetricParams,
    _matched,
    _normalise,
    _strip_stats,
    agreement,
    block_errors,
    compute_metrics,
    reduce_clip,
)
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import Conditions, build_case
from vsrestore.testing.separation import copy_auc as auc

LAGS = 3
WINDOW = 12


def aligned(cur: np.ndarray, prev: np.ndarray, limit: float) -> np.ndarray:
    """``prev`` moved by the global shift (at most ``limit`` px each way, two Lucas-Kanade steps) onto ``cur``."""
    for _ in range(2 if limit > 0 else 0):
        gy, gx = np.gradient(prev)
        inner = (slice(2, -2), slice(2, -2))
        a, b, d = gx[inner], gy[inner], (cur - prev)[inner]
        m = np.array([[np.sum(a * a), np.sum(a * b)], [np.sum(a * b), np.sum(b * b)]]) + 1e-6 * np.eye(2)
        dx, dy = np.clip(np.linalg.solve(m, [np.sum(a * d), np.sum(b * d)]), -limit, limit)
        prev = prev + gx * dx + gy * dy
    return prev


def probe(seed: int, width: int, limit: float, conditions: dict[str, Any] | None = None,
          agreement_params: MetricParams | None = None) -> str:
    spec = next(s for s in sets.tuning_set() + sets.tuning_local_set() + sets.tuning_natural_set() if s.seed == seed)
    if conditions:
        spec = dataclasses.replace(spec, conditions=dataclasses.replace(spec.conditions, **conditions))
    case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
    small = reduce_clip(load_source(str(case.path)), MetricParams(width=width))
    planes = [_normalise(np.array(f[0], dtype=np.float32), 4) for f in small.frames(close=True)]
    stats = [_strip_stats(p, 4) for p in planes]
    n = len(planes)
    err: list[list[np.ndarray]] = [[] for _ in range(n)]
    for i in range(LAGS, n):
        for k in range(1, LAGS + 1):
            e = block_errors(planes[i], aligned(planes[i], _matched(planes[i - k], stats[i - k], stats[i]), limit),
                             0.25, 8)
            if e is None:
                raise SystemExit(f"--width {width}: the reduced picture holds no 8x8 block; use 64 or more")
            err[i].append(e)
    lag1 = np.array([err[i][0] for i in range(LAGS, n)])
    scores = {name: np.zeros((n, LAGS)) for name in ("top", "all", "weighted")}
    for i in range(LAGS, n):
        lo, hi = max(0, i - LAGS - WINDOW), min(n - LAGS, i - LAGS + WINDOW + 1)
        change = np.percentile(lag1[lo:hi], 75, axis=0)
        w = np.maximum(change - np.median(change), 0)
        for k, e in enumerate(err[i]):
            top = max(1, round(e.size * 0.15))
            scores["top"][i, k] = np.partition(e, e.size - top)[e.size - top :].mean()
            scores["all"][i, k] = e.mean()
            scores["weighted"][i, k] = (w * e).sum() / w.sum() if w.sum() > 0 else e.mean()
    scores["agreement"] = agreement(
        compute_metrics(load_source(str(case.path)), agreement_params or MetricParams(), progress=False)[0])
    lag = np.asarray(case.cadence.lag)
    parts = []
    for k in range(1, LAGS + 1):
        copies = [i for i in range(LAGS, n) if lag[i] == k]
        new = [i for i in range(LAGS, n) if lag[i] == 0]
        if len(copies) >= 5 and new:
            parts.append(f"lag {k} ({len(copies)} copies): " + " ".join(
                f"{name} {auc(s[copies, k - 1], s[new, k - 1]):.3f}" for name, s in scores.items()
                if np.isfinite(s[copies + new, k - 1]).all()))
    return f"seed {seed} ({spec.source}): " + (" | ".join(parts) or "no repeats")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seeds", type=int, nargs="+", help="tuning seeds (0-29, 100-163)")
    ap.add_argument("--width", type=int, default=160, help="width of the reduced luma, pixels (160: the decimator's)")
    ap.add_argument("--align", type=float, default=0.0, help="largest global shift taken out, reduced pixels")
    ap.add_argument("--conditions", default="", help="render again with these conditions, e.g. crf=10,grain=0")
    ap.add_argument("--agreement-window", type=int, default=MetricParams.agreement_window,
                    help="frames averaged on each side of the motion agreement's reference")
    ap.add_argument("--agreement-focus", type=float, default=MetricParams.agreement_focus,
                    help="weight of each pixel: the reference's local RMS to this power (0: none)")
    args = ap.parse_args()
    fields = {f.name for f in dataclasses.fields(Conditions)} - {"width", "height"}
    changes: dict[str, Any] = {}
    for item in filter(None, args.conditions.split(",")):
        key, _, value = item.partition("=")
        try:
            changes[key] = float(value)
        except ValueError:
            key = ""
        if key not in fields:
            ap.error(f"--conditions {item}: not NAME=NUMBER with NAME one of {', '.join(sorted(fields))}")
    for seed in args.seeds:
        params = MetricParams(agreement_window=args.agreement_window, agreement_focus=args.agreement_focus)
        print(probe(seed, args.width, args.align, changes, params), flush=True)


if __name__ == "__main__":
    main()
