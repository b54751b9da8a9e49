"""Self-calibrated copy evidence from recurring dips: the template a person sees in the timeline plot.

The evidence model (:mod:`vsrestore.decimate.evidence`) judges each frame against scales learned on other
footage. On footage unlike that (a nearly still shot where a new film frame differs from the last by little
more than its grain), copies and new frames can both look "different" to it, although the plot shows the
dips recurring at a fixed phase. This module finds those dips on the footage's own scale:

1. per lag k, the log distances of frame n to frame n-k, less their local median (camera motion and grain
   drift slowly; copies are dips below that);
2. in overlapping windows of :attr:`PeriodicParams.window` frames, for every period p (2 to ``max_period``)
   the mean of each phase, and the best split of the phases into "copies" (low) and "new frames" (high);
3. the split's gain in log-likelihood over "one level, no copies" (two Gaussian levels with a pooled spread
   against one), less a penalty for the number of periods and splits tried. Footage without repeats has no
   phase that stays low, and the gain stays under the penalty;
4. where a split wins, each frame of the window gets the log-likelihood ratio of its own distance under the
   two fitted levels (so jitter and lost frames are still seen frame by frame); windows covering a frame are
   averaged.

The result (N, L) adds to the evidence model's log-likelihood ratios; it is 0 wherever no window finds
recurring dips, so footage without repeats is judged by the evidence model alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsrestore.decimate.evidence import _rolling_quantiles
from vsrestore.decimate.metrics import split

__all__ = ["PeriodicParams", "periodic_evidence"]


@dataclass(frozen=True)
class PeriodicParams:
    """How recurring dips are searched (part of the sidecar key).

    :param window: frames per window; ``hop``: frames between window starts.
    :param max_period: longest period searched, in input frames.
    :param max_copy_share: most phases of a period that may be copies (0.55: films of at least about 11 fps).
    :param penalty: log-likelihood a split must gain before it counts (the search's own chance gain on footage
        without repeats is well below it).
    :param period_cost: extra gain needed per phase of the period (longer periods fit noise more easily).
    :param detrend: half-width in frames of the local median taken off each lag's log distances.
    :param clip_llr: bound of one frame's ratio.
    :param weight: how much of the ratio is added to the evidence model's.
    :param level_slack: how far (log distance) a lag's copies may lie above the lowest copies found at another
        lag in the same window and still count.
    """

    window: int = 48
    hop: int = 8
    max_period: int = 10
    max_copy_share: float = 0.55
    penalty: float = 9.0
    period_cost: float = 1.0
    detrend: int = 10
    clip_llr: float = 6.0
    weight: float = 1.0
    level_slack: float = 0.35


def _log(d: np.ndarray) -> np.ndarray:
    x = np.log(np.maximum(d, 1e-5))
    x[~np.isfinite(d)] = np.nan
    return x


def _residuals(x: np.ndarray, half: int) -> np.ndarray:
    """Log distance less its local median, winsorised (a cut or a flash counts as a large distance, no more)."""
    return np.clip(x - _rolling_quantiles(x, half, [0.5])[0], -1.5, 1.5)


def _best_split(r: np.ndarray, start: int, params: PeriodicParams) -> tuple[float, np.ndarray | None, float, float,
                                                                             float]:
    """The best (gain, copy-phase mask over the window, copy level, new level, spread) of one window ``r``
    (finite values only count) starting at absolute frame ``start``."""
    ok = np.isfinite(r)
    n = int(ok.sum())
    best: tuple[float, np.ndarray | None, float, float, float] = (0.0, None, 0.0, 0.0, 1.0)
    if n < 12:
        return best
    v = np.where(ok, r, 0.0)
    total_ss = float(((v[ok] - v[ok].mean()) ** 2).sum())
    if total_ss <= 1e-12:
        return best
    idx = np.arange(start, start + r.size)
    for p in range(2, params.max_period + 1):
        if r.size < 3 * p:
            break
        ph = idx % p
        cnt = np.bincount(ph, weights=ok.astype(np.float64), minlength=p)
        sm = np.bincount(ph, weights=v, minlength=p)
        if (cnt < 2).any():
            continue
        mean = sm / cnt
        order = np.argsort(mean)
        c_cnt = np.cumsum(cnt[order])
        c_sum = np.cumsum(sm[order])
        total_sum = c_sum[-1]
        most = int(np.floor(params.max_copy_share * p + 1e-9))
        for s in range(1, min(most, p - 1) + 1):
            n1, s1 = c_cnt[s - 1], c_sum[s - 1]
            n2, s2 = n - n1, total_sum - s1
            if n2 <= 0:
                continue
            mu1, mu2 = s1 / n1, s2 / n2
            between = n1 * n2 / n * (mu1 - mu2) ** 2
            within = max(total_ss - between, 1e-9)
            gain = 0.5 * n * np.log(total_ss / within) - params.penalty - params.period_cost * p
            if gain > best[0]:
                mask_ph = np.zeros(p, dtype=bool)
                mask_ph[order[:s]] = True
                spread = max(float(np.sqrt(within / max(n - 2, 1))), 0.05)
                best = (float(gain), mask_ph[ph], float(mu1), float(mu2), spread)
    return best


def periodic_evidence(m: np.ndarray, params: PeriodicParams = PeriodicParams()) -> np.ndarray:
    """Log-likelihood ratios (N, L) copy/different from recurring dips of the distances ``m`` (N, 2L + 1) of
    :func:`vsrestore.decimate.metrics.compute_metrics`; 0 where no window finds any."""
    top, whole, _ = split(m)
    n, lags = top.shape
    acc = np.zeros((n, lags))
    cover = np.zeros((n, lags))
    if n < 12:
        return acc
    logs = [(_log(top[:, k]), _log(whole[:, k])) for k in range(lags)]
    res = [tuple(_residuals(x, params.detrend) for x in pair) for pair in logs]
    win = min(params.window, n)
    starts = list(range(0, max(1, n - win + 1), params.hop))
    if starts[-1] != n - win:
        starts.append(n - win)
    for a in starts:
        b = a + win
        cover[a:b] += 1.0
        found = []  # (lag, metric, gain, mask, copy level, new level, spread, copy level in log distance)
        for k in range(lags):
            choice = [(j, *_best_split(res[k][j][a:b], a, params)) for j in range(2)]
            j, gain, mask, mu1, mu2, sd = max(choice, key=lambda t: t[1])
            if mask is None or gain <= 0.0:
                continue
            with np.errstate(all="ignore"):
                level = float(np.nanmean(logs[k][j][a:b][mask]))
            found.append((k, j, mask, mu1, mu2, sd, level))
        if not found:
            continue
        # copies are the lowest distances of all: a low phase of one lag that another lag's copies lie well
        # below is film motion of different lengths (the lag-1 distances of an ABCA transfer), not a copy
        lowest = min(f[6] for f in found)
        for k, j, _mask, mu1, mu2, sd, level in found:
            if level > lowest + params.level_slack:
                continue
            x = np.nan_to_num(res[k][j][a:b], nan=mu2)
            llr = ((x - mu2) ** 2 - (x - mu1) ** 2) / (2.0 * sd * sd)
            acc[a:b, k] += np.clip(llr, -params.clip_llr, params.clip_llr)
    with np.errstate(all="ignore"):
        out = np.where(cover > 0, acc / np.maximum(cover, 1.0), 0.0)
    return params.weight * out
