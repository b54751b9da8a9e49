"""Global motion between neighbouring frames and how irregular it is (gate weave, camera shake).

Motion compensation draws the missing picture on the straight path between its two neighbours. When the whole
picture jumps about from frame to frame (gate weave of old film, a shaking camera), the missing frame is not on
that path and a blend of the two neighbours is the better guess; when the global motion is smooth (a still
camera, a steady pan or a CGI scene) the path is reliable. This module measures, per pair of source frames,

* the global translation from frame i to frame i+1 (phase correlation on a smoothed thumbnail, sub-pixel), in
  pixels of the full-size frame, and
* the **irregularity** of that motion: how far each pair's translation lies from the one predicted by its
  neighbours' (velocities in pixels per second, so a variable-rate cadence is not mistaken for a jerk), in
  pixels at the pair's own duration; the median over a window of pairs.

Both are plain functions of the frames (no state), so frames come out the same in any request order.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import vapoursynth as vs

from vsrestore.core.bridge import shifted

__all__ = ["THUMB_WIDTH", "irregularity", "phase_shift", "shift_node"]

core = vs.core

#: Width (pixels) of the thumbnails the global translation is measured on.
THUMB_WIDTH = 256


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Global translation ``(dy, dx)`` in pixels that carries picture ``b`` onto picture ``a`` (phase correlation
    with a Hann window and a parabolic sub-pixel peak; both pictures 2-D and of the same size)."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    fa = np.fft.rfft2((a - a.mean()) * win)
    fb = np.fft.rfft2((b - b.mean()) * win)
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-9
    r = np.fft.irfft2(cross, s=(h, w))
    y0, x0 = np.unravel_index(int(np.argmax(r)), r.shape)

    def sub(m: float, c: float, p: float) -> float:
        den = m - 2 * c + p
        return 0.0 if den == 0 else float(np.clip(0.5 * (m - p) / den, -0.5, 0.5))

    sy = sub(r[(y0 - 1) % h, x0], r[y0, x0], r[(y0 + 1) % h, x0])
    sx = sub(r[y0, (x0 - 1) % w], r[y0, x0], r[y0, (x0 + 1) % w])
    dy = (y0 + h // 2) % h - h // 2 + sy
    dx = (x0 + w // 2) % w - w // 2 + sx
    return float(dy), float(dx)


def shift_node(luma: vs.VideoNode) -> vs.VideoNode:
    """Per frame i of a GRAY clip, the global translation from frame i to frame i+1 (props ``VsrShiftX``,
    ``VsrShiftY``, pixels of the full-size frame; 0 for the last frame), measured on a thumbnail at most
    :data:`THUMB_WIDTH` wide."""
    tw = min(luma.width, THUMB_WIDTH)
    th = max(16, round(luma.height * tw / luma.width))
    thumb = core.resize.Bilinear(luma, tw, th, format=vs.GRAYS)
    thumb = core.std.Convolution(thumb, [1, 2, 1, 2, 4, 2, 1, 2, 1])
    scale = luma.width / tw
    last = luma.num_frames - 1
    base = core.std.BlankClip(luma, width=8, height=8, format=vs.GRAY8, keep=True)

    def measure(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        fout = f[0].copy()
        dy = dx = 0.0
        if n < last:
            dy, dx = phase_shift(np.asarray(f[2][0]), np.asarray(f[1][0]))
        fout.props["VsrShiftX"] = dx * scale
        fout.props["VsrShiftY"] = dy * scale
        return fout

    return core.std.ModifyFrame(base, [base, thumb, shifted(thumb, 1)], measure)


def irregularity(shifts: Sequence[tuple[float, float]], durations: Sequence[Fraction], pair: int,
                 window: int = 4) -> float:
    """Irregularity of the global motion around pair ``pair`` (frames ``pair``, ``pair + 1``), in pixels.

    :param shifts: per pair k, the global translation ``(dx, dy)`` from frame k to frame k+1 (pixels).
    :param durations: per source frame, its duration (seconds); pair k spans ``durations[k]``.
    :param window: pairs each side whose irregularities enter the median.
    :returns: the median over pairs ``pair - window .. pair + window`` (those with both neighbours) of
        ``|d_k - dur_k * (v_(k-1) + v_(k+1)) / 2|`` (L1 over x and y), ``v`` being each pair's velocity
        (translation / duration); 0 when fewer than three pairs exist.
    """
    n = len(shifts)
    vals = []
    for k in range(max(1, pair - window), min(n - 1, pair + window + 1)):
        dur = float(durations[k])
        pred = [dur * (shifts[k - 1][c] / float(durations[k - 1]) + shifts[k + 1][c] / float(durations[k + 1])) / 2
                for c in (0, 1)]
        vals.append(abs(shifts[k][0] - pred[0]) + abs(shifts[k][1] - pred[1]))
    return float(np.median(vals)) if vals else 0.0
