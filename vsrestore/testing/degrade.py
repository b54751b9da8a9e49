"""Film-like degradations with known truth, on float32 luma arrays in 0..1.

Every function takes an array of shape (T, H, W) (a run of frames) or (H, W) and a ``numpy.random.Generator``,
and returns a new float32 array; nothing is modified in place. They are used to make test material, benchmark
cases and training data from real footage, so that the clean original is the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FilmLook",
    "add_dust",
    "add_flicker",
    "add_grain",
    "add_scratches",
    "add_weave",
    "blur",
    "film_look",
    "to_luma",
    "vignette",
]


def _frames(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    return a[None] if a.ndim == 2 else a


def _like(out: np.ndarray, x: np.ndarray) -> np.ndarray:
    return out[0] if np.ndim(x) == 2 else out


def to_luma(rgb: np.ndarray) -> np.ndarray:
    """BT.709 luma of (..., 3) RGB in 0..1, or of uint8 RGB."""
    a = np.asarray(rgb)
    scale = 1.0 / 255.0 if a.dtype == np.uint8 else 1.0
    w = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32) * scale
    return (a.astype(np.float32) @ w).astype(np.float32)


def add_grain(x: np.ndarray, rng: np.random.Generator, sigma: float = 0.03, size: float = 1.0) -> np.ndarray:
    """Independent film grain per frame, stronger in the mid-tones; ``size`` > 1 makes it coarser."""
    f = _frames(x)
    noise = rng.standard_normal(f.shape).astype(np.float32)
    if size > 1.0:
        noise = blur(noise, size * 0.5)
        noise /= max(float(noise.std()), 1e-6)
    amp = sigma * (0.35 + 2.6 * f * (1.0 - f))
    return _like(np.clip(f + amp * noise, 0.0, 1.0), x)


def add_flicker(
    x: np.ndarray, rng: np.random.Generator, gain: float = 0.12, offset: float = 0.04, smooth: float = 0.0
) -> np.ndarray:
    """Per-frame brightness flicker: y = x * g_t + o_t, with a slight left-right gradient in g_t.

    ``smooth`` in 0..1 mixes in the previous frame's value (0: independent per frame).
    """
    f = _frames(x)
    t = f.shape[0]
    g = 1.0 + gain * rng.standard_normal((t,)).astype(np.float32)
    o = offset * rng.standard_normal((t,)).astype(np.float32)
    tilt = 0.5 * gain * rng.standard_normal((t,)).astype(np.float32)
    for i in range(1, t):
        g[i] = smooth * g[i - 1] + (1 - smooth) * g[i]
        o[i] = smooth * o[i - 1] + (1 - smooth) * o[i]
    ramp = np.linspace(-0.5, 0.5, f.shape[-1], dtype=np.float32)[None, None, :]
    out = f * (g[:, None, None] + tilt[:, None, None] * ramp) + o[:, None, None]
    return _like(np.clip(out, 0.0, 1.0), x)


def add_dust(
    x: np.ndarray, rng: np.random.Generator, density: float = 2e-4, max_radius: float = 3.0,
    return_mask: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Dark or bright specks present in one frame only; ``density`` is specks per pixel per frame.

    With ``return_mask`` also returns the boolean mask (T, H, W) of the pixels the specks cover.
    """
    f = _frames(x).copy()
    t, h, w = f.shape
    mask = np.zeros(f.shape, dtype=bool)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(t):
        n = rng.poisson(density * h * w)
        for _ in range(n):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry, rx = rng.uniform(0.8, max_radius), rng.uniform(0.8, max_radius)
            y0, y1 = int(max(0, cy - ry - 1)), int(min(h, cy + ry + 2))
            x0, x1 = int(max(0, cx - rx - 1)), int(min(w, cx + rx + 2))
            sub = ((yy[y0:y1, x0:x1] - cy) / ry) ** 2 + ((xx[y0:y1, x0:x1] - cx) / rx) ** 2 <= 1.0
            val = rng.uniform(0.0, 0.08) if rng.random() < 0.7 else rng.uniform(0.9, 1.0)
            f[i, y0:y1, x0:x1][sub] = val
            mask[i, y0:y1, x0:x1] |= sub
    out = _like(f, x)
    return (out, _like(mask, x)) if return_mask else out


def add_scratches(x: np.ndarray, rng: np.random.Generator, rate: float = 0.3, length: float = 0.6) -> np.ndarray:
    """Thin vertical scratches; ``rate`` is the chance per frame, ``length`` the mean fraction of height."""
    f = _frames(x).copy()
    t, h, w = f.shape
    for i in range(t):
        if rng.random() < rate:
            cx = int(rng.integers(2, max(3, w - 2)))
            y0 = int(rng.integers(0, max(1, h // 2)))
            y1 = min(h, y0 + int(h * min(1.0, rng.exponential(length))))
            val = 0.95 if rng.random() < 0.5 else 0.05
            f[i, y0:y1, cx] = val
            f[i, y0:y1, cx + 1] = 0.5 * (f[i, y0:y1, cx + 1] + val)
    return _like(f, x)


def add_weave(x: np.ndarray, rng: np.random.Generator, pixels: float = 1.0) -> np.ndarray:
    """Gate weave: whole-frame shifts of up to about ``pixels`` (integer shifts, edges repeated)."""
    f = _frames(x)
    out = np.empty_like(f)
    for i in range(f.shape[0]):
        dy, dx = (int(round(v)) for v in rng.normal(0.0, pixels * 0.6, size=2).clip(-2 * pixels, 2 * pixels))
        out[i] = np.roll(f[i], (dy, dx), axis=(0, 1))
        if dy > 0:
            out[i, :dy] = out[i, dy : dy + 1]
        elif dy < 0:
            out[i, dy:] = out[i, dy - 1 : dy]
        if dx > 0:
            out[i, :, :dx] = out[i, :, dx : dx + 1]
        elif dx < 0:
            out[i, :, dx:] = out[i, :, dx - 1 : dx]
    return _like(out, x)


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur over the last two axes (reflecting edges)."""
    a = np.asarray(x, dtype=np.float32)
    if sigma <= 0:
        return a.copy()
    r = max(1, int(3 * sigma + 0.5))
    k = np.exp(-0.5 * (np.arange(-r, r + 1, dtype=np.float32) / sigma) ** 2)
    k /= k.sum()
    out = a
    for axis in (-2, -1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="reflect" if out.shape[axis] > r else "edge")
        acc = np.zeros_like(out)
        for j, kv in enumerate(k):
            acc += kv * np.take(p, np.arange(j, j + out.shape[axis]), axis=axis)
        out = acc
    return out.astype(np.float32)


def vignette(x: np.ndarray, strength: float = 0.35) -> np.ndarray:
    """Darken the corners as old lenses and projectors do."""
    f = _frames(x)
    h, w = f.shape[-2:]
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    v = (1.0 - strength * np.clip((xx**2 + yy**2) / 2.0, 0, 1) ** 1.2).astype(np.float32)
    return _like(f * v, x)


@dataclass(frozen=True)
class FilmLook:
    """Strengths of the old-film look applied by :func:`film_look` (0 turns a part off)."""

    contrast: float = 0.75
    black: float = 0.06
    blur: float = 0.6
    vignette: float = 0.3
    flicker: float = 0.08
    grain: float = 0.035
    dust: float = 1.5e-4
    scratches: float = 0.25
    weave: float = 0.7


def film_look(x: np.ndarray, rng: np.random.Generator, look: FilmLook | None = None) -> np.ndarray:
    """Make clean luma frames (T, H, W) look like an old print: faded contrast, soft, vignetted, flickering,
    grainy, dusty, scratched and weaving. Each frame gets its own grain, dust and flicker."""
    lk = look or FilmLook()
    f = _frames(x)
    f = lk.black + (1.0 - 2 * lk.black) * (0.5 + lk.contrast * (f - 0.5))
    if lk.blur:
        f = blur(f, lk.blur)
    if lk.vignette:
        f = vignette(f, lk.vignette)
    if lk.weave:
        f = add_weave(f, rng, lk.weave)
    if lk.flicker:
        f = add_flicker(f, rng, gain=lk.flicker, offset=lk.flicker * 0.3)
    if lk.grain:
        f = add_grain(f, rng, lk.grain, size=1.5)
    if lk.dust:
        f = add_dust(f, rng, lk.dust)  # type: ignore[assignment]
    if lk.scratches:
        f = add_scratches(f, rng, lk.scratches)
    return _like(np.clip(f, 0.0, 1.0).astype(np.float32), x)
