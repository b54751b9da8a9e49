"""The motion agreement of frame n and n-k: how much their difference looks like the film's motion around them.

The reference for the pair (n-k, n) is the mean of the ``window`` frames after n less the mean of the ``window``
frames before n-k. It shares no frame with the pair, so grain, dust and the codec's noise do not correlate with
it, and averaging several frames takes most of its own grain out while the motion it spans grows: two copies of
one film frame score about 0 however grainy the film is, two film frames in steady motion score well above it,
even when that motion is far below the grain. The correlation is weighted by where the reference moves
(``focus``), so a small moving part of a still shot is not drowned by the grain of the still rest.

Frames on the far side of a cut or flash (a whole-frame distance to the frame before of 3 times its local median
or more) are left out of the reference; where that, or an end of the clip, leaves one side empty, the motion of
the other side (its later half less its earlier half) is the reference. A pair across a cut is not measured.
:class:`AgreementStream` works on a stream of frames, holding ``lags + 2 * window + 7`` small planes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AgreementStream", "CUT_HALF", "CUT_RATIO", "motion_agreement"]

CUT_RATIO = 3.0  # a cut: whole-frame distance to the frame before >= this times its local median
CUT_HALF = 6  # that median over +-this many frames
_FOCUS_RADIUS = 4  # the reference's motion energy is averaged over (2r+1)^2 reduced pixels for the weights


def _box_mean(a: np.ndarray, r: int) -> np.ndarray:
    """Mean of ``a`` over a (2r+1) x (2r+1) box, edges repeated."""
    p = np.pad(a, r + 1, mode="edge").astype(np.float64)
    s = p.cumsum(0).cumsum(1)
    w = 2 * r + 1
    box = s[w:, w:] - s[:-w, w:] - s[w:, :-w] + s[:-w, :-w]
    return (box[: a.shape[0], : a.shape[1]] / (w * w)).astype(np.float32)


def motion_agreement(d: np.ndarray, ref: np.ndarray, cap: float, focus: float) -> float:
    """Correlation (-1..1) of the difference ``d`` (frame n minus frame n-k) with the reference ``ref``, both
    capped at ``cap`` (dust) and centred, each pixel weighted by the local RMS of the reference to the power
    ``focus`` (0: a plain correlation)."""
    a = np.clip(d, -cap, cap)
    r = np.clip(ref, -cap, cap)
    a = a - a.mean()
    r = r - r.mean()
    if focus > 0:
        w = _box_mean(r * r, _FOCUS_RADIUS) ** (focus / 2)
        w /= max(float(w.mean()), 1e-12)
        aw = a * w
        return float(np.vdot(aw, r) / max(np.sqrt(float(np.vdot(aw, a)) * float(np.vdot(w * r, r))), 1e-12))
    return float(np.vdot(a, r) / max(np.sqrt(float(np.vdot(a, a)) * float(np.vdot(r, r))), 1e-12))


class AgreementStream:
    """Motion agreements (N, lags) of a clip whose frames come in order (:meth:`push`), finished by
    :meth:`finish`; ``out[n, k-1]`` is NaN where not measured.

    Each frame comes standardised (every strip at mean 0 and deviation 1) with the per-column deviations that
    undo it; differences are taken between standardised frames and scaled back by frame n's deviations, which is
    the same as matching every frame's levels to frame n's (flicker leaves no difference).
    """

    def __init__(self, n: int, lags: int, window: int, focus: float, cap: float) -> None:
        self.out = np.full((n, lags), np.nan)
        self.n, self.lags, self.window, self.focus, self.cap = n, lags, window, focus, cap
        self.whole1 = np.zeros(n)  # whole-frame distance to the frame before (0 where not measured)
        self.cut = np.zeros(n, dtype=bool)
        self.planes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cuts_done = 0  # cut flags decided for frames < this
        self._next = 0  # agreements computed for frames < this

    def push(self, i: int, z: np.ndarray, scale: np.ndarray, whole1: float) -> None:
        """Frame ``i`` (standardised plane, per-column deviations, whole-frame distance to frame i-1)."""
        self.planes[i] = (z, scale)
        self.whole1[i] = whole1 if np.isfinite(whole1) else 0.0
        self._decide_cuts(i - CUT_HALF)
        while self._next + self.window + CUT_HALF <= i:
            self._agree(self._next)
            self._next += 1

    def finish(self) -> np.ndarray:
        """The agreements, once every frame has been pushed."""
        self._decide_cuts(self.n - 1)
        while self._next < self.n:
            self._agree(self._next)
            self._next += 1
        self.planes.clear()
        return self.out

    def _decide_cuts(self, last: int) -> None:
        for j in range(self._cuts_done, last + 1):
            lo, hi = max(0, j - CUT_HALF), min(self.n, j + CUT_HALF + 1)
            self.cut[j] = self.whole1[j] >= CUT_RATIO * float(np.median(self.whole1[lo:hi])) + 1e-6
        self._cuts_done = max(self._cuts_done, last + 1)

    def _mean(self, first: int, end: int) -> np.ndarray:
        return np.mean([self.planes[j][0] for j in range(first, end)], axis=0)

    def _reference(self, before: range, after: range) -> np.ndarray | None:
        """The mean of the frames ``after`` less the mean of the frames ``before``; with one side empty (an end of
        the clip, a cut), the later half of the other side less its earlier half; None with too few frames."""
        if before and after:
            return self._mean(after.start, after.stop) - self._mean(before.start, before.stop)
        side = before or after
        if len(side) < 2:
            return None
        mid = side.start + len(side) // 2
        return self._mean(mid, side.stop) - self._mean(side.start, mid)

    def _agree(self, c: int) -> None:
        w = self.window
        after_end = min(self.n, c + w + 1)  # frames c+1 .. after_end-1, up to the first cut after c
        cuts_after = np.flatnonzero(self.cut[c + 1 : after_end])
        if cuts_after.size:
            after_end = c + 1 + int(cuts_after[0])
        z, scale = self.planes[c]
        for k in range(1, min(self.lags, c) + 1):
            if self.cut[c - k + 1 : c + 1].any():  # the pair itself spans a cut
                continue
            first = max(0, c - k - w)  # frames first .. c-k-1, from the last cut at or before c-k
            cuts_before = np.flatnonzero(self.cut[first + 1 : c - k + 1])
            if cuts_before.size:
                first += 1 + int(cuts_before[-1])
            ref = self._reference(range(first, c - k), range(c + 1, after_end))
            if ref is not None:
                self.out[c, k - 1] = motion_agreement((z - self.planes[c - k][0]) * scale, ref * scale, self.cap,
                                                      self.focus)
        for j in [j for j in self.planes if j < c + 1 - self.lags - w]:
            del self.planes[j]
