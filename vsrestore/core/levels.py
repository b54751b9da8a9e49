"""Robust black and white levels of film frames, shared by the normaliser and the decimator's metrics.

Old prints rarely reach true black or white and their levels flicker from frame to frame. Levels are taken as
low/high percentiles of the luma (so dust specks and scratches, a tiny fraction of pixels, do not set them),
measured on a strided subsample of the plane for speed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apply_levels", "robust_levels"]


def robust_levels(
    plane: np.ndarray, low: float = 0.5, high: float = 99.5, *, max_samples: int = 65536
) -> tuple[float, float]:
    """Black and white levels of one plane (or a stack of planes) as the ``low``/``high`` percentiles.

    :param plane: array of any shape, values in any unit (the result is in the same unit).
    :param low, high: percentiles in 0..100 (defaults ignore the darkest and brightest 0.5%).
    :param max_samples: the plane is sampled with a stride so at most about this many values are sorted.
    :returns: (black, white), with white > black guaranteed (a flat frame gives white = black + 1e-6).
    """
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"robust_levels: need 0 <= low < high <= 100, got low={low}, high={high}")
    flat = np.asarray(plane).reshape(-1)
    step = max(1, flat.size // max_samples)
    sample = flat[::step].astype(np.float32, copy=False)
    lo, hi = np.percentile(sample, (low, high))
    return float(lo), float(max(hi, lo + 1e-6))


def apply_levels(
    plane: np.ndarray,
    black: float | np.ndarray,
    white: float | np.ndarray,
    *,
    out_black: float = 0.0,
    out_white: float = 1.0,
) -> np.ndarray:
    """Map ``black`` -> ``out_black`` and ``white`` -> ``out_white`` linearly, clipped, as float32.

    ``black`` and ``white`` may be arrays that broadcast against ``plane`` (e.g. per-column levels of shape
    (W,) for flicker that tilts across the frame).
    """
    b = np.asarray(black, dtype=np.float32)
    scale = np.float32(out_white - out_black) / np.maximum(np.asarray(white, dtype=np.float32) - b, 1e-6)
    out = (np.asarray(plane, dtype=np.float32) - b) * scale + np.float32(out_black)
    return np.clip(out, min(out_black, out_white), max(out_black, out_white)).astype(np.float32, copy=False)
