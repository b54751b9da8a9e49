"""Clips whose chroma comes from numpy: for colour benchmarks that score a method's chroma under the truth's luma."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import vapoursynth as vs

__all__ = ["with_chroma", "ycc_to_rgb"]


def with_chroma(grey: vs.VideoNode, fn: Callable[[int, np.ndarray], np.ndarray]) -> vs.VideoNode:
    """A YUV444PS clip with Y = ``grey`` (GRAYS, 0..1) and U/V = ``fn(n, y)`` (2, H, W), computed per frame."""
    tmpl = vs.core.std.BlankClip(grey, format=vs.YUV444PS, keep=True)

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        y = np.asarray(f[1][0], dtype=np.float32)
        uv = fn(n, y)
        out = f[0].copy()
        np.asarray(out[0])[...] = y
        np.asarray(out[1])[...] = uv[0]
        np.asarray(out[2])[...] = uv[1]
        return out

    return vs.core.std.ModifyFrame(tmpl, [tmpl, grey], apply)


def ycc_to_rgb(y: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """BT.709 float Y (H, W) + (2, H, W) chroma -> (H, W, 3) RGB clipped to 0..1."""
    cb, cr = uv
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    return np.clip(np.stack([r, g, b], -1), 0, 1)
