"""The shipped FilmSR through OpenVINO (vs-mlrt's ov plugin): the default on a CPU-only machine, the same
pictures as eager torch on real footage, frame-accurate, and one clear error for each misuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

from vsrestore.core.backend import Backend, OpenVINO, cuda_visible
from vsrestore.enhance import upscale
from vsrestore.enhance.upscale.mlrt import default_onnx

core = vs.core

pytestmark = pytest.mark.skipif(not OpenVINO.available(), reason="vs-mlrt's ov plugin is not installed")


@pytest.fixture(scope="module")
def film(bikes: vs.VideoNode) -> vs.VideoNode:
    """5 real frames, 4:2:0 8-bit (limited range) at 320x136."""
    return core.resize.Bicubic(bikes[40:45], 320, 136)


def _planes(node: vs.VideoNode, n: int) -> list[np.ndarray]:
    return [np.asarray(p).astype(np.float64) for p in node.get_frame(n)]


def test_openvino_equals_torch_on_real_footage(film: vs.VideoNode) -> None:
    """16-bit luma through OpenVINO (float32) and through torch differ by at most one code value in 65535; chroma
    (Spline36 either way) is identical; the result is not a plain resize."""
    clip = core.resize.Point(film, format=vs.YUV420P16)
    ov = upscale(clip, 2, backend=OpenVINO())
    eager = upscale(clip, 2, backend=Backend(device="cpu"))
    assert ov.get_frame(0).props["UpscaleMethod"] == "model:FilmSR:openvino"
    assert eager.get_frame(0).props["UpscaleMethod"] == "model:FilmSR"
    assert (ov.width, ov.height, ov.format.id) == (640, 272, vs.YUV420P16)
    spline = np.asarray(core.resize.Spline36(clip, 640, 272).get_frame(2)[0]).astype(np.float64)
    for n in range(clip.num_frames):
        a, b = _planes(ov, n), _planes(eager, n)
        assert float(np.abs(a[0] - b[0]).max()) <= 1.0
        for p in (1, 2):
            np.testing.assert_array_equal(a[p], b[p])
    assert float(np.abs(_planes(ov, 2)[0] - spline).mean()) > 50  # ~0.1% of full scale: the net added detail


def test_openvino_is_the_cpu_default_and_frame_accurate(film: vs.VideoNode) -> None:
    """Without CUDA, upscale() runs the shipped FilmSR through OpenVINO; frames asked in reverse, at random and
    from many threads are the same pictures."""
    clip = core.resize.Point(film, format=vs.GRAY16)
    out = upscale(clip, 2)
    want = "model:FilmSR" if cuda_visible() else "model:FilmSR:openvino"
    assert out.get_frame(0).props["UpscaleMethod"] == want
    forward = [np.asarray(f[0]).copy() for f in out.frames(close=True)]  # in order, several threads
    for n in (4, 1, 3, 0, 2):
        np.testing.assert_array_equal(np.asarray(upscale(clip, 2).get_frame(n)[0]), forward[n])
    # RGB (each plane through the luma net) and x4 (x2, then Spline36)
    rgb = upscale(core.resize.Point(film, format=vs.RGB24, matrix_in_s="709"), 4, backend=OpenVINO())
    assert (rgb.width, rgb.height, rgb.format.id) == (1280, 544, vs.RGB24)
    assert float(np.asarray(rgb.get_frame(1)[1]).std()) > 5


def test_openvino_misuse_is_one_clear_error(film: vs.VideoNode, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A custom model with the OpenVINO backend, or other FilmSR weights in $VSRESTORE_MODEL_DIR, is refused
    with the fix; by default those weights go through torch instead."""
    with pytest.raises(ValueError, match=r"runs only the shipped FilmSR; leave model=None"):
        upscale(film, 2, model=str(tmp_path / "x.pth"), backend=OpenVINO())
    import shutil

    from vsrestore.core.weights import PACKAGE_MODEL_DIR

    shutil.copy(PACKAGE_MODEL_DIR / "vsrestore_filmsr_x2.pth", tmp_path / "vsrestore_filmsr_x2.pth")
    monkeypatch.setenv("VSRESTORE_MODEL_DIR", str(tmp_path))
    assert default_onnx() is None
    with pytest.raises(ValueError, match=r"VSRESTORE_MODEL_DIR holds another vsrestore_filmsr_x2.pth"):
        upscale(film, 2, backend=OpenVINO())
    assert upscale(film, 2).get_frame(0).props["UpscaleMethod"] == "model:FilmSR"
    with pytest.raises(ValueError, match="num_streams=0 must be at least 1"):
        OpenVINO(num_streams=0).config()


def test_openvino_tiles_match_whole_frames(film: vs.VideoNode, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames above the whole-frame size go through the plugin in overlapping tiles: the same picture (FilmSR sees
    9 pixels around each output pixel, the overlap is 16)."""
    from vsrestore.enhance.upscale import mlrt

    clip = core.resize.Point(film, format=vs.GRAY16)[:2]
    whole = [np.asarray(f[0]).astype(np.float64) for f in upscale(clip, 2, backend=OpenVINO()).frames(close=True)]
    monkeypatch.setattr(mlrt, "WHOLE_FRAME_PIXELS", 0)
    monkeypatch.setattr(mlrt, "_TILE", 96)
    tiled = [np.asarray(f[0]).astype(np.float64) for f in upscale(clip, 2, backend=OpenVINO()).frames(close=True)]
    for a, b in zip(whole, tiled, strict=True):
        assert float(np.abs(a - b).max()) <= 1.0
