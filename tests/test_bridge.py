"""The torch node bridge on real footage: formats, values, props, tiling, temporal input, threads."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import vapoursynth as vs
from scipy.ndimage import correlate

from vsrestore import Backend, torch_node
from vsrestore.core.bridge import TorchRunner
from vsrestore.core.planes import frame_to_array

core = vs.core


def box_conv(channels: int) -> torch.nn.Conv2d:
    """A known depthwise 3x3 convolution: weights 1..9 normalised, zero padding, bias 0.1."""
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=True)
    k = torch.arange(1.0, 10.0).reshape(3, 3) / 45.0
    with torch.no_grad():
        conv.weight.copy_(k.expand(channels, 1, 3, 3))
        assert conv.bias is not None
        conv.bias.fill_(0.1)
    return conv


def reference_conv(x: np.ndarray) -> np.ndarray:
    k = (np.arange(1.0, 10.0).reshape(3, 3) / 45.0).astype(np.float64)
    return np.stack([correlate(p.astype(np.float64), k, mode="constant") + 0.1 for p in x]).astype(np.float32)


def planes_of(clip: vs.VideoNode, n: int) -> np.ndarray:
    return frame_to_array(clip.get_frame(n))


FORMATS = [vs.GRAY8, vs.YUV420P8, vs.YUV420P16, vs.RGBS, vs.GRAYS]


@pytest.fixture(scope="module")
def cpu() -> Backend:
    return Backend(device="cpu", threads=2)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: vs.core.get_video_format(f).name)
def test_identity_and_conv_values(bikes_small: vs.VideoNode, fmt: int, cpu: Backend) -> None:
    kwargs = {"matrix_in_s": "709"} if core.get_video_format(fmt).color_family == vs.RGB else {}
    clip = core.resize.Bicubic(bikes_small[:6], format=fmt, **kwargs)
    clip = core.std.SetFrameProps(clip, BridgeTest=7)
    fam = clip.format.color_family
    nch = 1 if fam == vs.GRAY else 3
    ident = torch_node(clip, torch.nn.Identity(), backend=cpu)
    conv = torch_node(clip, box_conv(nch), backend=cpu)
    expect_fmt = {vs.GRAY: vs.GRAYS, vs.YUV: vs.YUV444PS, vs.RGB: vs.RGBS}[fam]
    assert ident.format.id == expect_fmt and conv.format.id == expect_fmt
    assert (ident.width, ident.height, ident.num_frames) == (clip.width, clip.height, clip.num_frames)
    # the reference input: the clip as float 4:4:4, made by VapourSynth itself
    ref_in = core.resize.Bicubic(clip, format=expect_fmt) if fam == vs.YUV else core.resize.Point(
        clip, format=expect_fmt
    )
    for n in (0, 3):
        x = planes_of(ref_in, n)
        np.testing.assert_allclose(planes_of(ident, n), x, atol=1e-6)
        np.testing.assert_allclose(planes_of(conv, n), reference_conv(x), atol=2e-5)
        if fmt == vs.GRAY8:  # limited-range 8-bit luma: 16 -> 0.0, 235 -> 1.0, as VapourSynth's float means
            assert clip.get_frame(n).props["_Range"] == vs.RANGE_LIMITED
            raw = np.asarray(clip.get_frame(n)[0]).astype(np.float32)
            np.testing.assert_allclose(planes_of(ident, n)[0], (raw - 16) / 219, atol=1e-6)
    props = conv.get_frame(2).props
    assert props["BridgeTest"] == 7
    assert props["_DurationNum"] == clip.get_frame(2).props["_DurationNum"]


def test_random_order_and_threads_identical(bikes_small: vs.VideoNode, cpu: Backend) -> None:
    net = torch.nn.Sequential(box_conv(3), torch.nn.Tanh(), box_conv(3))
    node = torch_node(bikes_small[:16], net, backend=cpu)
    in_order = [planes_of(node, n) for n in range(16)]
    order = list(range(16))
    random.Random(4).shuffle(order)
    node2 = torch_node(bikes_small[:16], net, backend=cpu)
    shuffled = {n: planes_of(node2, n) for n in order}
    node3 = torch_node(bikes_small[:16], net, backend=cpu)
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda n: planes_of(node3, n), order))
    for i, n in enumerate(order):
        np.testing.assert_array_equal(shuffled[n], in_order[n])
        np.testing.assert_array_equal(threaded[i], in_order[n])
    # vspipe-style concurrent requests through VapourSynth's own thread pool
    futures = [node3.get_frame_async(n) for n in order]
    for n, fut in zip(order, futures, strict=True):
        np.testing.assert_array_equal(frame_to_array(fut.result()), in_order[n])


def test_same_frame_whatever_thread_count_another_runner_left(bikes_small: vs.VideoNode) -> None:
    """torch keeps its CPU thread count per OS thread, and a float forward's last bits depend on it (the shipped
    colouriser differs by ~3e-8 between 1 and 2 threads, enough for a ±1 after rounding and dithering). A
    runner with threads=1 run earlier on a VapourSynth thread must not change what another runner computes
    there: each forward runs with its own backend's count, so node frames are bit-identical."""
    from vsrestore.color.loader import load_colorizer

    seen: list[int] = []

    def forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        seen.append(torch.get_num_threads())
        return model(x)

    model = load_colorizer(None, None).module
    runner = TorchRunner(model, backend=Backend(device="cpu", threads=2), forward=forward)
    one = TorchRunner(torch.nn.Identity(), backend=Backend(device="cpu", threads=1))
    x = torch.from_numpy(planes_of(core.resize.Bicubic(bikes_small[0], format=vs.GRAYS), 0)[None].copy())

    def left_at_one() -> torch.Tensor:
        one(x)  # this thread's count is now 1
        return runner(x)

    with ThreadPoolExecutor(1) as pool:
        after_one = pool.submit(left_at_one).result()
    with ThreadPoolExecutor(1) as pool:
        fresh = pool.submit(runner, x).result()
    assert seen == [2, 2]
    np.testing.assert_array_equal(after_one.numpy(), fresh.numpy())
    np.testing.assert_array_equal(runner(x).numpy(), fresh.numpy())


class TwoConv(torch.nn.Module):
    """Receptive field radius 2, zero padding; needs sides divisible by 4 (checked)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = box_conv(1), box_conv(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-1] % 4 == 0 and x.shape[-2] % 4 == 0, x.shape
        return self.b(torch.relu(self.a(x) - 0.3))


def test_tiled_matches_untiled(bikes: vs.VideoNode, cpu: Backend) -> None:
    clip = core.resize.Bicubic(bikes[:2], 638, 270, format=vs.GRAY16)  # sides not multiples of 4 or of the tile
    whole = torch_node(clip, TwoConv(), multiple=4, backend=cpu)
    tiled = torch_node(clip, TwoConv(), multiple=4, tile=(96, 128), overlap=4, backend=cpu)
    a, b = planes_of(whole, 1), planes_of(tiled, 1)
    assert a.shape == b.shape == (1, 270, 638)
    np.testing.assert_allclose(b, a, atol=1e-5)  # the documented tolerance for receptive field <= overlap
    # too little overlap makes seams: proves the test can fail
    seams = planes_of(torch_node(clip, TwoConv(), multiple=4, tile=96, overlap=0, backend=cpu), 1)
    assert np.abs(seams - a).max() > 1e-3


def test_upscaling_model_with_tiles(bikes_small: vs.VideoNode, cpu: Backend) -> None:
    up = torch.nn.Upsample(scale_factor=2, mode="nearest")
    out = torch_node(bikes_small[:2], up, scale=2, tile=64, overlap=8, luma_only=True, backend=cpu)
    assert (out.width, out.height, out.format.id) == (640, 272, vs.GRAYS)
    src = (np.asarray(bikes_small.get_frame(1)[0]).astype(np.float32) - 16) / 219  # limited range
    np.testing.assert_allclose(planes_of(out, 1)[0], np.kron(src, np.ones((2, 2), np.float32)), atol=1e-6)


def test_temporal_neighbours_and_edges(bikes_small: vs.VideoNode, cpu: Backend) -> None:
    clip = core.resize.Point(bikes_small[:5], format=vs.GRAY8)
    # the model returns the previous frame (channel 0 of n-1, n, n+1)
    prev = torch_node(clip, torch.nn.Identity(), temporal_radius=1, out_format=vs.GRAYS,
                      forward=lambda m, x: x[:, 0:1], backend=cpu)
    nxt = torch_node(clip, torch.nn.Identity(), temporal_radius=1, out_format=vs.GRAYS,
                     forward=lambda m, x: x[:, 2:3], backend=cpu)
    ref = core.resize.Point(clip, format=vs.GRAYS)
    for n in range(5):
        np.testing.assert_array_equal(planes_of(prev, n), planes_of(ref, max(n - 1, 0)))
        np.testing.assert_array_equal(planes_of(nxt, n), planes_of(ref, min(n + 1, 4)))
        assert prev.get_frame(n).props["_DurationDen"] == clip.get_frame(n).props["_DurationDen"]


def test_model_built_once(bikes_small: vs.VideoNode, cpu: Backend) -> None:
    built: list[int] = []

    def factory() -> torch.nn.Module:
        built.append(1)
        return torch.nn.Identity()

    node = torch_node(bikes_small[:8], factory, backend=cpu)
    for n in range(8):
        node.get_frame(n)
    assert built == [1]


def test_errors(bikes_small: vs.VideoNode, cpu: Backend) -> None:
    variable = core.std.Splice([bikes_small[:2], core.resize.Bicubic(bikes_small[:2], 160, 68)], mismatch=True)
    with pytest.raises(vs.Error, match="pixel format or frame size"):
        torch_node(variable, torch.nn.Identity(), backend=cpu)
    with pytest.raises(vs.Error, match="must be a float format"):
        torch_node(bikes_small, torch.nn.Identity(), out_format=vs.YUV444P8, backend=cpu)
    with pytest.raises(vs.Error, match="must be a VapourSynth video clip"):
        torch_node("clip.mkv", torch.nn.Identity())  # type: ignore[arg-type]
    node = torch_node(bikes_small, torch.nn.Conv2d(3, 2, 1), backend=cpu)
    with pytest.raises(vs.Error, match="gave 2 channels"):
        node.get_frame(0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            TorchRunner(torch.nn.Identity(), backend=Backend(device="cuda"))
    with pytest.raises(ValueError, match="threads=0"):
        TorchRunner(torch.nn.Identity(), backend=Backend(device="cpu", threads=0))


def test_backend_defaults() -> None:
    b = Backend()
    dev = b.torch_device()
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert b.dtype() == (torch.float16 if dev.type == "cuda" else torch.float32)
    assert Backend(device="cpu", fp16=False).dtype() == torch.float32
    assert b.cpu_threads() >= 1
