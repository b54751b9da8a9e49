"""New content coloured from the keyframe pixels that look most like it (a nearest-neighbour match, not a mean).

A frame's new content (picture that motion does not carry from the keyframe) takes colours from where the
keyframe shows similar picture. A class table (the keyframe's mean chroma per luma/contrast class) does that, but
a class mean is duller than its members and mixes the colours of different objects. Here every keyframe pixel
gets a small descriptor of its neighbourhood (its luma, the mean luma of a 7- and a 31-pixel box, the local
contrast, its height in the picture), and each new-content pixel takes the chroma of the keyframe pixels whose
descriptors are nearest: of its ``k`` nearest, the one whose chroma agrees most with the others' (the medoid),
so the colour is one that a real keyframe pixel has, with its saturation. Its confidence falls with the
descriptor distance and with the neighbours' chroma disagreement. The picks are then averaged over a small box,
weighted by confidence, so single-pixel picks do not speckle.

All of it is vectorised (a k-d tree query per frame, numpy for the rest); the tree is built once per keyframe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .stabilize import box_mean

__all__ = ["MatchSettings", "NewContentMatcher", "descriptors"]


@dataclass(frozen=True)
class MatchSettings:
    """Parameters of the nearest-neighbour match of new content (see the module doc).

    :param k: keyframe pixels compared per new pixel (default 8).
    :param stride: the keyframe is sampled every ``stride`` pixels each way for the tree (default 2).
    :param contrast: weight of the local contrast (7-pixel RMS luma, 0..0.5) in the descriptor (default 2).
    :param context: weight of the 31-pixel mean luma in the descriptor (default 0.5).
    :param height: weight of the height in the picture (0 top .. 1 bottom) in the descriptor (default 0.15).
    :param dist: descriptor distance at which confidence halves (default 0.05).
    :param agree: chroma distance (-0.5..0.5 units) from the medoid within which a neighbour agrees with it
        (default 0.03); confidence is the share of the ``k`` that agree.
    :param box: side of the box, pixels, over which the picks are averaged by confidence (default 5; 1: none).
    """

    k: int = 8
    stride: int = 2
    contrast: float = 2.0
    context: float = 0.5
    height: float = 0.15
    dist: float = 0.05
    agree: float = 0.03
    box: int = 5


def descriptors(y: np.ndarray, cfg: MatchSettings) -> np.ndarray:
    """(H, W, 5) float32 descriptor of every pixel of luma ``y`` (0..1): luma, 7-pixel mean, contrast, 31-pixel
    mean and height, weighted by ``cfg``."""
    h, w = y.shape
    m7 = box_mean(y, 7)
    sd = np.sqrt(np.maximum(box_mean(y * y, 7) - m7**2, 0.0))
    m31 = box_mean(y, 31)
    rows = np.broadcast_to((np.arange(h, dtype=np.float32) / max(h - 1, 1))[:, None], (h, w))
    return np.stack([y, m7, cfg.contrast * sd, cfg.context * m31, cfg.height * rows], axis=-1).astype(np.float32)


class NewContentMatcher:
    """The keyframe's descriptor tree and chroma; :meth:`fill` colours the pixels of a frame that need it."""

    def __init__(self, luma: np.ndarray, chroma: np.ndarray, cfg: MatchSettings) -> None:
        """:param luma: (H, W) keyframe luma 0..1. :param chroma: (2, H, W) its chroma. :param cfg: settings."""
        from scipy.spatial import cKDTree  # here: building a script's graph imports no scipy

        s = max(1, cfg.stride)
        self.cfg = cfg
        self._chroma = np.ascontiguousarray(chroma[:, ::s, ::s].reshape(2, -1).T, np.float32)  # (P, 2)
        self._tree: Any = cKDTree(descriptors(luma, cfg)[::s, ::s].reshape(-1, 5).astype(np.float64))

    def fill(self, y: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chroma (2, H, W), confidence (H, W) 0..1) for frame luma ``y``; only pixels where ``need`` is True
        are matched (the others get zero chroma and confidence)."""
        cfg = self.cfg
        h, w = y.shape
        out = np.zeros((2, h, w), np.float32)
        conf = np.zeros((h, w), np.float32)
        where = np.flatnonzero(need.ravel())
        if where.size == 0:
            return out, conf
        k = max(1, min(cfg.k, self._chroma.shape[0]))
        desc = descriptors(y, cfg).reshape(-1, 5)[where].astype(np.float64)
        d, i = self._tree.query(desc, k=k)
        d = np.asarray(d, np.float32).reshape(len(where), k)
        nb = self._chroma[np.asarray(i).reshape(len(where), k)]  # (N, k, 2)
        pair = np.sqrt(((nb[:, :, None, :] - nb[:, None, :, :]) ** 2).sum(-1))  # (N, k, k) chroma distances
        med = pair.sum(2).argmin(1)  # the medoid: the neighbour closest to the others
        rows = np.arange(len(where))
        pick = nb[rows, med]  # (N, 2)
        agree = (pair[rows, med] <= cfg.agree).mean(1)
        near = 1.0 / (1.0 + (d.mean(1) / cfg.dist) ** 2)
        c = (agree * near).astype(np.float32)
        conf.ravel()[where] = c
        for p in range(2):
            out[p].ravel()[where] = pick[:, p]
        if cfg.box > 1:  # confidence-weighted box average: no single-pixel speckle
            wsum = box_mean(conf, cfg.box)
            out = np.stack([box_mean(out[p] * conf, cfg.box) for p in range(2)]) / np.maximum(wsum, 1e-6)
            conf = np.where(need, wsum / np.maximum(box_mean(need.astype(np.float32), cfg.box), 1e-6), 0.0)
        return out.astype(np.float32), conf.astype(np.float32)
