"""Moving planes between VapourSynth frames and numpy arrays / torch tensors.

Planes are read through numpy views of the frame's buffer (``np.asarray(frame[p])``), so there is one copy at
most on the way in (the dtype conversion to float32, skipped when the frame is already float32) and one on
the way out (into the new frame's buffer). No Python loop touches pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import vapoursynth as vs

if TYPE_CHECKING:
    import torch

__all__ = ["frame_to_array", "frame_to_tensor", "plane_view", "write_array", "write_tensor"]


def plane_view(frame: vs.VideoFrame, plane: int) -> np.ndarray:
    """A numpy view (no copy) of one plane; writable when the frame is (a fresh copy or new frame)."""
    return np.asarray(frame[plane])


def frame_to_array(frame: vs.VideoFrame, planes: Sequence[int] | None = None) -> np.ndarray:
    """Stack planes of equal size into a float32 array of shape (C, H, W).

    Integer samples are scaled to 0..1 (by 2**bits - 1); float samples are taken as they are (GRAYS/RGBS and
    luma in 0..1, float chroma in -0.5..0.5, as VapourSynth defines them).
    """
    fmt = frame.format
    idx = list(range(fmt.num_planes)) if planes is None else list(planes)
    views = [plane_view(frame, p) for p in idx]
    shape = views[0].shape
    if any(v.shape != shape for v in views):
        raise vs.Error(
            f"vsrestore: planes {idx} of a {fmt.name} frame differ in size; convert to 4:4:4 before stacking"
        )
    out = np.empty((len(idx), *shape), dtype=np.float32)
    if fmt.sample_type == vs.INTEGER:
        scale = np.float32(1.0 / ((1 << fmt.bits_per_sample) - 1))
        for i, v in enumerate(views):
            np.multiply(v, scale, out=out[i], casting="unsafe")
    else:
        for i, v in enumerate(views):
            out[i] = v
    return out


def frame_to_tensor(frame: vs.VideoFrame, planes: Sequence[int] | None = None) -> torch.Tensor:
    """(1, C, H, W) float32 CPU tensor sharing memory with the array from :func:`frame_to_array`."""
    import torch

    return torch.from_numpy(frame_to_array(frame, planes)).unsqueeze(0)


def write_array(frame: vs.VideoFrame, array: np.ndarray, planes: Sequence[int] | None = None) -> None:
    """Write a (C, H, W) float array into a writable frame, converting to its sample type.

    Integer formats get the values rounded and clipped to 0..2**bits-1 (input 0..1); float formats take them
    as they are.
    """
    fmt = frame.format
    idx = list(range(fmt.num_planes)) if planes is None else list(planes)
    if array.ndim != 3 or array.shape[0] != len(idx):
        raise ValueError(f"write_array: array of shape {array.shape} does not fit planes {idx} of {fmt.name}")
    for i, p in enumerate(idx):
        dst = plane_view(frame, p)
        if dst.shape != array.shape[1:]:
            raise ValueError(f"write_array: plane {p} is {dst.shape}, array is {array.shape[1:]}")
        if fmt.sample_type == vs.INTEGER:
            peak = (1 << fmt.bits_per_sample) - 1
            np.copyto(dst, np.clip(np.rint(array[i] * peak), 0, peak), casting="unsafe")
        else:
            np.copyto(dst, array[i], casting="same_kind")


def write_tensor(frame: vs.VideoFrame, tensor: torch.Tensor, planes: Sequence[int] | None = None) -> None:
    """Write a (1, C, H, W) or (C, H, W) tensor (any device, any float dtype) into a writable frame."""
    t = tensor.detach()
    if t.ndim == 4:
        t = t[0]
    import torch

    write_array(frame, t.to("cpu", torch.float32).numpy(), planes)
