"""Copy evidence: for every frame n and lag k, how much more likely "frame n shows the same film frame as frame
n-k" is than "they show different film frames", as a log-likelihood ratio.

A repeat is a frame markedly closer to frame n-k than the film's own frame-to-frame differences around it.
Every feature is therefore a *relative* distance (log ratio), so dark, low-contrast, grainy or soft footage is
judged on its own scale:

Each comes from two distances (:mod:`vsrestore.decimate.metrics`): over the blocks that differ most (motion
of a small object) and over the whole frame (strong grain averaged away):

1. against the local median and upper quartile of the same lag (a dip below the film's motion);
2. against the other lags of the same frame (a copy at lag 2 is closer to n-2 than to n-1, which film motion
   never makes it);
3. against the two neighbours at the same lag (a dip, not a slow passage);
4. against the local floor of all distances;
5. the local spread of the lag (two levels, copies and film motion, or one);
6. against the two frames' own noise (two copies differ by their grain and compression alone: a near-repeat
   of a clean video, still 1 grey level apart, is not a copy).

A small logistic model per lag (:class:`EvidenceModel`, ``vsrestore/models/decimate_evidence.json``) turns the
features into the log-likelihood ratio. It is fitted by ``scripts/train_decimator.py`` on the *tuning* set of
:mod:`vsrestore.testing.decimate_sets` (real footage made into transfers with random conditions) and on real
footage without repeats; the decimation benchmark reports on a disjoint set of seeds and source clips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vsrestore.decimate.metrics import lags_of, split

__all__ = ["EvidenceModel", "design", "evidence", "features", "labels"]

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "decimate_evidence.json"
_FLOOR = 1e-5  # smallest distance taken into account (log scale)


def _rolling_quantiles(v: np.ndarray, half: int, qs: list[float]) -> np.ndarray:
    """Quantiles ``qs`` of ``v`` in a window of +-``half`` frames around each frame, shape (len(qs), N)."""
    pad = np.concatenate([np.full(half, np.nan), v, np.full(half, np.nan)])
    win = sliding_window_view(pad, 2 * half + 1)
    with np.errstate(all="ignore"):
        out = np.nanquantile(win, qs, axis=1)
    return np.asarray(out).reshape(len(qs), v.size)


NF = 7  # features per distance


def features(m: np.ndarray, window: int = 12) -> np.ndarray:
    """Features (N, L, 14) of every frame and lag from :func:`~vsrestore.decimate.metrics.compute_metrics`'s
    distances and noise (N, 3L + 1): seven of the top-block distances, seven of the whole-frame ones."""
    top, whole, noise = split(m)
    n, lags = top.shape
    nz = np.log(np.maximum(np.nan_to_num(noise, nan=1e-3), _FLOOR))
    floor = np.full((n, lags), np.nan)
    for k in range(1, lags + 1):  # the distance two copies of frame n and n-k would have: their noise
        floor[k:, k - 1] = 0.5 * np.logaddexp(2 * nz[k:], 2 * nz[:-k])
    return np.concatenate([_features(top, floor, window), _features(whole, floor, window)], axis=-1)


def _features(m: np.ndarray, noise_floor: np.ndarray, window: int) -> np.ndarray:
    n, lags = m.shape
    lm = np.log(np.maximum(m, _FLOOR))
    lm[~np.isfinite(m)] = np.nan
    with np.errstate(all="ignore"):
        fill = np.nanmedian(lm, axis=0) if np.isfinite(lm).any() else np.zeros(lags)
    fill = np.where(np.isfinite(fill), fill, 0.0)
    lmf = np.where(np.isfinite(lm), lm, fill[None, :])
    floor = _rolling_quantiles(lmf.min(axis=1), 2 * window, [0.1])[0]
    out = np.empty((n, lags, NF))
    for k in range(lags):
        q25, q50, q75 = _rolling_quantiles(lmf[:, k], window, [0.25, 0.5, 0.75])
        x = lmf[:, k]
        others = np.delete(lmf, k, axis=1)
        nearest_other = others.min(axis=1) if others.shape[1] else x
        prev = np.r_[x[:1], x[:-1]]
        nxt = np.r_[x[1:], x[-1:]]
        near_noise = np.nan_to_num(x - noise_floor[:, k], nan=0.0)
        out[:, k] = np.stack([x - q50, x - q75, x - nearest_other, x - np.minimum(prev, nxt), x - floor,
                              q75 - q25, near_noise], axis=1)
    return out


def design(f: np.ndarray) -> np.ndarray:
    """The logistic model's inputs: the features (bounded), the squares of the first three of each distance
    where negative, 1."""
    x = np.clip(f, -6.0, 6.0)
    sq = np.minimum(np.concatenate([x[..., :3], x[..., NF : NF + 3]], axis=-1), 0.0) ** 2
    return np.concatenate([x, sq, np.ones(x.shape[:-1] + (1,))], axis=-1)


def labels(film: list[int] | np.ndarray, lags: int) -> np.ndarray:
    """Truth (N, L): frame n shows the same film frame as frame n-k."""
    f = np.asarray(film)
    y = np.zeros((f.size, lags), dtype=bool)
    for k in range(1, lags + 1):
        y[k:, k - 1] = f[k:] == f[:-k]
    return y


@dataclass(frozen=True)
class EvidenceModel:
    """Per-lag logistic weights over :func:`design` and the training set's prior log-odds of a copy per lag.

    Lags beyond those trained use the last lag's weights.
    """

    weights: tuple[tuple[float, ...], ...]
    prior: tuple[float, ...]
    window: int = 12
    trained_on: str = ""

    @staticmethod
    @cache
    def default() -> EvidenceModel:
        """The shipped model (``vsrestore/models/decimate_evidence.json``)."""
        return EvidenceModel.load(MODEL_PATH)

    @staticmethod
    def load(path: str | Path) -> EvidenceModel:
        data = json.loads(Path(path).read_text())
        return EvidenceModel(tuple(tuple(float(v) for v in w) for w in data["weights"]),
                             tuple(float(p) for p in data["prior"]), int(data.get("window", 12)),
                             str(data.get("trained_on", "")))

    def save(self, path: str | Path) -> None:
        text = json.dumps({"format": "vsrestore.decimate.evidence", "window": self.window,
                           "weights": [list(w) for w in self.weights], "prior": list(self.prior),
                           "trained_on": self.trained_on}, indent=1)
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(path)

    def key(self) -> str:
        """A short fingerprint (part of the sidecar's decision key)."""
        import hashlib

        return hashlib.sha1(repr((self.weights, self.prior, self.window)).encode()).hexdigest()[:12]


def evidence(m: np.ndarray, model: EvidenceModel | None = None, clip_llr: float = 8.0) -> np.ndarray:
    """Log-likelihood ratio copy/different (N, L) per frame and lag from the distances (N, 2L + 1), bounded by
    ``clip_llr``; 0 where n-k < 0."""
    mdl = model or EvidenceModel.default()
    x = design(features(m, mdl.window))
    lags = lags_of(m)
    e = np.zeros((m.shape[0], lags))
    for k in range(lags):
        j = min(k, len(mdl.weights) - 1)
        e[:, k] = x[:, k] @ np.asarray(mdl.weights[j]) - mdl.prior[j]
    e = np.clip(np.nan_to_num(e), -clip_llr, clip_llr)
    e[~np.isfinite(m[:, :lags])] = 0.0
    return e
