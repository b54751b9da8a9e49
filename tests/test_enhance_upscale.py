"""Upscaling: the shipped FilmSR model, Real-ESRGAN layouts recognised from state dicts, nnedi3, tiling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.weights import WeightsError
from vsrestore.enhance import UpscaleMethod, load_sr_model, upscale
from vsrestore.enhance.upscale import build_from_state_dict
from vsrestore.enhance.upscale.archs import RRDBSR, CompactSR, FilmSR
from vsrestore.testing import degrade as dg
from vsrestore.testing.enhance_data import array_clip, clip_luma, psnr, real_luma

core = vs.core


@pytest.fixture(scope="module")
def pair(bikes_small: vs.VideoNode) -> tuple[vs.VideoNode, vs.VideoNode]:
    """(half-size clip, full-size clip) of 3 real frames."""
    full = bikes_small[10:13]
    return core.resize.Bicubic(full, full.width // 2, full.height // 2), full


def test_shipped_model_loads_and_beats_bicubic_on_film(bikes: vs.VideoNode) -> None:
    sr = load_sr_model()
    assert sr.arch == "FilmSR" and sr.scale == 2 and sr.channels == 1
    truth = real_luma(bikes, range(100, 103))  # 640x272, real footage
    t, h, w = truth.shape
    half = truth.reshape(t, h // 2, 2, w // 2, 2).mean(axis=(2, 4))  # a half-resolution scan ...
    grainy = dg.add_grain(half, np.random.default_rng(11), sigma=0.015, size=1.5)  # ... of grainy film
    small = array_clip(grainy, vs.GRAY16)
    out = upscale(small, 2)
    assert out.format.id == vs.GRAY16 and (out.width, out.height) == (w, h)
    assert str(out.get_frame(0).props["UpscaleMethod"]).startswith("model:FilmSR")
    bicubic = clip_luma(core.resize.Bicubic(small, w, h))
    assert psnr(clip_luma(out), truth) > psnr(bicubic, truth) + 0.5


@pytest.mark.parametrize("fmt", [vs.YUV420P8, vs.YUV420P16, vs.GRAY8, vs.GRAYS, vs.RGB24, vs.RGBS])
@pytest.mark.parametrize("method", list(UpscaleMethod))
def test_every_method_keeps_format(method: UpscaleMethod, fmt: vs.PresetVideoFormat,
                                   pair: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    small = pair[0][:1]
    f = core.get_video_format(fmt)
    clip = core.resize.Bicubic(small, format=fmt, matrix_in_s="709") if f.color_family == vs.RGB else (
        core.resize.Point(small, format=fmt) if f.color_family == vs.YUV else
        core.resize.Point(core.std.ShufflePlanes(small, 0, vs.GRAY), format=fmt))
    out = upscale(clip, 2, method=method)
    assert out.format.id == clip.format.id and (out.width, out.height) == (2 * clip.width, 2 * clip.height)
    out.get_frame(0)


def test_nnedi3_is_centred_and_beats_bicubic_on_edges(pair: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    small, full = pair
    truth = real_luma(full)
    nn = real_luma(upscale(small, 2, method="nnedi3"))
    assert psnr(nn, truth) > 30.0
    four = upscale(small, 4, method="nnedi3")
    assert (four.width, four.height) == (4 * small.width, 4 * small.height)
    three = upscale(small, 3, method="nnedi3")
    assert (three.width, three.height) == (3 * small.width, 3 * small.height)


def test_tiling_matches_whole_frames(pair: tuple[vs.VideoNode, vs.VideoNode]) -> None:
    small = pair[0][:1]
    cpu = Backend(device="cpu")  # torch's own tiling (OpenVINO, the CPU default, tiles in the plugin)
    whole = real_luma(upscale(small, 2, tile=None, backend=cpu))
    tiled = real_luma(upscale(small, 2, tile=48, overlap=16, backend=cpu))
    assert np.abs(whole - tiled).max() < 2 / 255


def _published_keys_rrdb(scale: int, blocks: int) -> dict[str, tuple[int, ...]]:
    """Key names and shapes of RealESRGAN_x{4,2}plus (3 channels, 64 features, grow 32), from the paper's code."""
    cin = {4: 3, 2: 12}[scale]
    keys: dict[str, tuple[int, ...]] = {"conv_first.weight": (64, cin, 3, 3), "conv_first.bias": (64,)}
    for b in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 6):
                ci = 64 + 32 * (c - 1)
                co = 64 if c == 5 else 32
                keys[f"body.{b}.rdb{r}.conv{c}.weight"] = (co, ci, 3, 3)
                keys[f"body.{b}.rdb{r}.conv{c}.bias"] = (co,)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        keys[f"{name}.weight"] = (64, 64, 3, 3)
        keys[f"{name}.bias"] = (64,)
    keys["conv_last.weight"] = (3, 64, 3, 3)
    keys["conv_last.bias"] = (3,)
    return keys


@pytest.mark.parametrize("scale", [4, 2])
def test_rrdbnet_layout_matches_published_checkpoints(scale: int) -> None:
    model = RRDBSR(scale=scale)  # default: 23 blocks, as RealESRGAN_x4plus / x2plus
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == _published_keys_rrdb(scale, 23)
    small = RRDBSR(scale=scale, feat=16, blocks=2, grow=8)
    sd = {k: torch.randn_like(v) * 0.01 for k, v in small.state_dict().items()}
    sr = build_from_state_dict(sd)
    assert sr.arch == f"RRDBNet x{scale}" and sr.scale == scale and sr.channels == 3
    x = torch.rand(1, 3, 12, 16)
    assert sr.model(x).shape == (1, 3, 12 * scale, 16 * scale)


def test_srvgg_compact_layout_matches_published_checkpoints() -> None:
    model = CompactSR()  # 64 features, 16 body convs, x4 (the realesr-animevideov3 layout)
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got["body.0.weight"] == (64, 3, 3, 3) and got["body.1.weight"] == (64,)
    assert got["body.34.weight"] == (48, 64, 3, 3) and "body.35.weight" not in got
    general = CompactSR(num_conv=32)
    sd = {k: torch.randn_like(v) * 0.01 for k, v in general.state_dict().items()}
    sr = build_from_state_dict(sd)
    assert sr.arch == "SRVGGNetCompact x4" and sr.channels == 3
    assert isinstance(sr.model, CompactSR) and sum(isinstance(m, torch.nn.Conv2d) for m in sr.model.body) == 34
    x2 = CompactSR(feat=16, num_conv=4, scale=2)
    sr2 = build_from_state_dict({k: v.clone() for k, v in x2.state_dict().items()})
    assert sr2.scale == 2 and sr2.model(torch.rand(1, 3, 8, 8)).shape == (1, 3, 16, 16)


def test_rgb_checkpoint_runs_on_yuv_luma_and_from_a_file(tmp_path, pair) -> None:  # type: ignore[no-untyped-def]
    small = pair[0][:1]
    model = CompactSR(feat=8, num_conv=2, scale=2)
    path = tmp_path / "tiny_compact_x2.pth"
    torch.save({"params": model.state_dict()}, path)
    out = upscale(small, 2, model=str(path))
    assert out.format.id == small.format.id and out.width == 2 * small.width
    assert "SRVGGNetCompact" in str(out.get_frame(0).props["UpscaleMethod"])
    four = upscale(small, 4, model=str(path))  # model x2, asked x4: resized after the model
    assert four.width == 4 * small.width


def test_missing_or_foreign_weights_are_refused(tmp_path, pair) -> None:  # type: ignore[no-untyped-def]
    small = pair[0][:1]
    with pytest.raises(WeightsError, match="not found"):
        upscale(small, 2, model="no_such_model")
    bad = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(WeightsError, match="unknown super-resolution layout"):
        upscale(small, 2, model=str(bad))
    with pytest.raises(ValueError, match="method"):
        upscale(small, 2, method="magic")
    with pytest.raises(ValueError, match="scale"):
        upscale(small, 0)


def test_filmsr_untrained_equals_bicubic() -> None:
    x = torch.rand(1, 1, 10, 12)
    y = FilmSR()(x)
    ref = torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    assert torch.allclose(y, ref, atol=1e-6)
