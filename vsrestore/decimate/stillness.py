"""Still passages: where the picture barely changes, a repeat cannot show.

On a moving shot, frame n is further from frame n-3 than from frame n-1 (the film moves on), and a repeat is
much closer to the frame it copies than to the others. On a still passage (a static shot, an empty road, a
pause in the action) every lag is at the same distance, set by grain, gate weave and compression alone; the
small ups and downs of those distances are chance, and read as copy evidence they make the decoder leave the
cadence it follows on either side of the passage for patterns that are not there.

:func:`visibility` measures, per frame, how far apart the lags' distances are (the log of the largest over the
smallest of the top-block distances, its median over a window of frames) and maps it to a weight in 0..1 that
the evidence model's copy evidence is multiplied by: 0 on still passages (the decoder then carries the cadence
learned around them through, or keeps every frame where none was learned), 1 wherever the footage moves. Dips
that recur at one phase (:mod:`vsrestore.decimate.periodic`) are not chance and count on still passages too. A
frame far closer to one earlier frame than to the others (a near-exact repeat, even on a still passage) keeps its
evidence.

Fast motion can also put every lag at one distance: frames that share nothing (a fast pan, a crowd close to
the lens) are all equally, and very, different, up to the metrics' cap. Passages whose distances are that
large are never still.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsrestore.decimate.evidence import _rolling_quantiles
from vsrestore.decimate.metrics import split

__all__ = ["StillParams", "lag_spread", "visibility"]


@dataclass(frozen=True)
class StillParams:
    """How still passages are found (part of the sidecar key).

    :param window: half-width in frames of the window the spread's median is taken over.
    :param low: median log spread (log of the largest over the smallest lag distance) at or below which a frame
        counts as still: its evidence is ignored (0.10: the lags within about 10 % of each other).
    :param high: median log spread at or above which the evidence counts in full (0.25: about 28 %); linear
        in between.
    :param deep: a frame whose own log spread is above this (its nearest earlier frame 4.5 times closer than
        the furthest) keeps its evidence, however still the passage.
    :param near: a passage whose median top-block distance (normalised 0..1 luma, the metrics' units) is above
        this is not still but decorrelated (fast motion): 0.15, 60 % of the default per-pixel cap
        (:attr:`vsrestore.decimate.metrics.MetricParams.cap`); still passages measure 0.01-0.10.
    """

    window: int = 12
    low: float = 0.10
    high: float = 0.25
    deep: float = 1.5
    near: float = 0.15


def lag_spread(m: np.ndarray) -> np.ndarray:
    """Per frame, the log of the largest over the smallest top-block lag distance (N,); NaN before lag 2."""
    top, _, _ = split(m)
    d = np.log(np.maximum(top, 1e-5))
    d[~np.isfinite(top)] = np.nan
    out = np.full(d.shape[0], np.nan)
    ok = np.isfinite(d).sum(axis=1) >= 2
    out[ok] = np.nanmax(d[ok], axis=1) - np.nanmin(d[ok], axis=1)
    return out


def visibility(m: np.ndarray, params: StillParams = StillParams()) -> np.ndarray:
    """Per frame (N,), how well a repeat could show there: 0 on still passages, 1 on moving footage."""
    r = lag_spread(m)
    top, _, _ = split(m)
    ok_rows = np.isfinite(top).any(axis=1)
    level = np.full(r.size, np.nan)
    level[ok_rows] = np.nanmedian(top[ok_rows], axis=1)
    # medians over +-window frames (a window with no measured frame: not still)
    med = np.nan_to_num(_rolling_quantiles(r, params.window, [0.5])[0], nan=np.inf)
    near = np.nan_to_num(_rolling_quantiles(level, params.window, [0.5])[0], nan=0.0)
    v = np.clip((med - params.low) / max(params.high - params.low, 1e-9), 0.0, 1.0)
    v[np.nan_to_num(r, nan=0.0) > params.deep] = 1.0
    v[near > params.near] = 1.0
    return v
