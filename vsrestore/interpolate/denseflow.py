"""Dense optical flow pictures for the classical engine: a second opinion on the motion, per pixel.

mvtools' block vectors follow rigid motion well but not thin or non-rigid movement (people walking, a hand-held
camera's parallax), and their pictures are drawn at half-pixel precision. A dense flow (OpenCV's DIS at its
fastest preset: patch inverse search over a pyramid) makes other errors, so a mix of the two engines' pictures
is better than either; the engine weighs them per pixel by how well each motion predicts the two frames from
each other (:attr:`DenseFlow.errors`, see :mod:`.mvflow`): +0.18 dB on the tuning clips of
``benchmarks/interpolate.py`` and +0.11 dB on its held-out reporting clips. The dense picture alone is worse
(it fails on some large shakes, and has no judgement of grain and weave).

* Flow is measured on the engine's *proxy* (the luma normalised to its levels and smoothed, so flicker and grain
  do not steer it), both ways per pair (i, i+1); it is cached per pair, so every phase drawn between the same
  two frames reuses it.
* The picture at phase ``t`` is drawn from the *original* frames (grain kept) by backward warping from the
  instant, with the flows from the instant to each side approximated from the two measured flows (as in Super
  SloMo: ``F_t0 = -(1-t) t F01 + t^2 F10``, ``F_t1 = (1-t)^2 F01 - t (1-t) F10``), and the two sides are mixed
  ``(1-t) : t``.
* Sub-pixel samples matter (a bilinear warp blurs sharp footage by up to 5 dB on the CGI tuning clip): each
  frame's luma is up-sampled twice with Lanczos once (cached) and sampled there bicubically.
* Subsampled chroma is warped with the luma's flow, scaled to the plane, and sampled bicubically in the plane
  itself (it is soft already).

OpenCV (``opencv-python-headless``) is imported when the first engine that uses it is built, and its own
thread pool is then set to one thread (``cv2.setNumThreads(1)``, process-wide): VapourSynth already renders
frames in parallel, and OpenCV's threads on top of that cost a third more CPU for the same pictures.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from enum import StrEnum
from typing import Any

import numpy as np
import vapoursynth as vs

from vsrestore.core.bridge import shifted

__all__ = ["DenseFlow", "DensePreset", "import_cv2"]

core = vs.core

#: Pairs whose flows, and frames whose up-sampled luma, are kept for reuse: at most 8 of each, fewer for large
#: frames so that each cache stays under ``_CACHE_BYTES`` (a 4K pair's flows take 133 MB).
_CACHE = 8
_CACHE_BYTES = 512 << 20


def _entries(entry_bytes: int) -> int:
    return max(2, min(_CACHE, _CACHE_BYTES // max(1, entry_bytes)))


class DensePreset(StrEnum):
    """OpenCV's DIS presets: finer patch grids and more iterations, slower (at 720x540, one thread, about 4, 8
    and 40 ms per flow; two flows per pair of frames)."""

    ULTRAFAST = "ultrafast"  #: the default
    FAST = "fast"
    MEDIUM = "medium"  #: ``MVSettings.fine()``

    def cv2_preset(self, cv2: Any) -> int:
        return int(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{self.name}"))


def import_cv2() -> Any:
    """OpenCV, or an error that says how to get it (or how to do without it)."""
    try:
        import cv2
    except ImportError as e:  # pragma: no cover - installed with vsrestore
        raise vs.Error("vsrestore.interpolate: the dense optical flow needs OpenCV, which is not installed: "
                       "pip install opencv-python-headless (or pass mv_settings=MVSettings(dense=False))") from e
    return cv2


def _single_threaded(cv2: Any) -> None:
    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)


class _Lru:
    """A small thread-safe cache; values are computed outside the lock and are deterministic, so a race only
    computes one twice."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class DenseFlow:
    """Dense-flow pictures between the frames of ``clip`` (8-16 bit integer GRAY or YUV), flow measured on
    ``proxy`` (GRAY, same size as the luma, same bit depth)."""

    def __init__(self, clip: vs.VideoNode, proxy: vs.VideoNode, radius: int = 8,
                 preset: DensePreset | str = DensePreset.ULTRAFAST) -> None:
        self._cv2 = import_cv2()
        _single_threaded(self._cv2)
        self._preset = DensePreset(preset).cv2_preset(self._cv2)
        self.clip = clip
        self.proxy = proxy
        area = clip.width * clip.height
        self._flows = _Lru(_entries(2 * area * 2 * 4))  # two float32 (H, W, 2) flows per pair
        self._ups = _Lru(_entries(4 * area * clip.format.bytes_per_sample))  # the luma up-sampled twice
        self._local = threading.local()
        self._grids: dict[tuple[int, int, bool], np.ndarray] = {}
        self._nodes: dict[int, tuple[vs.VideoNode, vs.VideoNode]] = {}
        self._lock = threading.Lock()
        self._radius = radius
        self.errors = self._errors()

    def _dis(self) -> Any:
        """One DIS instance per thread (it keeps buffers between calls)."""
        dis = getattr(self._local, "dis", None)
        if dis is None:
            dis = self._cv2.DISOpticalFlow_create(self._preset)
            self._local.dis = dis
        return dis

    def _flow(self, n: int, pa: vs.VideoFrame, pb: vs.VideoFrame) -> tuple[np.ndarray, np.ndarray]:
        """Flows of pair (n, n+1) on the proxy, float32 (H, W, 2): frame n to n+1 and back."""
        hit = self._flows.get(n)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        shift = pa.format.bits_per_sample - 8
        a, b = (np.asarray(p[0]) >> shift if shift else np.asarray(p[0]) for p in (pa, pb))
        a, b = a.astype(np.uint8), b.astype(np.uint8)
        dis = self._dis()
        value = (dis.calc(a, b, None), dis.calc(b, a, None))
        self._flows.put(n, value)
        return value

    def _up(self, n: int, plane: int, frame: vs.VideoFrame) -> np.ndarray:
        """Plane ``plane`` of source frame ``n`` up-sampled twice (Lanczos)."""
        key = (n, plane)
        hit = self._ups.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        src = np.asarray(frame[plane])
        h, w = src.shape
        value = self._cv2.resize(src, (2 * w, 2 * h), interpolation=self._cv2.INTER_LANCZOS4)
        self._ups.put(key, value)
        return value  # type: ignore[no-any-return]

    def at(self, q: int) -> tuple[vs.VideoNode, vs.VideoNode]:
        """Frame i: frames i and i+1 carried by the dense flow to the instant ``q/256`` (1..255) between them."""
        with self._lock:
            nodes = self._nodes.get(q)
            if nodes is None:
                nodes = (self._build(q / 256, 0), self._build(q / 256, 1))
                self._nodes[q] = nodes
            return nodes

    def _grid(self, w: int, h: int, up: bool) -> np.ndarray:
        """The sampling positions (H, W, 2) of a plane's pixels: x, y, or 2x + 0.5, 2y + 0.5 in the plane
        up-sampled twice."""
        key = (w, h, up)
        grid = self._grids.get(key)
        if grid is None:
            gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            grid = np.dstack([gx, gy])
            if up:
                grid = 2 * grid + 0.5
            self._grids[key] = grid
        return grid

    def _errors(self) -> vs.VideoNode:
        """Frame i (the proxy's format): how badly the flows predict frames i and i+1 of the proxy from each
        other, per pixel, averaged over about ``2 * radius`` pixels (two passes of a box), as the engine measures
        its vectors."""
        cv2 = self._cv2
        last = self.proxy.num_frames - 1
        k = 2 * self._radius + 1

        def draw(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
            fout = f[0].copy()
            dst = np.asarray(fout[0])
            if n >= last:
                dst[:] = 0
                return fout
            fab, fba = self._flow(n, f[0], f[1])
            a, b = np.asarray(f[0][0]), np.asarray(f[1][0])
            h, w = a.shape
            grid = self._grid(w, h, False)
            err = cv2.add(cv2.absdiff(cv2.remap(b, cv2.add(fab, grid), None, cv2.INTER_LINEAR,
                                                borderMode=cv2.BORDER_REPLICATE), a).astype(np.float32),
                          cv2.absdiff(cv2.remap(a, cv2.add(fba, grid), None, cv2.INTER_LINEAR,
                                                borderMode=cv2.BORDER_REPLICATE), b).astype(np.float32))
            err = cv2.blur(cv2.blur(err, (k, k), borderType=cv2.BORDER_REPLICATE), (k, k),
                           borderType=cv2.BORDER_REPLICATE)
            np.copyto(dst, np.clip(err * 0.5 + 0.5, 0, (1 << fout.format.bits_per_sample) - 1).astype(dst.dtype))
            return fout

        return core.std.ModifyFrame(self.proxy, [self.proxy, shifted(self.proxy, 1)], draw)

    def _scaled(self, flow: np.ndarray, w: int, h: int) -> np.ndarray:
        """A luma flow resized to a ``w`` x ``h`` plane, in that plane's pixels."""
        small = self._cv2.resize(flow, (w, h), interpolation=self._cv2.INTER_LINEAR)
        small[..., 0] *= w / self.clip.width
        small[..., 1] *= h / self.clip.height
        return small  # type: ignore[no-any-return]

    def _build(self, t: float, side: int) -> vs.VideoNode:
        """Frame i: frame i (``side`` 0) or i+1 (1) carried to the instant ``t`` (0..1) between them."""
        cv2 = self._cv2
        clip, fmt = self.clip, self.clip.format
        last = clip.num_frames - 1
        inputs = [clip, shifted(clip, 1), self.proxy, shifted(self.proxy, 1)]
        w0, h0 = clip.width, clip.height

        def draw(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
            if n >= last:  # no next frame: the picture is the frame itself
                return f[0]
            fab, fba = self._flow(n, f[2], f[3])
            # the flow from the instant to this side's frame, in pixels of the luma (Super SloMo's estimate)
            if side == 0:
                flow = cv2.addWeighted(fab, -(1 - t) * t, fba, t * t, 0.0)
            else:
                flow = cv2.addWeighted(fab, (1 - t) ** 2, fba, -t * (1 - t), 0.0)
            src, k = f[side], n + side
            fout = src.copy()
            small: np.ndarray | None = None
            for p in range(fmt.num_planes):
                dst = np.asarray(fout[p])
                h, w = dst.shape
                if (w, h) == (w0, h0):  # sharp: sampled bicubically in the plane up-sampled twice (Lanczos)
                    where = cv2.scaleAdd(flow, 2.0, self._grid(w, h, True))
                    pic = cv2.remap(self._up(k, p, src), where, None, cv2.INTER_CUBIC,
                                    borderMode=cv2.BORDER_REPLICATE)
                else:  # subsampled chroma: bicubic in the plane itself, the flow scaled to it
                    if small is None or small.shape[:2] != (h, w):
                        small = self._scaled(flow, w, h)
                    pic = cv2.remap(np.asarray(src[p]), cv2.add(small, self._grid(w, h, False)), None,
                                    cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
                np.copyto(dst, pic)
            return fout

        return core.std.ModifyFrame(clip, inputs, draw)
