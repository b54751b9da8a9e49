"""DDColor checkpoints: the state-dict layout derived from the reference source, strict loading, inference path,
and merging DDColor's chroma with another model's.

The expected layout below is written out independently of :mod:`vsrestore.color.models.ddcolor`, from the rules
in DDColor's ``basicsr/archs/ddcolor_arch.py`` and ``ddcolor_arch_utils/{convnext,unet,transformer_utils}.py``
(``encoder_name`` convnext-t / convnext-l, ``MultiScaleColorDecoder``, 2 output channels, ``last_norm``
Spectral, 100 queries, 3 scales, 9 decoder layers, nf 512): the published tiny file has 440 entries, the large
ones 602 (plus the two ``encoder.arch.head_cls`` keys some of them still hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import vapoursynth as vs

from vsrestore.color.api import colorize
from vsrestore.color.detect import detect_arch
from vsrestore.color.loader import load_colorizer, load_ddcolor
from vsrestore.color.models.ddcolor import DDColorColorizer, DDColorKind, build_ddcolor
from vsrestore.color.models.ddcolor.lab import gray_lightness, lab_to_rgb
from vsrestore.color.options import ColorArch, ColorMerge, ColorOut
from vsrestore.core.weights import WeightsError
from vsrestore.testing.ddcolor_weights import random_state_dict

core = vs.core
Shape = tuple[int, ...]
HEAD_CLS = ("encoder.arch.head_cls.weight", "encoder.arch.head_cls.bias")


# ----------------------------------------------------------------------------------- the layout, by hand
def _bn(p: str, c: int) -> dict[str, Shape]:
    return {f"{p}.{n}": (c,) for n in ("weight", "bias", "running_mean", "running_var")} | {
        f"{p}.num_batches_tracked": ()
    }


def _sn(p: str, cout: int, cin: int, ks: int, bias: bool) -> dict[str, Shape]:
    d = {f"{p}.weight_orig": (cout, cin, ks, ks), f"{p}.weight_u": (cout,), f"{p}.weight_v": (cin * ks * ks,)}
    return d | ({f"{p}.bias": (cout,)} if bias else {})


def _ln(p: str, c: int) -> dict[str, Shape]:
    return {f"{p}.weight": (c,), f"{p}.bias": (c,)}


def _linear(p: str, cout: int, cin: int) -> dict[str, Shape]:
    return {f"{p}.weight": (cout, cin), f"{p}.bias": (cout,)}


def expected_layout(kind: DDColorKind) -> dict[str, Shape]:
    depths, dims = (
        ((3, 3, 9, 3), (96, 192, 384, 768)) if kind == DDColorKind.TINY else ((3, 3, 27, 3), (192, 384, 768, 1536))
    )
    d: dict[str, Shape] = {"mean": (1, 3, 1, 1), "std": (1, 3, 1, 1)}
    e = "encoder.arch"
    d |= {f"{e}.downsample_layers.0.0.weight": (dims[0], 3, 4, 4), f"{e}.downsample_layers.0.0.bias": (dims[0],)}
    d |= _ln(f"{e}.downsample_layers.0.1", dims[0])
    for i in range(1, 4):
        d |= _ln(f"{e}.downsample_layers.{i}.0", dims[i - 1])
        d |= {
            f"{e}.downsample_layers.{i}.1.weight": (dims[i], dims[i - 1], 2, 2),
            f"{e}.downsample_layers.{i}.1.bias": (dims[i],),
        }
    for i, (n, c) in enumerate(zip(depths, dims, strict=True)):
        for j in range(n):
            b = f"{e}.stages.{i}.{j}"
            d |= {f"{b}.dwconv.weight": (c, 1, 7, 7), f"{b}.dwconv.bias": (c,), f"{b}.gamma": (c,)}
            d |= _ln(f"{b}.norm", c) | _linear(f"{b}.pwconv1", 4 * c, c) | _linear(f"{b}.pwconv2", c, 4 * c)
        d |= _ln(f"{e}.norm{i}", c)
    d |= _ln(f"{e}.norm", dims[3])  # the classification norm: stored, unused
    # UnetBlockWide(in_c, feature_c, out_c): shuf = 1x1 SN conv (no bias) to 4*out_c + BN; bn on the skip;
    # conv = 3x3 SN conv (no bias), ReLU, BN
    ins, outs = (dims[3], 512, 512), (512, 512, 256)
    for i, (cin, skip, cout) in enumerate(zip(ins, (dims[2], dims[1], dims[0]), outs, strict=True)):
        p = f"decoder.layers.{i}"
        d |= _sn(f"{p}.shuf.conv.0", cout * 4, cin, 1, False) | _bn(f"{p}.shuf.conv.1", cout * 4)
        d |= _bn(f"{p}.bn", skip) | _sn(f"{p}.conv.0", cout, cout + skip, 3, False) | _bn(f"{p}.conv.2", cout)
    d |= _sn("decoder.last_shuf.conv.0", 256 * 16, 256, 1, True)  # scale 4, no BN, bias
    q = "decoder.color_decoder"
    for i in range(9):
        for name, attn in (
            ("transformer_self_attention_layers", "self_attn"),
            ("transformer_cross_attention_layers", "multihead_attn"),
        ):
            p = f"{q}.{name}.{i}"
            d |= {f"{p}.{attn}.in_proj_weight": (768, 256), f"{p}.{attn}.in_proj_bias": (768,)}
            d |= _linear(f"{p}.{attn}.out_proj", 256, 256) | _ln(f"{p}.norm", 256)
        p = f"{q}.transformer_ffn_layers.{i}"
        d |= _linear(f"{p}.linear1", 2048, 256) | _linear(f"{p}.linear2", 256, 2048) | _ln(f"{p}.norm", 256)
    d |= _ln(f"{q}.decoder_norm", 256)
    d |= {
        f"{q}.query_feat.weight": (100, 256),
        f"{q}.query_embed.weight": (100, 256),
        f"{q}.level_embed.weight": (3, 256),
    }
    for i, cin in enumerate((512, 512, 256)):
        d |= {f"{q}.input_proj.{i}.weight": (256, cin, 1, 1), f"{q}.input_proj.{i}.bias": (256,)}
    for i in range(3):
        d |= _linear(f"{q}.color_embed.layers.{i}", 256, 256)
    d |= _sn("refine_net.0.0", 2, 103, 1, True)  # 100 query maps + the 3 normalised input channels
    return d


@pytest.mark.parametrize("kind", list(DDColorKind))
def test_ddcolor_state_dict_layout(kind: DDColorKind) -> None:
    net = build_ddcolor(kind, meta=True)
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    want = expected_layout(kind)
    assert len(want) == (440 if kind == DDColorKind.TINY else 602)
    assert sorted(set(want) - set(got)) == []
    assert sorted(set(got) - set(want)) == []
    assert {k: got[k] for k in want if got[k] != want[k]} == {}
    assert list(got)[:2] == ["mean", "std"]  # the buffers come first, as in the published files
    arch = ColorArch.DDCOLOR_TINY if kind == DDColorKind.TINY else ColorArch.DDCOLOR_LARGE
    assert detect_arch(net.state_dict()) == arch
    # the whole large net runs on the meta device: shapes flow through every stage at a small size
    with torch.inference_mode():
        out = net(torch.empty(1, 3, 64, 96, device="meta"))
    assert out.shape == (1, 2, 64, 96)


# ----------------------------------------------------------------------------------- synthetic weights
def sane_tiny_state_dict(seed: int, bias: tuple[float, float] = (18.0, -30.0)) -> dict[str, torch.Tensor]:
    """Random DDColor-tiny weights whose spectral-norm vectors are real singular vectors (as after training),
    so activations stay finite; the refine conv is boosted (sigma / 300) and biased towards a colour so the
    output ab has a visible, spatially varying size (tens of Lab units)."""
    sd = random_state_dict(seed, DDColorKind.TINY, iterations=15)
    sd["refine_net.0.0.weight_u"] = sd["refine_net.0.0.weight_u"] / 300
    sd["refine_net.0.0.bias"] = torch.tensor(bias)
    return sd


@pytest.fixture(scope="module")
def tiny_sd() -> dict[str, torch.Tensor]:
    return sane_tiny_state_dict(0)


@pytest.fixture(scope="module")
def tiny_file(tiny_sd: dict[str, torch.Tensor], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file laid out like the published ones: under ``params`` (and a ``params_ema`` that differs only in
    the refine bias, which must not be the one used), with the ``head_cls`` keys; float16 to keep it small."""
    half = {k: v.half() if v.is_floating_point() else v for k, v in tiny_sd.items()}
    half |= {HEAD_CLS[0]: torch.randn(4, 768).half(), HEAD_CLS[1]: torch.zeros(4).half()}
    ema = dict(half) | {"refine_net.0.0.bias": torch.tensor([-50.0, 50.0]).half()}
    path = tmp_path_factory.mktemp("ddcolor") / "ddcolor_paper_tiny.pth"
    torch.save({"params": half, "params_ema": ema}, path)
    return path


def test_strict_load_accepts_head_cls_and_names_every_other_difference(tiny_sd: dict[str, torch.Tensor]) -> None:
    with_head = dict(tiny_sd) | {HEAD_CLS[0]: torch.zeros(4, 768), HEAD_CLS[1]: torch.zeros(4)}
    loaded = load_ddcolor(with_head, ColorArch.DDCOLOR_TINY, 100, "x.pth")
    assert loaded.render_size == 96 and loaded.square  # rounded to a multiple of 32
    missing = {k: v for k, v in tiny_sd.items() if k != "decoder.color_decoder.level_embed.weight"}
    with pytest.raises(
        WeightsError, match=r"x\.pth.*1 missing: decoder\.color_decoder\.level_embed\.weight.*piddnad/DDColor"
    ):
        load_ddcolor(missing, ColorArch.DDCOLOR_TINY, 512, "x.pth")
    extra = dict(tiny_sd) | {"encoder.arch.head.weight": torch.zeros(4, 768)}
    with pytest.raises(WeightsError, match=r"1 unexpected: encoder\.arch\.head\.weight"):
        load_ddcolor(extra, ColorArch.DDCOLOR_TINY, 512, "x.pth")
    shaped = dict(tiny_sd) | {"refine_net.0.0.bias": torch.zeros(3)}
    with pytest.raises(WeightsError, match=r"refine_net\.0\.0\.bias \(3,\) \(expected \(2,\)\)"):
        load_ddcolor(shaped, ColorArch.DDCOLOR_TINY, 512, "x.pth")


def test_large_layout_loads_strictly_without_memory() -> None:
    """The ConvNeXt-L layout (602 keys + head_cls) through the real loader, on meta tensors (no 0.9 GB)."""
    sd = build_ddcolor(DDColorKind.LARGE, meta=True).state_dict()
    sd = dict(sd) | {HEAD_CLS[0]: torch.empty(4, 1536, device="meta"), HEAD_CLS[1]: torch.empty(4, device="meta")}
    assert detect_arch(sd) == ColorArch.DDCOLOR_LARGE
    loaded = load_ddcolor(sd, ColorArch.DDCOLOR_LARGE, 512, "ddcolor_artistic.pth")
    assert loaded.arch == ColorArch.DDCOLOR_LARGE and loaded.render_size == 512
    assert len(loaded.module.state_dict()) == 602
    del sd["encoder.arch.stages.2.26.gamma"]
    with pytest.raises(WeightsError, match=r"stages\.2\.26\.gamma"):
        load_ddcolor(sd, ColorArch.DDCOLOR_LARGE, 512, "ddcolor_artistic.pth")


def test_lab_round_trip_of_grey_and_colour() -> None:
    y = torch.linspace(0, 1, 11).view(1, 1, 1, 11)
    grey = lab_to_rgb(gray_lightness(y), torch.zeros(1, 2, 1, 11))
    assert torch.allclose(grey, y.expand(-1, 3, -1, -1), atol=2e-4)  # a = b = 0 gives back the grey
    # known values (OpenCV float Lab, D65): sRGB red is L 53.24, a 80.09, b 67.20
    red = lab_to_rgb(torch.tensor([53.24]).view(1, 1, 1, 1), torch.tensor([80.09, 67.20]).view(1, 2, 1, 1))
    assert torch.allclose(red.flatten(), torch.tensor([1.0, 0.0, 0.0]), atol=3e-3)


def test_forward_contract(tiny_sd: dict[str, torch.Tensor]) -> None:
    """The net sees a grey RGB square of the render size whatever the frame size; chroma comes back at the
    frame's working size, in range, and changes with the picture."""
    loaded = load_ddcolor(dict(tiny_sd), ColorArch.DDCOLOR_TINY, 64, "t.pth")
    col = loaded.module
    assert isinstance(col, DDColorColorizer)
    seen: list[torch.Tensor] = []
    col.net.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    y = torch.rand(1, 1, 1080, 2048)  # a 2K frame: the net still sees 64 x 64
    with torch.inference_mode():
        c = col.eval()(y)
    assert seen[0].shape == (1, 3, 64, 64) and torch.equal(seen[0][:, 0], seen[0][:, 2])
    assert c.shape == (1, 2, 1080, 2048) and torch.isfinite(c).all() and c.abs().max() <= 0.5 + 1e-5
    assert c.std() > 1e-3 and c.abs().mean() > 0.02  # coloured, not flat


def test_colorize_a_real_clip_with_a_ddcolor_file(bikes_small: vs.VideoNode, tiny_file: Path) -> None:
    clip = bikes_small[:3]
    loaded = load_colorizer(str(tiny_file), 64)
    assert loaded.arch == ColorArch.DDCOLOR_TINY
    assert isinstance(loaded.module, DDColorColorizer)
    bias = loaded.module.net.state_dict()["refine_net.0.0.bias"]
    assert float(bias[0]) == pytest.approx(18.0, abs=0.05)  # the file's "params", not its "params_ema"
    res = colorize(clip, str(tiny_file), render_size=64, out=ColorOut.YUV444, stabilize=False)
    assert res.format.id == vs.YUV444P8 and res.num_frames == 3
    for n in range(3):
        f, src = res.get_frame(n), clip.get_frame(n)
        assert np.array_equal(np.asarray(f[0]), np.asarray(src[0]))  # luma bit-exact
        u, v = (np.asarray(f[p], dtype=np.float64) - 128 for p in (1, 2))
        assert abs(u.mean()) > 3 and abs(v.mean()) > 3 and u.std() > 0.5  # chroma changed, not one flat tint
    # the same frame again, after others: the same picture
    again = colorize(clip, str(tiny_file), render_size=64, out=ColorOut.YUV444, stabilize=False)
    assert np.array_equal(np.asarray(again.get_frame(1)[1]), np.asarray(res.get_frame(1)[1]))


def test_missing_ddcolor_file_names_it_and_the_source(bikes_small: vs.VideoNode, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VSRESTORE_MODEL_DIR", str(tmp_path))
    missing = tmp_path / "weights" / "ddcolor_paper_tiny.pth"
    with pytest.raises(WeightsError, match=r"ddcolor_paper_tiny\.pth.*piddnad/DDColor"):
        colorize(bikes_small, str(missing))
    with pytest.raises(WeightsError, match=r"ddcolor_modelscope.*piddnad/DDColor"):
        colorize(bikes_small, "ddcolor_modelscope")


# ----------------------------------------------------------------------------------- two models together
def _uv(clip: vs.VideoNode, n: int) -> np.ndarray:
    f = clip.get_frame(n)
    return np.stack([np.asarray(f[1], dtype=np.float64), np.asarray(f[2], dtype=np.float64)])


def test_merge_default_and_ddcolor(bikes_small: vs.VideoNode, tiny_file: Path) -> None:
    """model=[a, b]: the weighted merge is the weighted mean of the two models' chroma; the constrained merge
    keeps the second within merge_limit of the first. The clip is at the models' working size (short side 64),
    so that the chroma is compared before any resize."""
    clip = core.resize.Bicubic(bikes_small[:2], 150, 64, format=vs.YUV444PS)
    kw: dict[str, Any] = dict(render_size=64, out=ColorOut.YUV444, stabilize=False)
    a = colorize(clip, None, **kw)  # the embedded default at its 64-pixel working size
    b = colorize(clip, str(tiny_file), **kw)
    both = [None, str(tiny_file)]
    for n in range(2):
        ua, ub = _uv(a, n), _uv(b, n)
        assert np.abs(ua - ub).mean() > 0.02  # the two models disagree, so the merges below can fail
        only_a = _uv(colorize(clip, both, weights=[1, 0], **kw), n)
        assert np.allclose(only_a, ua, atol=1e-6)
        mixed = _uv(colorize(clip, both, weights=[3, 1], **kw), n)
        assert np.allclose(mixed, 0.75 * ua + 0.25 * ub, atol=1e-5)
        limit = 0.02
        cons = _uv(colorize(clip, both, weights=[0, 1], merge=ColorMerge.CONSTRAINED, merge_limit=limit, **kw), n)
        assert np.allclose(cons, np.clip(ub, ua - limit, ua + limit), atol=1e-5)
        assert np.abs(cons - ua).max() <= limit + 1e-5 and np.abs(cons - ub).mean() > 0.01
    # the luma of a merged clip is still the input's
    merged = colorize(bikes_small[:1], both, render_size=64, stabilize=False)
    assert np.array_equal(np.asarray(merged.get_frame(0)[0]), np.asarray(bikes_small.get_frame(0)[0]))


def test_merge_models_with_different_working_sizes(bikes_small: vs.VideoNode, tiny_file: Path) -> None:
    """Each model at its own default size (the default net: short side 128; DDColor: its 512 square from the
    whole 320x136 picture): the second's chroma is resized to the first's working size before the merge, so
    the result is close to the mean of the two single-model outputs."""
    clip = core.resize.Bicubic(bikes_small[:1], format=vs.YUV444PS)
    kw: dict[str, Any] = dict(out=ColorOut.YUV444, stabilize=False)
    a, b = _uv(colorize(clip, None, **kw), 0), _uv(colorize(clip, str(tiny_file), **kw), 0)
    merged = colorize(clip, [None, str(tiny_file)], **kw)
    assert (merged.width, merged.height) == (320, 136)
    m = _uv(merged, 0)
    assert np.abs(a - b).mean() > 0.02
    assert np.abs(m - (a + b) / 2).mean() < 0.1 * np.abs(a - b).mean()


def test_merge_arguments_are_checked(bikes_small: vs.VideoNode) -> None:
    clip = bikes_small[:1]
    with pytest.raises(vs.Error, match=r"weights=\[1\.0\] has 1 entries but 2 model"):
        colorize(clip, [None, None], weights=[1.0])
    with pytest.raises(vs.Error, match=r"weights=.*must be >= 0"):
        colorize(clip, [None, None], weights=[1.0, -1.0])
    with pytest.raises(vs.Error, match=r"merge='mean' is not a merge mode.*ColorMerge\.CONSTRAINED"):
        colorize(clip, [None, None], merge="mean")
    with pytest.raises(vs.Error, match=r"merge_limit=2"):
        colorize(clip, [None, None], merge_limit=2)
    with pytest.raises(vs.Error, match=r"model=\[\] names no model"):
        colorize(clip, [])
