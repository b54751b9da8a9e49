"""Deep dips: copies that lie far below the film's own frame-to-frame differences, whether they recur or not.

On a still shot (a seated figure, a title, a landscape) every new film frame differs from the last by little
more than its grain, so all lags sit at one distance and :mod:`vsrestore.decimate.stillness` sets the evidence
model's ratios aside there as chance. Yet copies of one film frame share its grain (the negative's, and all of it
when the transfer repeated a scan), so they can lie several times closer together than any two film frames: in
the timeline plot a second, lower band of the lag's distances, plain at a glance. Where the pattern recurs at one
phase, :mod:`vsrestore.decimate.periodic` finds it; where it does not (a long mixed template, one that changes
inside a window, jitter), nothing did before this module.

Per lag, in overlapping windows, the whole-frame log distances less their local median are split into a low and
a high band at the best threshold (two Gaussian levels with a pooled spread against one). The split counts only
where all of these hold:

* it gains at least :attr:`DipParams.penalty` in log-likelihood (the search tries every threshold);
* the bands are at least :attr:`DipParams.min_gap` apart in log distance (3.3 times by default: chance ups and
  downs of grain and weave, and the codec's rhythm on a still shot, stay well inside that on the tuning set),
  and at least :attr:`DipParams.min_separation` times their spread (two tight bands, not one wide one);
* at most :attr:`DipParams.max_copy_share` of the window is in the low band (films of at least about 11 fps);
* the low band's median motion agreement (:mod:`vsrestore.decimate.agreement`) is at most
  :attr:`DipParams.agreement_max`: two copies agree about 0 with the film's motion, while a low band that moves
  with the film is the codec's doing (a frame it coded from its neighbour on a still shot).

Where a split counts, each frame of the window gets the log-likelihood ratio of its own distance under the two
bands, as in :mod:`vsrestore.decimate.periodic`; windows covering a frame are averaged. Elsewhere the result is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsrestore.decimate.metrics import agreement, split
from vsrestore.decimate.periodic import _log, _residuals

__all__ = ["DipParams", "dip_evidence"]


@dataclass(frozen=True)
class DipParams:
    """How deep dips are searched (part of the sidecar key).

    :param window: frames per window; ``hop``: frames between window starts.
    :param penalty: log-likelihood a split must gain before it counts.
    :param min_gap: least distance between the two bands' means, in log distance (1.2: 3.3 times).
    :param min_separation: least distance between the bands' means in units of their pooled spread.
    :param max_copy_share: most of a window the low band may hold.
    :param agreement_max: most the low band's median motion agreement may be (copies agree about 0).
    :param detrend: half-width in frames of the local median taken off the log distances.
    :param clip_llr: bound of one frame's ratio.
    :param weight: how much of the ratio is added to the evidence.
    """

    window: int = 48
    hop: int = 8
    penalty: float = 25.0
    min_gap: float = 1.2
    min_separation: float = 6.0
    max_copy_share: float = 0.55
    agreement_max: float = 0.1
    detrend: int = 10
    clip_llr: float = 6.0
    weight: float = 1.0


def _best_threshold(r: np.ndarray, params: DipParams) -> tuple[float, float, float, float] | None:
    """(threshold, low mean, high mean, spread) of the best two-band split of ``r`` (finite values), or None
    when no split gains ``penalty`` with the bands ``min_gap`` apart."""
    v = np.sort(r[np.isfinite(r)])
    n = v.size
    if n < 16:
        return None
    most = int(params.max_copy_share * n)
    if most < 3:
        return None
    cs = np.cumsum(v)
    total_ss = float(((v - v.mean()) ** 2).sum())
    if total_ss <= 1e-12:
        return None
    s = np.arange(3, most + 1)  # low band: the s smallest values
    mu1 = cs[s - 1] / s
    mu2 = (cs[-1] - cs[s - 1]) / (n - s)
    between = s * (n - s) / n * (mu1 - mu2) ** 2
    within = np.maximum(total_ss - between, 1e-9)
    gain = 0.5 * n * np.log(total_ss / within) - params.penalty
    spread = np.maximum(np.sqrt(within / (n - 2)), 0.05)
    gain[(mu2 - mu1 < params.min_gap) | (mu2 - mu1 < params.min_separation * spread)] = -np.inf
    i = int(np.argmax(gain))
    if not np.isfinite(gain[i]) or gain[i] <= 0:
        return None
    return float(v[s[i] - 1]), float(mu1[i]), float(mu2[i]), float(spread[i])


def dip_evidence(m: np.ndarray, params: DipParams = DipParams()) -> np.ndarray:
    """Log-likelihood ratios (N, L) copy/different from deep dips of the whole-frame distances of ``m`` (N, 3L + 1,
    :func:`vsrestore.decimate.metrics.compute_metrics`); 0 where no window finds a low band that counts."""
    _, whole, _ = split(m)
    agr = agreement(m)
    n, lags = whole.shape
    acc = np.zeros((n, lags))
    cover = np.zeros((n, lags))
    if n < 16:
        return acc
    res = [_residuals(_log(whole[:, k]), params.detrend) for k in range(lags)]  # less the local median
    win = min(params.window, n)
    starts = list(range(0, max(1, n - win + 1), params.hop))
    if starts[-1] != n - win:
        starts.append(n - win)
    for a in starts:
        b = a + win
        cover[a:b] += 1.0
        for k in range(lags):
            r = res[k][a:b]
            best = _best_threshold(r, params)
            if best is None:
                continue
            thr, mu1, mu2, sd = best
            low_agr = agr[a:b, k][np.isfinite(r) & (r <= thr)]
            low_agr = low_agr[np.isfinite(low_agr)]
            if low_agr.size and float(np.median(low_agr)) > params.agreement_max:
                continue  # the low band moves with the film: the codec's rhythm, not copies
            x = np.nan_to_num(r, nan=mu2)
            llr = ((x - mu2) ** 2 - (x - mu1) ** 2) / (2.0 * sd * sd)
            acc[a:b, k] += np.clip(llr, -params.clip_llr, params.clip_llr)
    with np.errstate(all="ignore"):
        out = np.where(cover > 0, acc / np.maximum(cover, 1.0), 0.0)
    return params.weight * out
