"""Probe (issue 17, tuning side only): does a dense optical flow tell copies from new frames in nearly still
footage?

For each TUNING-side case of a group, every transfer frame that is new or a copy of the frame before it: the
plain mean difference of the two (luma at 320 wide, levels normalised, Gaussian 1 px) less the difference left
after warping the earlier one onto it by OpenCV's DIS flow (``resid_ratio``: how much of the difference motion
explains; copies differ by grain, which no flow explains), beside the shipped lag-1 metrics (motion agreement,
distance over noise). Prints each case's AUC (new frames scoring higher) and the means.

Run:  OMP_NUM_THREADS=1 .venv/bin/python scripts/probe_decimate_denseflow.py still|natural [CASES]
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import vapoursynth as vs

from vsrestore.decimate.metrics import MetricParams, compute_metrics
from vsrestore.interpolate.denseflow import import_cv2
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import CaseSpec, build_case

core = vs.core
cv2: Any = import_cv2()  # untyped here: OpenCV's stubs lack some of what is used
WIDTH = 320


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a ``pos`` value exceeds a ``neg`` one (NaN if either is empty)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = np.concatenate([pos, neg]).argsort().argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def ranks(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a.argsort().argsort() / max(1, len(a) - 1)


def frames(clip: vs.VideoNode) -> list[np.ndarray]:
    h = max(16, round(clip.height * WIDTH / clip.width / 2) * 2)
    y = core.resize.Bilinear(core.std.ShufflePlanes(clip, 0, vs.GRAY), WIDTH, h, format=vs.GRAYS)
    out = []
    for f in y.frames(close=True):
        a = np.asarray(f[0]).copy()
        lo, hi = np.percentile(a, [0.5, 99.5])
        out.append(cv2.GaussianBlur(np.clip((a - lo) / max(hi - lo, 1e-3), 0, 1), (0, 0), 1.0))
    return out


def case_aucs(spec: CaseSpec, dis: Any) -> dict[str, float]:
    case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
    clip = case.clip()
    lags = MetricParams().lags
    m, _ = compute_metrics(clip, MetricParams(), progress=False)
    fr = frames(clip)
    h, w = fr[0].shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    feats: dict[str, list[float]] = {"plain": [], "resid_ratio": [], "m_agree": [], "m_distn": []}
    copy: list[bool] = []
    e = 8  # border left out
    for n in range(1, len(fr)):
        lag = case.cadence.lag[n]
        if lag > 1:
            continue
        a8, b8 = (np.clip(x * 255, 0, 255).astype(np.uint8) for x in (fr[n - 1], fr[n]))
        flow = dis.calc(b8, a8, None)
        warped = cv2.remap(fr[n - 1], gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)
        plain = float(np.abs(fr[n] - fr[n - 1])[e:-e, e:-e].mean())
        feats["plain"].append(plain)
        feats["resid_ratio"].append(plain - float(np.abs(fr[n] - warped)[e:-e, e:-e].mean()))
        agree = m[n, 2 * lags + 1]
        feats["m_agree"].append(float(agree) if np.isfinite(agree) else 0.0)
        feats["m_distn"].append(float(m[n, 0] / max(1e-6, 0.5 * (m[n, 2 * lags] + m[n - 1, 2 * lags]))))
        copy.append(lag == 1)
    is_copy = np.array(copy)
    combos = {"agree+dist": ranks(feats["m_agree"]) + ranks(feats["m_distn"]),
              "combo": ranks(feats["resid_ratio"]) + ranks(feats["m_agree"])}
    values = {**{k: np.asarray(v) for k, v in feats.items()}, **combos}
    return {k: auc(v[~is_copy], v[is_copy]) for k, v in values.items()}


def main() -> int:
    groups = {"still": lambda: [s for s in sets.tuning_set() if s.seed in sets.TUNING_STILL_SEEDS],
              "natural": sets.tuning_natural_set}
    if len(sys.argv) < 2 or sys.argv[1] not in groups:
        print("usage: probe_decimate_denseflow.py still|natural [CASES]", file=sys.stderr)
        return 2
    specs = groups[sys.argv[1]]()[: int(sys.argv[2]) if len(sys.argv) > 2 else None]
    cv2.setNumThreads(1)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    rows = []
    for spec in specs:
        r = case_aucs(spec, dis)
        rows.append(r)
        print(spec.seed, spec.source, " ".join(f"{k} {v:.3f}" for k, v in r.items()), flush=True)
    print("MEAN", " ".join(f"{k} {np.nanmean([r[k] for r in rows]):.3f}" for k in rows[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
