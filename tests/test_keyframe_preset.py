"""The silent_film preset rendered through vspipe with `-a keyframes=DIR`: a painted keyframe's colours arrive in
the preset's output where it was painted, and what the colourist left grey stays grey."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs
from media_fixtures import short_bw
from PIL import Image

from vsrestore.color.keyframes import read_index
from vsrestore.core.source import load_source
from vsrestore.presets import PRESET_DIR

core = vs.core

pytestmark = pytest.mark.usefixtures("private_cache")

#: the painted tints, 8-bit (Cb, Cr) offsets: left third, middle third (left grey), right third
TINTS = ((-20.0, 30.0), (0.0, 0.0), (25.0, -15.0))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vsrestore.cli.main", *args], capture_output=True, text=True,
                          timeout=1200)


def _paint_thirds(png: Path) -> np.ndarray:
    """Colour a grey keyframe in three vertical bands (:data:`TINTS`), brightness kept where the colour fits in
    RGB; returns the painted (Cb, Cr) offsets per pixel as saved (after clipping to RGB), (2, H, W) in 8-bit
    steps."""
    y = np.asarray(Image.open(png).convert("L"), np.float64)
    h, w = y.shape
    band = np.minimum(np.arange(w) * 3 // w, 2)
    cb = np.broadcast_to(np.array([t[0] for t in TINTS])[band], (h, w))
    cr = np.broadcast_to(np.array([t[1] for t in TINTS])[band], (h, w))
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    rgb = np.clip(np.stack([r, g, b], -1), 0, 255).round()
    Image.fromarray(rgb.astype(np.uint8)).save(png)
    yy = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return np.stack([(rgb[..., 2] - yy) / 1.8556, (rgb[..., 0] - yy) / 1.5748])


def _chroma8(f: vs.VideoFrame, bits: int) -> np.ndarray:
    """(Cb, Cr) of a YUV frame as offsets from neutral, in 8-bit steps."""
    scale = 2.0 ** (bits - 8)
    return np.stack([np.asarray(f[p], np.float64) / scale - 128.0 for p in (1, 2)])


def _bands(uv: np.ndarray) -> list[np.ndarray]:
    """Mean (Cb, Cr) of each vertical third, the outer 10 % of each third left out (edges blur)."""
    w = uv.shape[-1]
    out = []
    for i in range(3):
        a, b = i * w // 3, (i + 1) * w // 3
        m = (b - a) // 10
        out.append(uv[:, :, a + m : b - m].mean(axis=(1, 2)))
    return out


def _check(uv: np.ndarray, painted: np.ndarray, what: str) -> None:
    """Where the keyframe was tinted the output carries that tint; where it was left grey it stays grey; and
    the output's chroma correlates with the painted chroma over the picture."""
    ph, pw = uv.shape[1:]
    ys = np.linspace(0, painted.shape[1] - 1, ph).round().astype(int)
    xs = np.linspace(0, painted.shape[2] - 1, pw).round().astype(int)
    want = painted[:, ys][:, :, xs]
    r = float(np.corrcoef(uv.ravel(), want.ravel())[0, 1])
    assert r > 0.8, (what, r)
    for got, meant in zip(_bands(uv), _bands(want), strict=True):
        if np.abs(meant).max() < 0.5:  # left grey: stays grey (8-bit steps)
            assert np.abs(got).max() < 4.0, (what, got)
        else:  # tinted: the tint, at least 60 % of it (the output is smoother than the paint)
            assert np.all(got * np.sign(meant) > 0.6 * np.abs(meant)), (what, got, meant)


def test_silent_film_preset_takes_its_colours_from_the_keyframes(tmp_path: Path) -> None:
    film = short_bw(tmp_path, frames=48)
    kdir = tmp_path / "keys"
    r = _cli("keyframes", str(film), "-o", str(kdir), "--no-progress")  # decimated, as the preset's film
    assert r.returncode == 0, r.stderr
    shots = read_index(kdir)
    key = shots[0].key
    painted = _paint_thirds(kdir / f"{key:06d}.png")
    preset = str(PRESET_DIR / "silent_film.vpy")
    common = ("-a", f"input={film}", "-a", f"keyframes={kdir}", "--codec", "ffv1", "--no-progress", "--no-audio")

    # the colour stage (output 5: one frame per film frame): the keyframe and its neighbours
    lo, hi = max(shots[0].first, key - 2), min(shots[0].last, key + 2)
    stage = tmp_path / "colour.mkv"
    r = _cli("render", preset, "-o", str(stage), "--output-index", "5", "--start", str(lo), "--end", str(hi), *common)
    assert r.returncode == 0, r.stderr
    clip = load_source(stage)
    assert (clip.num_frames, clip.width) == (hi - lo + 1, load_source(film).width)
    clip = core.resize.Point(clip, format=vs.YUV444P16)
    for i in range(clip.num_frames):
        _check(_chroma8(clip.get_frame(i), 16), painted, f"colour stage, film frame {lo + i}")

    # the finished film (24 fps, interpolated, upscaled, grain): the output frame at the keyframe's time
    n_film = shots[-1].last + 1
    n_out = load_source(film).num_frames  # the preset's rate is the transfer's (24), so the time scale is this
    at = round(key * n_out / n_film)
    final = tmp_path / "final.mkv"
    r = _cli("render", preset, "-o", str(final), "--start", str(at), "--end", str(at), *common)
    assert r.returncode == 0, r.stderr
    out = core.resize.Point(load_source(final), format=vs.YUV444P16)
    assert out.width == 2 * load_source(film).width
    _check(_chroma8(out.get_frame(0), 16), painted, f"final output frame {at}")
