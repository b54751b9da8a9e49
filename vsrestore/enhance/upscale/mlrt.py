"""The shipped FilmSR through OpenVINO (vs-mlrt's ``ov`` plugin) on the CPU: the same net, 1.5-2x faster than
eager torch with channels-last (``benchmarks/pipeline.py``), outputs equal within 1e-5 in float32 (tested).

The network ships as ONNX beside its weights (``vsrestore/models/vsrestore_filmsr_x2.onnx``), exported from the
``.pth`` by :func:`export_filmsr_onnx` (``python -m vsrestore.enhance.upscale.mlrt``), so building a graph needs
neither torch nor an export; nothing is downloaded. It is used only while the FilmSR weights in use are the
shipped ones (a ``$VSRESTORE_MODEL_DIR`` copy of another training runs through torch).
"""

from __future__ import annotations

import os
from pathlib import Path

import vapoursynth as vs

from ...core.backend import OpenVINO, cuda_visible
from ...core.weights import MODEL_DIR_ENV, PACKAGE_MODEL_DIR

__all__ = ["DEFAULT_ONNX", "WHOLE_FRAME_PIXELS", "cpu_backend", "default_onnx", "export_filmsr_onnx", "filmsr_openvino"]

#: the shipped FilmSR x2 as ONNX (opset 17, any input size), beside ``vsrestore_filmsr_x2.pth``
DEFAULT_ONNX = "vsrestore_filmsr_x2.onnx"
_PTH = "vsrestore_filmsr_x2.pth"
#: inputs up to this many pixels go through whole (one inference per frame); larger ones in tiles
WHOLE_FRAME_PIXELS = 1920 * 1088
_TILE, _OVERLAP = 1024, 16  # input pixels; FilmSR sees 9 pixels around each output (8 3x3 convs + bicubic)


def default_onnx() -> Path | None:
    """The shipped ONNX network, or None when the FilmSR weights in use are not the shipped ones (a file of
    the same name found first in ``$VSRESTORE_MODEL_DIR``) or the ONNX file is missing."""
    for d in os.environ.get(MODEL_DIR_ENV, "").split(os.pathsep):
        if d.strip() and any((Path(d).expanduser() / (Path(_PTH).stem + ext)).is_file()
                             for ext in (".pth", ".pt", ".pkl", ".safetensors")):
            return None
    path = PACKAGE_MODEL_DIR / DEFAULT_ONNX
    return path if path.is_file() else None


def cpu_backend(*, bf16: bool = False, num_streams: int = 1) -> OpenVINO | None:
    """:class:`~vsrestore.core.backend.OpenVINO` with these settings where the shipped FilmSR can run through it
    (no CUDA GPU, the ``ov`` plugin installed, the shipped weights in use), else None (torch)."""
    if cuda_visible() or not OpenVINO.available() or default_onnx() is None:
        return None
    return OpenVINO(bf16=bf16, num_streams=num_streams)


def filmsr_openvino(gray: vs.VideoNode, network: Path, backend: OpenVINO) -> vs.VideoNode:
    """FilmSR x2 on a GRAYS clip (luma 0..1) through ``core.ov.Model``: GRAYS at twice the size.

    :param network: the ONNX file (:func:`default_onnx`).
    :param backend: precision, streams and threads (:class:`~vsrestore.core.backend.OpenVINO`).
    """
    cfg = backend.config()
    kw: dict[str, object] = {}
    if gray.width * gray.height > WHOLE_FRAME_PIXELS:
        kw = {"tilesize": [min(_TILE, gray.width), min(_TILE, gray.height)], "overlap": [_OVERLAP, _OVERLAP]}
    return vs.core.ov.Model(gray, str(network), device="CPU", num_streams=backend.num_streams,
                            config=lambda: cfg, **kw)


def export_filmsr_onnx(out: Path) -> Path:
    """Export the shipped FilmSR (``vsrestore_filmsr_x2.pth``) to ONNX at ``out`` (opset 17, dynamic height and
    width), written atomically. Needs torch and the ``onnx`` package; run once when the weights change."""
    import torch

    from .loaders import load_sr_model

    sr = load_sr_model(PACKAGE_MODEL_DIR / _PTH)
    model = sr.model.eval().float()
    tmp = out.with_name(out.name + ".tmp")
    torch.onnx.export(model, (torch.rand(1, 1, 64, 80),), str(tmp), input_names=["input"], output_names=["output"],
                      opset_version=17, dynamo=False,
                      dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height2", 3: "width2"}})
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    print(export_filmsr_onnx(PACKAGE_MODEL_DIR / DEFAULT_ONNX))
