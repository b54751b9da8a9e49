"""The per-frame chroma prediction node at the working size."""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from ..core.bridge import TorchRunner
from ..core.deferred import deferrable
from ..core.planes import plane_view

__all__ = ["predict_chroma"]

core = vs.core


def predict_chroma(luma: vs.VideoNode, runner: TorchRunner) -> vs.VideoNode:
    """YUV444PS clip at the working size: Y is ``luma`` (GRAYS, 0..1), U/V the model's (Cb, Cr), -0.5..0.5.

    The runner (model loaded once, at the latest at the first frame) is called with (1, 1, H, W) and must
    return (1, 2, H, W). Frame props of ``luma`` are kept. The node is deferrable
    (:func:`vsrestore.core.deferred.building`).
    """
    template = core.std.BlankClip(luma, format=vs.YUV444PS, keep=True)

    def apply(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        import torch

        y = np.array(plane_view(f[1], 0), dtype=np.float32, copy=True)
        c = runner(torch.from_numpy(y)[None, None])
        if c.shape[1] != 2 or c.shape[-2:] != y.shape:
            raise vs.Error(
                f"vsrestore.colorize: the model returned {tuple(c.shape)}, expected (1, 2, {y.shape[0]}, {y.shape[1]})"
            )
        fout = f[0].copy()
        plane_view(fout, 0)[...] = y
        arr = c[0].numpy()
        plane_view(fout, 1)[...] = arr[0]
        plane_view(fout, 2)[...] = arr[1]
        props = fout.props
        for k, v in f[1].props.items():
            props[k] = v
        return fout

    return deferrable(core.std.ModifyFrame(template, [template, luma], apply))
