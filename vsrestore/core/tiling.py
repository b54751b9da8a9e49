"""Tiled inference with overlap, and padding to the multiple a model needs.

A frame of H x W is cut into tiles of at most ``tile`` pixels. Each tile is run with ``overlap`` pixels of
real neighbouring context on every side (less at the frame's edges, where the frame ends), padded on the
bottom and right to the model's ``multiple`` by reflection, and only its core (the tile without the context)
is written to the output. Tiles therefore do not blend: for a model whose receptive field reaches at most
``overlap`` pixels from an output pixel the tiled result equals the untiled one up to float rounding
(the tests check 1e-5 on float32); deeper models differ slightly near tile borders, and a larger overlap
makes that smaller. Memory is bounded by one padded tile of (tile + 2 * overlap) pixels a side.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["pad_to_multiple", "tiled_forward"]

Forward = Callable[[torch.Tensor], torch.Tensor]


def _as_pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Pad (N, C, H, W) on the bottom and right to a multiple of ``multiple``; returns the pads too."""
    if multiple <= 1:
        return x, 0, 0
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, 0, 0
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), ph, pw


def _run_padded(fn: Forward, x: torch.Tensor, multiple: int, scale: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    xp, _, _ = pad_to_multiple(x, multiple)
    y = fn(xp)
    if y.shape[-2] != xp.shape[-2] * scale or y.shape[-1] != xp.shape[-1] * scale:
        raise ValueError(
            f"tiled_forward: the model turned {tuple(xp.shape[-2:])} into {tuple(y.shape[-2:])}, "
            f"which is not scale={scale}; pass the model's real scale"
        )
    return y[..., : h * scale, : w * scale]


def tiled_forward(
    fn: Forward,
    x: torch.Tensor,
    *,
    tile: int | tuple[int, int] | None = None,
    overlap: int = 16,
    scale: int = 1,
    multiple: int = 1,
) -> torch.Tensor:
    """Run ``fn`` over ``x`` (N, C, H, W) in tiles; returns (N, C_out, H*scale, W*scale).

    :param tile: tile size in input pixels (an int for square tiles, or (height, width)); None runs the whole
        frame at once.
    :param overlap: context in input pixels added on each side of a tile and discarded afterwards.
    :param scale: the model's integer upscaling factor.
    :param multiple: the model needs input sides divisible by this (padding is added and cropped away).
    """
    if overlap < 0:
        raise ValueError(f"tiled_forward: overlap={overlap} must be >= 0")
    h, w = x.shape[-2:]
    if tile is None:
        return _run_padded(fn, x, multiple, scale)
    th, tw = _as_pair(tile)
    if th < 8 or tw < 8:
        raise ValueError(f"tiled_forward: tile={tile} is too small; use at least 8 pixels (typical: 256-1024)")
    if th >= h and tw >= w:
        return _run_padded(fn, x, multiple, scale)
    out: torch.Tensor | None = None
    s = scale
    for y0 in range(0, h, th):
        y1 = min(y0 + th, h)
        ey0, ey1 = max(0, y0 - overlap), min(h, y1 + overlap)
        for x0 in range(0, w, tw):
            x1 = min(x0 + tw, w)
            ex0, ex1 = max(0, x0 - overlap), min(w, x1 + overlap)
            res = _run_padded(fn, x[..., ey0:ey1, ex0:ex1], multiple, s)
            if out is None:
                out = res.new_empty((res.shape[0], res.shape[1], h * s, w * s))
            out[..., y0 * s : y1 * s, x0 * s : x1 * s] = res[
                ..., (y0 - ey0) * s : (y1 - ey0) * s, (x0 - ex0) * s : (x1 - ex0) * s
            ]
    assert out is not None
    return out
