"""Self-calibrated copy evidence from recurring dips: the template a person sees in the timeline plot.

The evidence model (:mod:`vsrestore.decimate.evidence`) judges each frame against scales learned on other
footage. On footage unlike that (a nearly still shot where a new film frame differs from the last by little
more than its grain), copies and new frames can both look "different" to it, although the plot shows the
dips recurring at a fixed phase. This module finds those dips on the footage's own scale:

1. per lag k, three series, each less its local median (camera motion and grain drift slowly; copies are dips
   below that): the log distances of frame n to frame n-k over the most different blocks and over the whole
   frame, and the motion agreement of the two frames (:mod:`vsrestore.decimate.agreement`: about 0 for two
   copies however grainy, above 0 for film motion, even motion far below the grain);
2. in overlapping windows of :attr:`PeriodicParams.window` frames, for every period p (2 to ``max_period``)
   the mean of each phase, and the best split of the phases into "copies" (low) and "new frames" (high); or
   the same in each half of the window with a phase of its own (:attr:`PeriodicParams.halves`: jitter or a
   lost frame shifts the phase every few dozen frames), each half paying the penalty;
3. the split's gain in log-likelihood over "one level, no copies" (two Gaussian levels with a pooled spread
   against one), less a penalty for the number of periods and splits tried. Footage without repeats has no
   phase that stays low, and the gain stays under the penalty. A split of the motion agreement counts only
   where its low phases are near 0 (at most :attr:`PeriodicParams.agreement_ratio` of the high phases'
   level), as copies are: the codec's own frame pattern can make the agreement of a film without repeats
   recur too, but at 0.37-0.9 of its level (tuning set), never near 0;
4. where a split wins, each frame of the window (of the halves that split) gets the log-likelihood ratio of its
   own distance under the two fitted levels (so jitter and lost frames are still seen frame by frame); windows
   covering a frame are averaged.

The result (N, L) adds to the evidence model's log-likelihood ratios; it is 0 wherever no window finds
recurring dips, so footage without repeats is judged by the evidence model alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from vsrestore.decimate.evidence import _rolling_quantiles
from vsrestore.decimate.metrics import agreement, split

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
    :param agreement: also search the motion agreements (where :func:`compute_metrics
        <vsrestore.decimate.metrics.compute_metrics>` measured them).
    :param agreement_ratio: a split of the agreements counts only where the copies' mean agreement is at most
        this share of the new frames' (near 0, or below: see :func:`_near_zero`).
    :param agreement_motion: ... and only where the new frames' mean agreement reaches this (motion is seen at
        all: on a shot with none, the agreement is grain alone, about 0 everywhere).
    :param agreement_penalty: the penalty for splits of the agreements (lower: that test already rules out
        most chance splits).
    :param halves: a window may also be split as two halves with a phase each (or one half alone), each half
        paying the penalty: jitter or a lost frame shifts the pattern's phase every few dozen frames, and a
        window across the shift fits no single phase. They must gain ``halves_cost`` times the penalty more than
        the whole window's split (one more thing is fitted: the shift).
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
    agreement: bool = True
    agreement_ratio: float = 0.3
    agreement_motion: float = 0.1
    agreement_penalty: float = 7.0
    halves: bool = True
    halves_cost: float = 1.0


def _log(d: np.ndarray) -> np.ndarray:
    x = np.log(np.maximum(d, 1e-5))
    x[~np.isfinite(d)] = np.nan
    return x


def _residuals(x: np.ndarray, half: int) -> np.ndarray:
    """Log distance less its local median, winsorised (a cut or a flash counts as a large distance, no more)."""
    return np.clip(x - _rolling_quantiles(x, half, [0.5])[0], -1.5, 1.5)


def _agreement_residuals(a: np.ndarray, half: int) -> np.ndarray:
    """Motion agreement less its local median, winsorised like the log distances (NaN where not measured)."""
    with np.errstate(all="ignore"):
        fill = float(np.nanmedian(a)) if np.isfinite(a).any() else 0.0
    med = _rolling_quantiles(np.where(np.isfinite(a), a, fill), half, [0.5])[0]
    return np.clip(a - med, -1.5, 1.5)


def _near_zero(agr: np.ndarray, mask: np.ndarray, params: PeriodicParams) -> bool:
    """Whether the motion agreements ``agr`` of a window split by ``mask`` (True: copies) look like copies: the
    new frames' mean at least ``agreement_motion`` (with no motion the agreement is grain alone), the copies' at
    most ``agreement_ratio`` of it (a lower phase that stays well above 0 is the codec's frame pattern). Below 0
    counts: the lag-1 difference of an alternating or ``ABCA`` copy is film motion backwards, and the frame is a
    copy all the same (at another lag: the copies' level check after this sorts the lag out)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        copy_level, new_level = np.nanmean(agr[mask]), np.nanmean(agr[~mask])
    return bool(new_level >= params.agreement_motion and copy_level <= params.agreement_ratio * new_level)


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


Split = tuple[float, np.ndarray | None, float, float, float, np.ndarray | None]


def _best_split_halves(r: np.ndarray, start: int, params: PeriodicParams) -> Split:
    """:func:`_best_split` of the whole window, or of its two halves with a phase each (one half alone: the other
    says nothing), whichever gains most: (gain, copy mask, copy level, new level, spread, where the split holds);
    levels and spread of the combined split, over where it holds."""
    whole = (*_best_split(r, start, params), np.ones(r.size, dtype=bool))
    if not params.halves:
        return whole
    h = r.size // 2
    first, second = _best_split(r[:h], start, params), _best_split(r[h:], start + h, params)
    gain = first[0] + second[0] - params.penalty * params.halves_cost  # the shift: one more thing fitted
    if gain <= whole[0] or (first[1] is None and second[1] is None):
        return whole
    mask = np.zeros(r.size, dtype=bool)
    holds = np.zeros(r.size, dtype=bool)
    for half, lo, hi in ((first, 0, h), (second, h, r.size)):
        if half[1] is not None:
            mask[lo:hi], holds[lo:hi] = half[1], True
    ok = np.isfinite(r) & holds
    copies, new = r[mask & ok], r[~mask & ok]
    if copies.size < 2 or new.size < 2:
        return whole
    mu1, mu2 = float(copies.mean()), float(new.mean())
    within = float(((copies - mu1) ** 2).sum() + ((new - mu2) ** 2).sum())
    return gain, mask, mu1, mu2, max(float(np.sqrt(within / max(int(ok.sum()) - 2, 1))), 0.05), holds


def periodic_evidence(m: np.ndarray, params: PeriodicParams = PeriodicParams(),
                      visible: np.ndarray | None = None) -> np.ndarray:
    """Log-likelihood ratios (N, L) copy/different from recurring dips of the distances and agreements ``m``
    (N, 3L + 1) of :func:`vsrestore.decimate.metrics.compute_metrics`; 0 where no window finds any.

    :param visible: per frame (N,), how well motion shows there (:func:`vsrestore.decimate.stillness.visibility`):
        the agreement's evidence *against* a copy is scaled by it (on a still passage every frame agrees about 0
        with the motion, new or not); None: not scaled.
    """
    top, whole, _ = split(m)
    agr = agreement(m)
    n, lags = top.shape
    acc = np.zeros((n, lags))
    cover = np.zeros((n, lags))
    if n < 12:
        return acc
    logs = [(_log(top[:, k]), _log(whole[:, k])) for k in range(lags)]
    res = [tuple(_residuals(x, params.detrend) for x in pair) for pair in logs]
    agr_params = replace(params, penalty=params.agreement_penalty)
    if params.agreement and np.isfinite(agr).any():  # the agreement is not a log: its residual as it is
        res = [(*res[k], _agreement_residuals(agr[:, k], params.detrend)) for k in range(lags)]
    win = min(params.window, n)
    starts = list(range(0, max(1, n - win + 1), params.hop))
    if starts[-1] != n - win:
        starts.append(n - win)
    for a in starts:
        b = a + win
        cover[a:b] += 1.0
        found = []  # (lag, metric, mask, copy level, new level, spread, copy level in log distance, where it holds)
        for k in range(lags):
            choice = [(j, *_best_split_halves(res[k][j][a:b], a, params if j < 2 else agr_params))
                      for j in range(len(res[k]))]
            choice = [c for c in choice if c[2] is not None and c[6] is not None and c[1] > 0.0
                      and (c[0] < 2 or _near_zero(agr[a:b, k][c[6]], c[2][c[6]], params))]
            if not choice:
                continue
            j, gain, mask, mu1, mu2, sd, holds = max(choice, key=lambda t: t[1])
            assert mask is not None and holds is not None
            with np.errstate(all="ignore"):
                level = float(np.nanmean(logs[k][0 if j == 2 else j][a:b][mask]))  # the agreement's: its top distances
            found.append((k, j, mask, mu1, mu2, sd, level, holds))
        if not found:
            continue
        # copies are the lowest distances of all: a low phase of one lag that another lag's copies lie well
        # below is film motion of different lengths (the lag-1 distances of an ABCA transfer), not a copy
        lowest = min(f[6] for f in found)
        for k, j, _mask, mu1, mu2, sd, level, holds in found:
            if level > lowest + params.level_slack:
                continue
            x = np.nan_to_num(res[k][j][a:b], nan=mu2)
            llr = ((x - mu2) ** 2 - (x - mu1) ** 2) / (2.0 * sd * sd)
            if j == 2 and visible is not None:  # no motion, no agreement: "new" is not seen on a still passage
                llr = np.where(llr < 0, llr * visible[a:b], llr)
            acc[a:b, k] += np.where(holds, np.clip(llr, -params.clip_llr, params.clip_llr), 0.0)
    with np.errstate(all="ignore"):
        out = np.where(cover > 0, acc / np.maximum(cover, 1.0), 0.0)
    return params.weight * out
