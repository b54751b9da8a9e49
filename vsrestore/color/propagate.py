"""Keyframe colour carried through the whole shot: a few coloured frames colour every frame of their shots.

Each keyframe steers the frames of its shot in both directions until a scene cut or the next keyframe (no
fixed reach). A *pass* carries one keyframe one way (towards the next keyframe or the clip's end); each frame
takes the passes of its segment (the frames between two neighbouring keyframes). A pass is computed in order
from its keyframe, under a lock, block by block as frames are asked for; it keeps only checkpoints of its exact
state (every ``checkpoint_every`` frames, fewer as the shot grows) and the most recent results, so its memory
does not grow with the shot's length, and a frame asked for again is recomputed from the checkpoint before it,
bit for bit the same:

* **Chained motion.** Dense motion between consecutive frames comes from mvtools: the vectors are searched on
  the luma at the working size, and compensating a coordinate ramp with them gives, for every pixel of frame
  n, where it was in frame n-1 (and in n+1, the other direction). A map from every pixel to its position in
  the keyframe is carried frame to frame along these fields (sampling coordinates does not blur colours the
  way carrying the colours themselves would), with a trust per pixel that falls where the forward and
  backward fields disagree (occlusion) or where the compensated luma does not match the frame's.
* **Matching the keyframe.** The colour of a pixel is a luma-weighted mean of the keyframe's chroma in a small
  window around its mapped position (a cross-frame joint bilateral: a pixel takes colours only from keyframe
  pixels of similar brightness, so edges do not bleed and a slightly wrong map still lands on the right
  object). Where the luma found there matches the frame's, trust comes back (a pixel occluded for a while is
  coloured again once it reappears).
* **New content** (trust low): colours from where the keyframe shows similar picture: the keyframe's mean
  chroma per class (luma, local contrast, band of the picture), confident where the class is well populated
  and of one colour; the automatic model's prediction only where neither knows. The class table is that of the
  keyframe the pass carries, so it never crosses a cut either. The fallback's chroma is scaled by
  ``fallback_gain`` (0.5) where a keyframe reaches the frame.
* **Temporal smoothing** along each pass: each frame's result takes a share of the previous frame's, carried
  along the motion where the motion step holds (a recursive filter that restarts at the keyframe and stops
  with the pass at a cut).
* **Two keyframes** in one segment: the two passes are blended by trust and by distance from each keyframe.

No colour crosses a cut (:func:`~vsrestore.interpolate.scenecut.pair_analysis`). The work is done at a working
size (short side 192 by default) whatever the frame size, so memory per frame does not grow with it. Every
frame's result depends only on its passes, computed the same way whatever the request order, so frames are the
same in order, at random or from many threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import vapoursynth as vs

from ..core.planes import plane_view
from ..interpolate.scenecut import pair_analysis
from .malloc import release_freed_memory, trim
from .reference import to_yuv444s
from .stabilize import box_mean

__all__ = ["PropagateSettings", "propagate_keyframes", "propagation_size"]

core = vs.core


@dataclass(frozen=True)
class PropagateSettings:
    """Parameters of the keyframe propagation (tuned on the tuning clips of ``benchmarks/keyframe.py``).

    :param size: short side of the working picture, pixels (at most the input's; default 192).
    :param reach: largest distance from a keyframe, frames (None: the whole shot).
    :param step_tol: local RMS luma error (0..1) of one motion step at which its trust starts to fall; it is 0
        at twice this.
    :param fb_tol: forward/backward disagreement of the motion fields, pixels, at which trust starts to fall;
        0 at three times this.
    :param key_tol: local RMS luma error between a frame and the keyframe at its mapped position below which
        trust is given back (a reappearing pixel).
    :param sigma: luma difference (0..1) scale of the cross-frame joint bilateral weights.
    :param window: the window around the mapped position, as (half width in samples, spacing in pixels).
    :param exact: luma difference (0..1) below which a pixel takes the keyframe's own colour at its mapped
        position rather than the window's mean (none: always the mean); the share falls to 0 at three times it.
    :param far: the wider window searched for pixels whose trust is low (new or uncovered content), same form
        (None: none); its colours count by the share of its samples whose luma is within ``far_sigma``.
    :param distance: frames over which a keyframe's weight halves when two keyframes share a segment.
    :param classes_min: keyframe pixels a class needs before it is trusted for new content.
    :param class_context: bins of the neighbourhood's mean luma (31-pixel box) in the class (1: not used).
    :param class_bands: horizontal bands of the picture in the class (1: not used).
    :param class_gain: factor on the class table's chroma (a class mean is duller than its members).
    :param class_spread: chroma spread (RMS, -0.5..0.5 units) of a class at which its trust halves.
    :param smooth: share (0..1) of the previous frame's result, carried along the motion, in each frame's
        (a recursive temporal filter along each pass, restarted at the keyframe, so it never crosses a cut; it
        falls with the motion step's trust); None: none.
    :param new_gain: new content (the share of a frame neither carried nor matched) as colourful as the
        keyframe: when the frame's mean chroma magnitude is below the keyframe's, its new content's chroma is
        raised by the factor that makes up the difference, at most this (None: not raised).
    :param fallback_gain: factor on the fallback's chroma where it fills what the keyframes do not know, in
        frames a keyframe reaches (default 0.5: the automatic default's gain 1.0 is a guess that costs chroma
        PSNR where the keyframe knows part of the picture; frames no keyframe reaches keep the fallback as is).
    :param cache_frames: results (a frame of one pass: float16 chroma and share, 6 bytes a working-size pixel)
        kept, most recently computed first (64 at 252x192: 19 MB); a frame that has left is computed again from
        its pass's nearest checkpoint, bit for bit the same.
    :param checkpoint_every: frames between a pass's checkpoints (its exact state: 24 bytes a working-size
        pixel), at first; a frame is computed again from at most this many frames before it.
    :param checkpoints: most checkpoints kept per pass: past this the spacing doubles, so a pass's memory does
        not grow with the shot's length (16 at 252x192: 19 MB).
    :param passes: passes (one keyframe carried one way) kept, most recently used first; one that has left
        starts again from its keyframe when asked for.
    """

    size: int = 192
    reach: int | None = None
    step_tol: float = 0.06
    fb_tol: float = 2.0
    key_tol: float = 0.05
    sigma: float = 0.04
    window: tuple[int, int] = (2, 2)
    far: tuple[int, int] | None = (3, 6)
    exact: float | None = 0.01
    far_sigma: float = 0.03
    distance: float = 40.0
    classes_min: int = 40
    class_spread: float = 0.04
    smooth: float | None = 0.7
    class_context: int = 1
    class_bands: int = 3
    class_gain: float = 1.3
    new_gain: float | None = 1.5
    fallback_gain: float = 0.5
    cache_frames: int = 64
    checkpoint_every: int = 16
    checkpoints: int = 16
    passes: int = 4


def propagation_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(w, h) of the working picture: short side ``size`` (never above the input's), aspect kept, even sides."""
    short = min(width, height)
    s = min(size, short)
    return max(2, round(width * s / short / 2) * 2), max(2, round(height * s / short / 2) * 2)


def _sample(img: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Bilinear sample of (H, W) or (C, H, W) ``img`` at (2, H, W) ``coords`` (x, y), edges clamped."""
    from scipy.ndimage import map_coordinates  # here: building a script's graph imports no scipy

    yx = np.stack([coords[1], coords[0]])
    if img.ndim == 2:
        return map_coordinates(img, yx, order=1, mode="nearest").astype(np.float32)
    return np.stack([map_coordinates(p, yx, order=1, mode="nearest") for p in img]).astype(np.float32)


def _ramp(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([xx, yy])


def _ramp_fall(x: np.ndarray, start: float, end: float) -> np.ndarray:
    """1 below ``start``, 0 above ``end``, linear between."""
    return np.clip((end - x) / (end - start), 0.0, 1.0).astype(np.float32)


@dataclass
class _Key:
    """One keyframe at the working size: its frame's luma, its chroma, and its picture-class table."""

    luma: np.ndarray
    chroma: np.ndarray
    table: np.ndarray  # (2, classes) mean chroma per class
    trust: np.ndarray  # (classes,) 0..1


_LB, _SB = 24, 6  # luma and contrast classes


def _classes(y: np.ndarray, cfg: PropagateSettings) -> tuple[np.ndarray, int]:
    """Class index per pixel (luma bin, local contrast bin, neighbourhood luma bin, vertical band) and the count
    of classes."""
    h = y.shape[0]
    sd = np.sqrt(np.maximum(box_mean(y * y, 7) - box_mean(y, 7) ** 2, 0.0))
    lb = np.clip((y * _LB).astype(np.int32), 0, _LB - 1)
    sb = np.clip((np.sqrt(sd / 0.25) * _SB).astype(np.int32), 0, _SB - 1)
    idx = lb * _SB + sb
    n = _LB * _SB
    if cfg.class_context > 1:
        ctx = np.clip((box_mean(y, 31) * cfg.class_context).astype(np.int32), 0, cfg.class_context - 1)
        idx, n = idx * cfg.class_context + ctx, n * cfg.class_context
    if cfg.class_bands > 1:
        band = np.minimum(np.arange(h) * cfg.class_bands // h, cfg.class_bands - 1).astype(np.int32)[:, None]
        idx, n = idx * cfg.class_bands + band, n * cfg.class_bands
    return idx, n


def _make_key(luma: np.ndarray, chroma: np.ndarray, cfg: PropagateSettings) -> _Key:
    cls, ncls = _classes(luma, cfg)
    idx = cls.ravel()
    cnt = np.bincount(idx, minlength=ncls).astype(np.float64)
    table = np.zeros((2, ncls))
    spread = np.zeros(ncls)
    for p in range(2):
        s = np.bincount(idx, chroma[p].ravel(), minlength=ncls)
        s2 = np.bincount(idx, chroma[p].ravel().astype(np.float64) ** 2, minlength=ncls)
        mean = s / np.maximum(cnt, 1)
        table[p] = mean
        spread += np.maximum(s2 / np.maximum(cnt, 1) - mean**2, 0.0)
    spread = np.sqrt(spread)
    trust = np.clip(cnt / cfg.classes_min, 0, 1) / (1.0 + (spread / cfg.class_spread) ** 2)
    return _Key(luma, chroma, table.astype(np.float32), trust.astype(np.float32))


def _class_fill(key: _Key, y: np.ndarray, cfg: PropagateSettings) -> tuple[np.ndarray, np.ndarray]:
    """(chroma, trust) for every pixel of ``y`` from the keyframe's class table."""
    idx, _ = _classes(y, cfg)
    return key.table[:, idx], key.trust[idx]


def _window_match(
    key: _Key, y: np.ndarray, m: np.ndarray, cfg: PropagateSettings, window: tuple[int, int] | None = None,
    sigma: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-frame joint bilateral: (chroma, match 0..1) of the keyframe around the mapped positions ``m``.

    The keyframe is drawn onto the frame through ``m`` once; each pixel then averages the drawn chroma over a
    (2 half + 1)^2 window (``step`` pixels apart), weighted by luma similarity to the frame's pixel.

    :returns: chroma, match of the centre (0..1) and support (the weights' share of their largest sum, 0..1)."""
    half, step = window or cfg.window
    sig = sigma if sigma is not None else cfg.sigma
    drawn = _sample(np.concatenate([key.luma[None], key.chroma]), m)
    r = half * step
    pad = np.pad(drawn, ((0, 0), (r, r), (r, r)), mode="edge")
    h, w = y.shape
    acc = np.zeros((2, h, w), np.float32)
    wsum = np.zeros((h, w), np.float32)
    inv = 1.0 / (2.0 * sig**2)
    total = 0.0
    for dy in range(-half, half + 1):
        for dx in range(-half, half + 1):
            win = pad[:, r + dy * step : r + dy * step + h, r + dx * step : r + dx * step + w]
            spatial = float(np.exp(-0.5 * (dx * dx + dy * dy) / max(half, 1) ** 2))
            wt = np.exp((win[0] - y) ** 2 * -inv) * spatial
            acc += wt * win[1:]
            wsum += wt
            total += spatial
    chroma = acc / np.maximum(wsum, 1e-6)
    if cfg.exact is not None:  # where the drawn keyframe's own pixel matches, its own colour (no smoothing)
        own = _ramp_fall(np.abs(drawn[0] - y), cfg.exact, 3 * cfg.exact)
        chroma = own * drawn[1:] + (1.0 - own) * chroma
    centre = _ramp_fall(np.sqrt(np.maximum(box_mean((drawn[0] - y) ** 2), 0.0)), cfg.key_tol, 2 * cfg.key_tol)
    return chroma, centre, wsum / total


@dataclass
class _Frames:
    """What one frame of the working clip gives: its luma and the motion fields to its neighbours."""

    luma: np.ndarray
    to_prev: np.ndarray  # (2, H, W): where each pixel was in frame n-1
    to_next: np.ndarray  # (2, H, W): where each pixel will be in frame n+1
    cut_next: bool  # a scene cut lies between this frame and the next


@dataclass(frozen=True)
class _State:
    """A pass's whole state after frame ``n``: resuming from it gives the following frames bit for bit.

    ``m``: (2, H, W) positions in the keyframe; ``trust``: (H, W); ``chroma``/``known``: frame n's result (the
    smoothing's memory), float32."""

    n: int
    m: np.ndarray
    trust: np.ndarray
    chroma: np.ndarray
    known: np.ndarray


@dataclass
class _Pass:
    """One keyframe carried one way until ``limit`` (the last frame it may reach) or a cut.

    Only checkpoints are kept (the state every ``interval`` frames from the keyframe, the interval doubling when
    there are more than the settings' ``checkpoints``), plus the furthest state reached (``front``), so a pass's
    memory does not grow with the shot's length; a frame whose result has left the cache is recomputed from the
    nearest checkpoint before it, which gives the same result bit for bit."""

    k: int
    direction: int
    limit: int  # the last frame it may reach (before the next keyframe, the clip's end or its reach)
    interval: int
    front: _State
    front_frames: _Frames
    checkpoints: dict[int, _State]
    end: int | None = None  # the first frame a cut stops it at (None: not met yet)

    def reaches(self, n: int) -> bool:
        d = (n - self.k) * self.direction
        return 0 < d <= (self.limit - self.k) * self.direction and (
            self.end is None or d < (self.end - self.k) * self.direction)

    def block_end(self, n: int) -> int:
        """The checkpoint frame at or after ``n`` (the end of its block), at most the limit."""
        d = (n - self.k) * self.direction
        d = -(-d // self.interval) * self.interval
        return self.k + self.direction * min(d, (self.limit - self.k) * self.direction)


class Propagator:
    """Computes the propagated chroma of each frame from its segment's passes (see the module doc).

    Memory is bounded whatever the shots' lengths: per pass, its checkpoints (at most the settings'
    ``checkpoints`` + 2 states of 24 bytes a working-size pixel) and the ``passes`` most recently used passes;
    results (6 bytes a working-size pixel) of the ``cache_frames`` most recently computed frames."""

    def __init__(
        self,
        fetch: Callable[[int], _Frames],
        keys: dict[int, np.ndarray],
        num_frames: int,
        cfg: PropagateSettings,
    ) -> None:
        self._fetch = fetch
        self._raw = keys  # frame -> (2, H, W) chroma at the working size
        self._keys: dict[int, _Key] = {}
        self.order = sorted(keys)
        self.num_frames = num_frames
        self.cfg = cfg
        self._lock = threading.Lock()
        self._passes: OrderedDict[tuple[int, int], _Pass] = OrderedDict()
        self._results: OrderedDict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._key_lock = threading.Lock()

    def key(self, k: int) -> _Key:
        with self._key_lock:
            if k not in self._keys:
                self._keys[k] = _make_key(self._fetch(k).luma, self._raw[k], self.cfg)
            return self._keys[k]

    def segment_of(self, n: int) -> tuple[int, int]:
        """(left keyframe or -1, right keyframe or num_frames) around frame n (n not a keyframe)."""
        left = max((k for k in self.order if k < n), default=-1)
        right = min((k for k in self.order if k > n), default=self.num_frames)
        return left, right

    def result(self, n: int) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(chroma, share of the keyframes' colours 0..1, the keyframe reaching it) of frame n, or None when no
        keyframe reaches it."""
        if n in self._raw:
            k = self.key(n)
            return k.chroma, np.ones(k.luma.shape, np.float32), n
        left, right = self.segment_of(n)
        with self._lock:
            fwd = self._get(left, +1, right, n) if left >= 0 else None
            bwd = self._get(right, -1, left, n) if right < self.num_frames else None
        if fwd is not None and bwd is not None:
            (ca, ta), (cb, tb) = fwd, bwd
            d0 = self.cfg.distance
            wa = ta.astype(np.float32) / (1.0 + (n - left) / d0) + 1e-4
            wb = tb.astype(np.float32) / (1.0 + (right - n) / d0) + 1e-4
            c = ((wa * ca + wb * cb) / (wa + wb)).astype(np.float16)
            t = np.maximum(ta, tb)
            return c.astype(np.float32), t.astype(np.float32), left if n - left <= right - n else right
        if fwd is None and bwd is None:
            return None
        c16, t16 = fwd if fwd is not None else bwd  # type: ignore[misc]
        return c16.astype(np.float32), t16.astype(np.float32), left if fwd is not None else right

    # ---- passes: computed lazily, block by block, from checkpoints ------------------------------------------

    def _pass_of(self, k: int, direction: int, stop: int) -> _Pass:
        pid = (k, direction)
        p = self._passes.get(pid)
        if p is None:
            reach = self.cfg.reach if self.cfg.reach is not None else self.num_frames
            edge = self.num_frames - 1 if direction > 0 else 0
            limit = stop - direction  # the frame before the next keyframe (or the clip's end)
            limit = min(limit, edge, k + reach) if direction > 0 else max(limit, edge, k - reach)
            p = _Pass(k, direction, limit, max(1, self.cfg.checkpoint_every), *self._start(k), {})
            self._passes[pid] = p
            while len(self._passes) > max(1, self.cfg.passes):
                self._passes.popitem(last=False)
        self._passes.move_to_end(pid)
        return p

    def _get(self, k: int, direction: int, stop: int, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Pass (k, direction)'s result at frame n: (chroma, known) float16, or None when it does not reach n."""
        p = self._pass_of(k, direction, stop)
        rid = (k, direction, n)
        if not p.reaches(n):
            return None
        got = self._results.get(rid)
        if got is not None:
            self._results.move_to_end(rid)
            return got
        front_d = (p.front.n - k) * direction
        if (n - k) * direction > front_d:  # past the front: carry the front on to the end of n's block
            return self._walk(p, p.front, p.front_frames, p.block_end(n), n)
        else:  # behind it: again from the nearest checkpoint before n (or the keyframe)
            before = [c for c in p.checkpoints if (n - c) * direction > 0]
            if before:
                c = max(before, key=lambda c: (c - k) * direction)
                state, frames = p.checkpoints[c], self._fetch(c)
            else:
                state, frames = self._start(k)
        return self._walk(p, state, frames, p.block_end(n), n)

    def _start(self, k: int) -> tuple[_State, _Frames]:
        """A pass's state at its keyframe k (every pixel at its own place, trusted, the keyframe's colours)."""
        key = self.key(k)
        h, w = key.luma.shape
        one = np.ones((h, w), np.float32)
        return _State(k, _ramp(h, w), one, key.chroma, one), self._fetch(k)

    def _walk(self, p: _Pass, state: _State, prev: _Frames, upto: int,
              want: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Carry the pass from ``state`` (after frame ``state.n``, whose frames are ``prev``) to frame ``upto``
        (inclusive) or a cut, caching every result, keeping checkpoints, moving the front.

        :returns: the result at frame ``want`` (None: a cut stops the pass before it)."""
        key = self.key(p.k)
        d = p.direction
        n = state.n + d
        got = None
        while (upto - n) * d >= 0:
            cur = self._fetch(n)
            if prev.cut_next if d > 0 else cur.cut_next:
                p.end = n
                break
            state = _step(key, state, prev, cur, n, d, self.cfg)
            res = (state.chroma.astype(np.float16), state.known.astype(np.float16))
            self._keep((p.k, d, n), res)
            trim()  # the free pages the step left in the heaps back to the system
            if n == want:
                got = res
            dist = (n - p.k) * d
            if dist % p.interval == 0:
                p.checkpoints[n] = state
                if len(p.checkpoints) > max(1, self.cfg.checkpoints):  # the spacing doubles: memory stays bounded
                    p.interval *= 2
                    p.checkpoints = {c: s for c, s in p.checkpoints.items() if ((c - p.k) * d) % p.interval == 0}
            if dist > (p.front.n - p.k) * d:
                p.front, p.front_frames = state, cur
            prev = cur
            n += d
        return got

    def _keep(self, rid: tuple[int, int, int], res: tuple[np.ndarray, np.ndarray]) -> None:
        self._results[rid] = res
        self._results.move_to_end(rid)
        while len(self._results) > max(1, self.cfg.cache_frames):
            self._results.popitem(last=False)


def _step(key: _Key, st: _State, prev: _Frames, cur: _Frames, n: int, direction: int,
          cfg: PropagateSettings) -> _State:
    """One frame of a pass: the state after frame ``n`` from the state after its neighbour towards the keyframe
    (``prev``: that neighbour's frames, ``cur``: frame n's)."""
    h, w = key.luma.shape
    grid = _ramp(h, w)
    back = cur.to_prev if direction > 0 else cur.to_next  # where cur's pixels are in prev
    there = prev.to_next if direction > 0 else prev.to_prev  # and back again
    m = _sample(st.m, back)
    trust = _sample(st.trust, back)
    fb = np.hypot(*(_sample(there, back) - grid))
    step = np.sqrt(np.maximum(box_mean((_sample(prev.luma, back) - cur.luma) ** 2), 0.0))
    moved = _ramp_fall(fb, cfg.fb_tol, 3 * cfg.fb_tol) * _ramp_fall(step, cfg.step_tol, 2 * cfg.step_tol)
    trust *= moved
    chroma, match, _ = _window_match(key, cur.luma, m, cfg)
    trust = np.maximum(trust, match)
    shown = trust
    if cfg.far is not None and float(trust.min()) < 0.5:
        far, _, support = _window_match(key, cur.luma, m, cfg, cfg.far, cfg.far_sigma)
        fc = (1.0 - trust) * np.clip(2.0 * support, 0.0, 1.0)
        shown = trust + fc
        chroma = (trust * chroma + fc * far) / np.maximum(shown, 1e-6)
    cls, cls_trust = _class_fill(key, cur.luma, cfg)  # new content: where the keyframe shows similar picture
    cls = cls * cfg.class_gain
    shown = np.clip(shown, 0.0, 1.0)
    known = shown + (1.0 - shown) * cls_trust
    chroma = (shown * chroma + (1.0 - shown) * cls_trust * cls) / np.maximum(known, 1e-6)
    if cfg.new_gain is not None:  # new content as colourful as the keyframe (mean chroma magnitude), at most x gain
        mag = np.hypot(chroma[0], chroma[1])
        new = 1.0 - shown
        lack = float(np.hypot(key.chroma[0], key.chroma[1]).mean() - mag.mean())
        if lack > 0:
            g = min(1.0 + lack / max(float((mag * new).mean()), 1e-6), cfg.new_gain)
            chroma = chroma * (1.0 + (g - 1.0) * new)
    if cfg.smooth is not None:  # the previous result carried along the motion, where the step held
        a = cfg.smooth * moved
        chroma = a * _sample(st.chroma, back) + (1.0 - a) * chroma
        known = a * _sample(st.known, back) + (1.0 - a) * known
    return _State(n, m, trust, chroma, known)


def _motion_clips(y16: vs.VideoNode) -> tuple[vs.VideoNode, vs.VideoNode]:
    """(to_prev, to_next): YUV444P16 clips whose Y/U planes hold, per pixel, the x/y position of that pixel in
    the previous / next frame times the frame prop ``PropagateScale`` (mvtools vectors on ``y16`` compensating a
    coordinate ramp)."""
    w, h = y16.width, y16.height
    scale = float(np.floor(65000.0 / (max(w, h) + 1)))
    blank = core.std.BlankClip(y16, format=vs.YUV444P16, keep=True)
    grid = np.rint(_ramp(h, w) * scale).astype(np.uint16)

    def draw(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        for p in (0, 1):
            plane_view(fout, p)[...] = grid[p]
        return fout

    ramp = core.std.ModifyFrame(blank[0], blank[0], draw) * y16.num_frames
    if y16.fps.numerator:  # a splice of clips of different rates has none
        ramp = core.std.AssumeFPS(ramp, y16)
    a16 = core.std.ShufflePlanes([y16, blank, blank], [0, 1, 2], vs.YUV)
    sup = core.mv.Super(a16, pel=2, sharp=2, hpad=16, vpad=16)
    rsup = core.mv.Super(ramp, pel=2, sharp=0, hpad=16, vpad=16, levels=1)
    out = []
    for isb in (False, True):  # False: vectors to frame n-1; True: to frame n+1
        vec = core.mv.Analyse(sup, isb=isb, delta=1, blksize=8, overlap=4, chroma=False, truemotion=True)
        comp = core.mv.Compensate(ramp, rsup, vec, thsad=16320, thscd1=16320, thscd2=255)
        out.append(core.std.SetFrameProps(comp, PropagateScale=scale))
    return out[0], out[1]


def _coords(f: vs.VideoFrame) -> np.ndarray:
    scale = float(f.props["PropagateScale"])  # type: ignore[arg-type]
    return np.stack([np.asarray(plane_view(f, p), np.float32) / scale for p in (0, 1)])


def propagate_keyframes(
    luma: vs.VideoNode,
    keys: dict[int, vs.VideoNode],
    fallback: vs.VideoNode,
    settings: PropagateSettings | None = None,
    range_in: int | None = None,
) -> vs.VideoNode:
    """Chroma of every frame of ``luma`` from keyframes carried through their shots (see the module doc).

    :param luma: GRAY luma of the clip, any depth (float 0..1 or integer full range), at any size.
    :param keys: {frame number: one-frame YUV or RGB colour clip of that frame} (checked by the caller).
    :param fallback: YUV444PS chroma to use where no keyframe knows (e.g. the automatic model's), any size; its
        ``ColorSceneCut`` and ``ColorStabWeight`` props are passed on.
    :param range_in: the luma's range (``vs.Range``) when its frames do not say.
    :returns: YUV444PS at :func:`propagation_size` (Y: the working luma, 0..1); frame props
        ``ColorReferenceFrame`` (the nearest keyframe whose colours reach this frame, -1 none) and
        ``ColorReferenceWeight`` (mean share of keyframe colours, 0..1).
    """
    cfg = settings or PropagateSettings()
    release_freed_memory()  # a long render at 2K keeps its peak (see .malloc)
    w, h = propagation_size(luma.width, luma.height, cfg.size)
    y = core.resize.Bicubic(luma, w, h, format=vs.GRAYS, range_in=range_in)
    y16 = core.resize.Point(y, format=vs.GRAY16, range_s="full", range_in_s="full")
    to_prev, to_next = _motion_clips(y16)
    cuts = pair_analysis(y)
    work = core.std.BlankClip(y, format=vs.YUV444PS, keep=True)
    fb = core.resize.Bicubic(fallback, w, h, format=vs.YUV444PS)
    raw: dict[int, np.ndarray] = {}
    for k, clip in keys.items():
        f = to_yuv444s(clip, w, h).get_frame(0)
        raw[k] = np.stack([np.array(plane_view(f, p), np.float32) for p in (1, 2)])

    def fetch(n: int) -> _Frames:
        fy, fp, fn, fc = (c.get_frame(n) for c in (y, to_prev, to_next, cuts))
        return _Frames(
            np.array(plane_view(fy, 0), np.float32),
            _coords(fp),
            _coords(fn),
            bool(fc.props.get("InterpolateSceneCut", 0)),
        )

    prop = Propagator(fetch, raw, y.num_frames, cfg)

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        fy, ff = f[1], f[2]
        fout = f[0].copy()
        yy = np.asarray(plane_view(fy, 0))
        plane_view(fout, 0)[...] = yy
        auto = np.stack([np.asarray(plane_view(ff, p)) for p in (1, 2)])
        got = prop.result(n)
        ref, weight = -1, 0.0
        if got is None:
            uv = auto
        else:
            chroma, known, ref = got
            uv = known * chroma + (1.0 - known) * cfg.fallback_gain * auto
            weight = float(known.mean())
        plane_view(fout, 1)[...] = uv[0]
        plane_view(fout, 2)[...] = uv[1]
        fout.props["ColorReferenceFrame"] = ref
        fout.props["ColorReferenceWeight"] = weight
        return fout

    out = core.std.ModifyFrame(work, [work, y, fb], apply)
    return core.std.CopyFrameProps(out, fb, props=["ColorSceneCut", "ColorStabWeight"])
