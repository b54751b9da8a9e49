"""hold_frames (the fixed caches at silent_film's temporal steps): every upstream frame is rendered once however
the consumers read their windows, and the frames are the same in any order and from many threads."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
import vapoursynth as vs

from vsrestore.presets import hold_frames

core = vs.core


def _counted(clip: vs.VideoNode, counts: dict[int, int]) -> vs.VideoNode:
    lock = threading.Lock()

    def count(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        with lock:
            counts[n] = counts.get(n, 0) + 1
        return f

    return core.std.ModifyFrame(clip, clip, count)


def _windowed(clip: vs.VideoNode) -> vs.VideoNode:
    """A temporal chain shaped like silent_film's: mvtools denoising (six vector fields read around each frame),
    then motion-compensated frame-rate conversion of the result (24 -> 36 frames for every 24)."""
    sup = core.mv.Super(clip, pel=2)
    vecs = [core.mv.Analyse(sup, isb=b, delta=d, blksize=16) for d in (1, 2, 3) for b in (True, False)]
    den = core.mv.Degrain3(clip, sup, *vecs)
    sup2 = core.mv.Super(den, pel=2)
    bv, fv = core.mv.Analyse(sup2, isb=True, blksize=16), core.mv.Analyse(sup2, isb=False, blksize=16)
    return core.mv.FlowFPS(den, sup2, bv, fv, num=36, den=1)


def test_hold_frames_renders_each_frame_once_and_the_same(bikes: vs.VideoNode) -> None:
    clip = core.resize.Bicubic(bikes[:40], 320, 136, format=vs.GRAY8)
    counts: dict[int, int] = {}
    src = hold_frames(_counted(clip, counts), 48)
    out = _windowed(src)
    old_threads = core.num_threads
    core.num_threads = 8
    try:
        forward = [np.asarray(f[0]).copy() for f in out.frames(close=True)]  # 8 frames in flight at once
    finally:
        core.num_threads = old_threads
    assert sorted(counts) == list(range(40))
    assert set(counts.values()) == {1}  # every source frame rendered exactly once (without: some twice or more)
    order = list(range(out.num_frames))
    random.Random(3).shuffle(order)
    plain = _windowed(core.resize.Bicubic(bikes[:40], 320, 136, format=vs.GRAY8))  # no fixed cache
    for n in order[:12]:
        np.testing.assert_array_equal(np.asarray(out.get_frame(n)[0]), forward[n])
        np.testing.assert_array_equal(np.asarray(plain.get_frame(n)[0]), forward[n])
    assert len(forward) == out.num_frames == 57  # 40 frames at 25 fps -> 36 fps
    # output frame 31 shows source time 21.5 (frames): drawn between 21 and 22, a copy of neither
    drawn = forward[31].astype(np.float64)
    for k in (21, 22):
        assert float(np.abs(drawn - np.asarray(clip.get_frame(k)[0])).mean()) > 0.5


def test_hold_frames_refuses_no_frames(bikes: vs.VideoNode) -> None:
    with pytest.raises(ValueError, match="frames=0 must be at least 1"):
        hold_frames(bikes, 0)
