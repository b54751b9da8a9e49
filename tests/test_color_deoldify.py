"""DeOldify generators: the state-dict layout derived from the reference source, recognition, inference path.

The expected layout below is written out independently of :mod:`vsrestore.color.models.deoldify`, from the
rules in DeOldify's ``unet.py``/``layers.py``/``generators.py`` and fastai v1's ``layers.py``/``learner.py``:
ResNet body in ``layers.0``, BatchNorm ``layers.1``, middle convs ``layers.3``, U-Net blocks ``layers.4-7``,
weight-normed pixel shuffle ``layers.8``, res block ``layers.10``, final conv ``layers.11``. The published
files are ~874 MB (wide: 218.5 M numbers) and ~255 MB (deep: 63.8 M numbers) of float32.
"""

from __future__ import annotations

import pytest
import torch

from vsrestore.color.detect import detect_arch
from vsrestore.color.models.deoldify import DeOldifyColorizer, DeOldifyKind, build_deoldify_unet
from vsrestore.color.options import ColorArch

Shape = tuple[int, ...]


def _bn(p: str, c: int) -> dict[str, Shape]:
    return {
        f"{p}.weight": (c,),
        f"{p}.bias": (c,),
        f"{p}.running_mean": (c,),
        f"{p}.running_var": (c,),
        f"{p}.num_batches_tracked": (),
    }


def _sn(p: str, cout: int, cin: int, ks: int, bias: bool, dims: int = 2) -> dict[str, Shape]:
    w: Shape = (cout, cin, ks, ks) if dims == 2 else (cout, cin, ks)
    d = {f"{p}.weight_orig": w, f"{p}.weight_u": (cout,), f"{p}.weight_v": (cin * ks**dims,)}
    if bias:
        d[f"{p}.bias"] = (cout,)
    return d


def _custom_conv(p: str, cin: int, cout: int, ks: int = 3, act: bool = True, sa: bool = False) -> dict[str, Shape]:
    """DeOldify custom_conv_layer(norm_type=Spectral, extra_bn=True): conv(no bias), [ReLU], BN, [SelfAttention]."""
    d = _sn(f"{p}.0", cout, cin, ks, bias=False)
    bn_idx = 2 if act else 1
    d |= _bn(f"{p}.{bn_idx}", cout)
    if sa:
        s = f"{p}.{bn_idx + 1}"
        d |= _sn(f"{s}.query", cout // 8, cout, 1, False, 1) | _sn(f"{s}.key", cout // 8, cout, 1, False, 1)
        d |= _sn(f"{s}.value", cout, cout, 1, False, 1) | {f"{s}.gamma": (1,)}
    return d


def _resnet(depth: int) -> dict[str, Shape]:
    d: dict[str, Shape] = {"layers.0.0.weight": (64, 3, 7, 7)} | _bn("layers.0.1", 64)
    bottleneck = depth == 101
    counts = (3, 4, 23, 3) if bottleneck else (3, 4, 6, 3)
    cin = 64
    for li, (c, n) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        for b in range(n):
            p = f"layers.0.{4 + li}.{b}"
            out = c * 4 if bottleneck else c
            if bottleneck:
                d |= {
                    f"{p}.conv1.weight": (c, cin, 1, 1),
                    f"{p}.conv2.weight": (c, c, 3, 3),
                    f"{p}.conv3.weight": (out, c, 1, 1),
                }
                d |= _bn(f"{p}.bn1", c) | _bn(f"{p}.bn2", c) | _bn(f"{p}.bn3", out)
            else:
                d |= {f"{p}.conv1.weight": (c, cin, 3, 3), f"{p}.conv2.weight": (c, c, 3, 3)}
                d |= _bn(f"{p}.bn1", c) | _bn(f"{p}.bn2", c)
            if b == 0 and (li > 0 or cin != out):
                d |= {f"{p}.downsample.0.weight": (out, cin, 1, 1)} | _bn(f"{p}.downsample.1", out)
            cin = out
    return d


def expected_layout(kind: DeOldifyKind) -> dict[str, Shape]:
    wide = kind == DeOldifyKind.WIDE
    d = _resnet(101 if wide else 34)
    ni = 2048 if wide else 512
    d |= _bn("layers.1", ni)
    d |= _custom_conv("layers.3.0", ni, ni * 2) | _custom_conv("layers.3.1", ni * 2, ni)
    skips = (1024, 512, 256, 64) if wide else (256, 128, 64, 64)
    x = ni
    for i, s in enumerate(skips):
        p = f"layers.{4 + i}"
        final = i == 3
        if wide:  # UnetBlockWide: n_out = 1024 (512 for the last); up_out = x_out = n_out // 2
            half = (512 if final else 1024) // 2
            d |= _custom_conv(f"{p}.shuf.conv", x, half * 4, ks=1, act=False) | _bn(f"{p}.bn", s)
            d |= _custom_conv(f"{p}.conv", half + s, half, sa=i == 1)
            x = half
        else:  # UnetBlockDeep, nf_factor 1.5
            up = x // 2
            n_in = up + s
            nf = int((n_in if not final else n_in // 2) * 1.5)
            d |= _custom_conv(f"{p}.shuf.conv", x, up * 4, ks=1, act=False) | _bn(f"{p}.bn", s)
            d |= _custom_conv(f"{p}.conv1", n_in, nf) | _custom_conv(f"{p}.conv2", nf, nf, sa=i == 1)
            x = nf
    # fastai PixelShuffle_ICNR (weight norm, bias), dense merge (+3), res_block (spectral, bias), final conv
    d |= {
        "layers.8.conv.0.weight_g": (x * 4, 1, 1, 1),
        "layers.8.conv.0.weight_v": (x * 4, x, 1, 1),
        "layers.8.conv.0.bias": (x * 4,),
    }
    x += 3
    d |= _sn("layers.10.layers.0.0", x, x, 3, True) | _sn("layers.10.layers.1.0", x, x, 3, True)
    d |= _sn("layers.11.0", 3, x, 1, True)
    return d


@pytest.mark.parametrize("kind", list(DeOldifyKind))
def test_deoldify_state_dict_layout(kind: DeOldifyKind) -> None:
    with torch.device("meta"):
        net = build_deoldify_unet(kind)
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    want = expected_layout(kind)
    assert sorted(set(want) - set(got)) == []
    assert sorted(set(got) - set(want)) == []
    assert {k: got[k] for k in want if got[k] != want[k]} == {}
    total = sum(int(torch.Size(s).numel()) for s in want.values())
    # float32 file sizes of the published checkpoints: ColorizeVideo/Stable_gen ~874 MB, ColorizeArtistic ~255 MB
    assert abs(total * 4 / 1e6 - (874 if kind == DeOldifyKind.WIDE else 255)) < 3
    # spot checks worked out by hand from the reference source
    if kind == DeOldifyKind.WIDE:
        assert got["layers.4.conv.0.weight_orig"] == (512, 1536, 3, 3)
        assert got["layers.5.conv.3.query.weight_orig"] == (64, 512, 1)
        assert got["layers.7.shuf.conv.0.weight_orig"] == (1024, 512, 1, 1)
        assert got["layers.11.0.weight_orig"] == (3, 259, 1, 1)
        assert detect_arch(net.state_dict()) == ColorArch.DEOLDIFY_WIDE
    else:
        assert got["layers.7.conv2.0.weight_orig"] == (300, 300, 3, 3)
        assert got["layers.8.conv.0.weight_v"] == (1200, 300, 1, 1)
        assert got["layers.10.layers.0.0.weight_orig"] == (303, 303, 3, 3)
        assert detect_arch(net.state_dict()) == ColorArch.DEOLDIFY_DEEP


def test_deoldify_strict_load_and_inference() -> None:
    torch.manual_seed(0)
    net = build_deoldify_unet(DeOldifyKind.DEEP)
    twin = build_deoldify_unet(DeOldifyKind.DEEP)
    twin.load_state_dict(net.state_dict(), strict=True)
    bad = dict(net.state_dict())
    bad.pop("layers.5.conv2.3.gamma")
    with pytest.raises(RuntimeError):
        twin.load_state_dict(bad, strict=True)
    col = DeOldifyColorizer(twin, render_size=64).eval()
    with torch.inference_mode():
        c = col(torch.rand(1, 1, 40, 56))
    assert c.shape == (1, 2, 40, 56)
    assert torch.isfinite(c).all() and c.abs().max() <= 0.5 + 1e-5


def test_colorize_runs_a_deoldify_checkpoint(bikes_small, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The public path: a file named like DeOldify's, recognised, built, strictly loaded, rendered square."""
    import numpy as np
    import vapoursynth as vs

    from vsrestore.color import api, loader

    torch.manual_seed(1)
    sd = build_deoldify_unet(DeOldifyKind.DEEP).state_dict()
    fake = tmp_path / "ColorizeArtistic_gen.pth"
    fake.write_bytes(b"placeholder: the 255 MB original is not needed to test the wiring")
    seen: list[str] = []

    def fake_load(path, info):  # type: ignore[no-untyped-def]
        seen.append(str(path))
        return sd

    monkeypatch.setattr(loader, "load_state_dict", fake_load)
    monkeypatch.setenv("VSRESTORE_MODEL_DIR", str(tmp_path))
    loaded = loader.load_colorizer("ColorizeArtistic_gen", 70)
    assert loaded.arch == ColorArch.DEOLDIFY_DEEP and loaded.square and loaded.render_size == 64
    clip = bikes_small[:2]
    res = api.colorize(clip, "ColorizeArtistic_gen", render_size=64, stabilize=False)
    f = res.get_frame(1)
    assert seen and seen[-1] == str(fake)
    assert np.array_equal(np.asarray(f[0]), np.asarray(clip.get_frame(1)[0]))
    assert res.format.id == vs.YUV420P8
