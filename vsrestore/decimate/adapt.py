"""Copy evidence calibrated on the clip itself, from the decoder's own first decisions.

The evidence model (:mod:`vsrestore.decimate.evidence`) judges each frame on scales learned from other footage,
and the recurring dips (:mod:`vsrestore.decimate.periodic`) on one window at a time. On footage where the copies
show only as a small, steady dip (a nearly still shot under grain: a copy 5 % closer to the frame it repeats than
a new frame is), the model can read copies and new frames alike as "different", and the decoder then follows the
template only where the dips are deepest, leaving it elsewhere in the same shot.

Once the clip has been decoded, its own repeats tell what a copy looks like *in this clip*. Per lag k, where the
decoder followed a repeat template with at least :attr:`AdaptParams.min_copies` copies at lag k (and at least
:attr:`AdaptParams.min_share` of the frames): the three measures a person reads in the timeline plot -- the
top-block and whole-frame log distances less their local medians, and the motion agreement less its local median
-- are split into the decided copies and the other frames, and a linear discriminant (the two classes' means, one
pooled covariance) gives every frame of the clip a log-likelihood ratio "copy at lag k" on the clip's own scale.
That ratio (bounded by :attr:`AdaptParams.clip_llr`) is added to the first evidence and the clip decoded again
with the templates the first decode kept (the calibration sharpens where they are followed; it does not invent new
ones). On a still passage (:mod:`vsrestore.decimate.stillness`) the ratio counts only as far as the motion
agreement shows motion there: where nothing moves at all, its ups and downs are grain, as the evidence model's are.

Only evidence *for* a copy is added (:attr:`AdaptParams.against`). Footage without repeats is left as it is:
where the first decode follows no repeat template (or only for a handful of frames) there is nothing to learn from
and the second decode is not run. Chosen on the tuning side only (``benchmarks/results/decimate.md``, seventeenth
session): mean accuracy 0.8818 -> 0.8919 over the five tuning groups; no-repeat cases unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsrestore.decimate.evidence import _rolling_quantiles
from vsrestore.decimate.metrics import agreement, split
from vsrestore.decimate.periodic import _agreement_residuals, _log, _residuals

__all__ = ["AdaptParams", "adapted_evidence", "clip_features"]


@dataclass(frozen=True)
class AdaptParams:
    """How the copy evidence is calibrated on the clip (part of the sidecar key).

    :param min_copies: decided copies at a lag, in frames that follow a repeat template, before that lag is
        calibrated (fewer: too few to estimate a copy's look; the lag keeps its first evidence).
    :param min_share: ... and at least this share of the clip's frames (a few chance copies in a film without
        repeats teach nothing).
    :param clip_llr: bound of one frame's added log-likelihood ratio for a copy.
    :param against: bound of the ratio against a copy (0: the calibration only adds evidence for copies where the
        clip's own copies' look is seen; "no dip here" is not evidence against a copy on a passage whose copies do
        not dip, such as a still one inside a moving shot, where the cadence around it must carry through).
    :param weight: how much of the ratio is added to the first evidence.
    :param detrend: half-width in frames of the local median taken off each measure.
    :param ridge: added to the pooled covariance's diagonal (measures that barely vary).
    :param motion: on a still passage, the ratio counts in full where the upper quartile of the frames' motion
        agreement (over +-12 frames, the largest over the lags) reaches this, in proportion below it.
    """

    min_copies: int = 12
    min_share: float = 0.05
    clip_llr: float = 4.0
    against: float = 0.0
    weight: float = 1.0
    detrend: int = 10
    ridge: float = 1e-3
    motion: float = 0.2


def clip_features(m: np.ndarray, detrend: int = 10) -> list[np.ndarray]:
    """Per lag, the measures (N, 3) of :func:`~vsrestore.decimate.metrics.compute_metrics`'s array ``m``: the
    top-block and whole-frame log distances and the motion agreement, each less its median over +-``detrend``
    frames (NaN where not measured)."""
    top, whole, _ = split(m)
    agr = agreement(m)
    n, lags = top.shape
    out = []
    for k in range(lags):
        a = _agreement_residuals(agr[:, k], detrend) if np.isfinite(agr[:, k]).any() else np.full(n, np.nan)
        out.append(np.stack([_residuals(_log(top[:, k]), detrend), _residuals(_log(whole[:, k]), detrend), a],
                            axis=1))
    return out


def _weight(m: np.ndarray, visible: np.ndarray | None, params: AdaptParams) -> np.ndarray:
    """Per frame (N,), how much the calibrated ratio counts: 1 where repeats can show (``visible``) or the motion
    agreement shows motion, less on a passage where nothing moves."""
    if visible is None:
        return np.ones(m.shape[0])
    agr = agreement(m)
    with np.errstate(all="ignore"):
        top = np.where(np.isfinite(agr).any(axis=1), np.nanmax(np.where(np.isfinite(agr), agr, -np.inf), axis=1), 0.0)
    q = np.nan_to_num(_rolling_quantiles(top, 12, [0.75])[0], nan=0.0)
    return np.maximum(visible, np.clip(q / max(params.motion, 1e-9), 0.0, 1.0))


def adapted_evidence(m: np.ndarray, tokens: np.ndarray, template: np.ndarray,
                     params: AdaptParams = AdaptParams(), visible: np.ndarray | None = None) -> np.ndarray | None:
    """Log-likelihood ratios (N, L) "copy at lag k" calibrated on the clip from decided ``tokens`` (N,) and the
    template each frame followed (N,; -1 for a free decision); None where no lag has enough decided copies.

    :param visible: per frame (N,), how well a repeat shows there (:func:`vsrestore.decimate.stillness.visibility`);
        None: the ratio counts everywhere.
    """
    feats = clip_features(m, params.detrend)
    n = tokens.size
    out = np.zeros((n, len(feats)))
    used = False
    for k, x in enumerate(feats, start=1):
        ok = np.isfinite(x).all(axis=1)
        copy = (tokens == k) & ok
        count = int((copy & (template >= 0)).sum())
        other = ~copy & ok
        if count < params.min_copies or count < params.min_share * n or other.sum() < params.min_copies:
            continue
        mu1, mu0 = x[copy].mean(axis=0), x[other].mean(axis=0)
        d1, d0 = x[copy] - mu1, x[other] - mu0
        cov = (d1.T @ d1 + d0.T @ d0) / (d1.shape[0] + d0.shape[0]) + params.ridge * np.eye(x.shape[1])
        w = np.linalg.solve(cov, mu1 - mu0)
        llr = (np.where(ok[:, None], x, 0.0) - 0.5 * (mu1 + mu0)) @ w
        out[:, k - 1] = np.where(ok, np.clip(llr, -params.against, params.clip_llr), 0.0)
        used = True
    return params.weight * out * _weight(m, visible, params)[:, None] if used else None
