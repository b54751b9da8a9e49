"""RIFE 4.x engine: layouts derived from the published model definitions, version recognition, loading
errors that name what differs, settings (scale, ensemble, padding), a forward pass with random weights through
the node, and parity with a re-implementation of the reference's padding and call (issue 24; no real weights
are available here, so the weights are seeded random ones saved as the published files are)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.weights import WeightsError
from vsrestore.interpolate import Engine, RifeSettings, interpolate
from vsrestore.interpolate.rife import SCALES, SPECS, IFNet, Padding, detect_spec, load_rife

core = vs.core

# Layouts as read from Practical-RIFE's IFNet_HDv3.py of each release (written out here independently of
# vsrestore's module): block widths, ``in_planes`` of block 0 and of later blocks (8 = two warped frames,
# timestep, mask; 4 = the flow appended inside the block; then features), ConvTranspose output channels of
# ``lastconv.0``, encoder (kind, hidden channels, output channels).
LAYOUTS: dict[str, dict[str, Any]] = {
    "4.5": {"c": (192, 128, 96, 64), "in": (7, 8 + 4), "last": 4 * 5, "enc": None},
    "4.6": {"c": (192, 128, 96, 64), "in": (7, 8 + 4), "last": 4 * 6, "enc": None},
    "4.7": {"c": (192, 128, 96, 64), "in": (7 + 8, 8 + 4 + 8), "last": 4 * 6, "enc": ("seq2", 16, 4)},
    "4.10": {"c": (192, 128, 96, 64), "in": (7 + 16, 8 + 4 + 16), "last": 4 * 6, "enc": ("seq4", 32, 8)},
    "4.13": {"c": (192, 128, 96, 64), "in": (7 + 16, 8 + 4 + 16), "last": 4 * 6, "enc": ("head", 32, 8)},
    "4.20": {"c": (384, 192, 96, 48), "in": (7 + 16, 8 + 4 + 16), "last": 4 * 6, "enc": ("head", 32, 8)},
    "4.21": {"c": (256, 192, 96, 48), "in": (7 + 16, 8 + 4 + 16 + 8), "last": 4 * 13, "enc": ("head", 32, 8)},
    "4.22-lite": {"c": (192, 128, 64, 32), "in": (7 + 8, 8 + 4 + 8 + 8), "last": 4 * 13, "enc": ("head", 16, 4)},
    "4.25": {"c": (192, 128, 96, 64, 32), "in": (7 + 8, 8 + 4 + 8 + 8), "last": 4 * 13, "enc": ("head", 16, 4)},
    "4.25-lite": {"c": (192, 128, 96, 64, 24), "in": (7 + 8, 8 + 4 + 8 + 8), "last": 4 * 13,
                  "enc": ("head", 16, 4)},
}


def expected_shapes(version: str) -> dict[str, tuple[int, ...]]:
    return layout_shapes(LAYOUTS[version])


def layout_shapes(lay: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every parameter's shape for one row of :data:`LAYOUTS` (or a variant of one)."""
    widths, (in0, in_n), last, enc = lay["c"], lay["in"], lay["last"], lay["enc"]
    out: dict[str, tuple[int, ...]] = {}
    for k, c in enumerate(widths):
        cin = in0 if k == 0 else in_n
        b = f"block{k}."
        out[b + "conv0.0.0.weight"] = (c // 2, cin, 3, 3)
        out[b + "conv0.0.0.bias"] = (c // 2,)
        out[b + "conv0.1.0.weight"] = (c, c // 2, 3, 3)
        out[b + "conv0.1.0.bias"] = (c,)
        for j in range(8):
            out[b + f"convblock.{j}.conv.weight"] = (c, c, 3, 3)
            out[b + f"convblock.{j}.conv.bias"] = (c,)
            out[b + f"convblock.{j}.beta"] = (1, c, 1, 1)
        out[b + "lastconv.0.weight"] = (c, last, 4, 4)
        out[b + "lastconv.0.bias"] = (last,)
    if enc is not None:
        kind, w, o = enc
        if kind == "seq2":
            out.update({"encode.0.weight": (w, 3, 3, 3), "encode.0.bias": (w,), "encode.1.weight": (w, o, 4, 4),
                        "encode.1.bias": (o,)})
        else:
            names = ["encode.0", "encode.2", "encode.4", "encode.6"] if kind == "seq4" else [
                "encode.cnn0", "encode.cnn1", "encode.cnn2", "encode.cnn3"]
            shapes = [(w, 3, 3, 3), (w, w, 3, 3), (w, w, 3, 3), (w, o, 4, 4)]
            for name, shape in zip(names, shapes, strict=True):
                out[name + ".weight"] = shape
                out[name + ".bias"] = (shape[1] if name.endswith("3") or name.endswith("6") else shape[0],)
    return out


def test_every_spec_has_a_reference_layout() -> None:
    assert {s.name for s in SPECS} == set(LAYOUTS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_state_dict_layout_matches_reference(spec: object) -> None:
    net = IFNet(spec)  # type: ignore[arg-type]
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == expected_shapes(spec.name)  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_version_recognised_from_state_dict(spec: object) -> None:
    sd = IFNet(spec).state_dict()  # type: ignore[arg-type]
    assert detect_spec(sd) is spec


def random_checkpoint(path: Path, name: str, *, wrap: bool = True) -> dict[str, torch.Tensor]:
    """A flownet.pkl as Practical-RIFE's training saves it: DataParallel 'module.' keys, plus extras."""
    torch.manual_seed(0)
    spec = next(s for s in SPECS if s.name == name)
    sd = {k: v + 0.01 * torch.randn_like(v) for k, v in IFNet(spec).state_dict().items()}
    saved = dict(sd)
    if wrap:
        saved["block_tea.conv0.0.0.weight"] = torch.zeros(2, 2, 3, 3)  # training-only teacher block
        saved = {"module." + k: v for k, v in saved.items()}
    torch.save(saved, path)
    return sd


def test_load_checkpoint_file(tmp_path: Path) -> None:
    path = tmp_path / "flownet.pkl"
    sd = random_checkpoint(path, "4.21")
    net, spec = load_rife(path)
    assert spec.name == "4.21" and "4.22" in spec.versions
    for k, v in net.state_dict().items():
        assert torch.equal(v, sd[k])
    # a directory holding flownet.pkl works too
    assert load_rife(tmp_path)[1].name == "4.21"


def test_unsupported_and_broken_checkpoints(tmp_path: Path) -> None:
    old = tmp_path / "old.pkl"
    torch.save({"block0.conv0.0.0.weight": torch.zeros(96, 7, 3, 3), "block0.lastconv.weight": torch.zeros(1)}, old)
    with pytest.raises(WeightsError, match="4.0-4.4"):
        load_rife(old)
    other = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3, 3, 3)}, other)
    with pytest.raises(WeightsError, match="not a RIFE"):
        load_rife(other)
    odd = tmp_path / "odd.pkl"
    sd = IFNet(SPECS[4]).state_dict()
    sd["block0.conv0.1.0.weight"] = torch.zeros(100, 96, 3, 3)
    torch.save(sd, odd)
    with pytest.raises(WeightsError, match="RIFE"):
        load_rife(odd)
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="could not be loaded"):
        load_rife(junk)


def test_missing_weights_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bikes_small: vs.VideoNode) -> None:
    monkeypatch.setenv("VSRESTORE_MODEL_DIR", str(tmp_path))
    clip = core.std.AssumeFPS(bikes_small[:4], fpsnum=12)
    with pytest.raises(WeightsError, match="flownet"):
        interpolate(clip, 24, engine=Engine.RIFE)
    with pytest.raises(WeightsError, match="rife_v4.99"):
        interpolate(clip, 24, engine=Engine.RIFE, model="rife_v4.99")
    with pytest.raises(WeightsError, match="never downloads"):
        interpolate(clip, 24, engine=Engine.RIFE, model=str(tmp_path / "none" / "flownet.pkl"))


@pytest.mark.parametrize(("name", "fmt"), [("4.22-lite", vs.YUV420P8), ("4.6", vs.GRAY8)])
def test_forward_through_node(tmp_path: Path, bikes_small: vs.VideoNode, name: str, fmt: int) -> None:
    path = tmp_path / "flownet.pkl"
    random_checkpoint(path, name, wrap=False)
    # 100x60 is not a multiple of 32: the runner pads and crops back
    clip = core.resize.Bicubic(bikes_small[:4], 100, 60, format=fmt)
    clip = core.std.AssumeFPS(clip, fpsnum=12)
    out = interpolate(clip, 24, engine=Engine.RIFE, model=path, backend=Backend(device="cpu", threads=1))
    assert out.num_frames == 8 and out.format.id == fmt and (out.width, out.height) == (100, 60)
    for k, f in enumerate(out.frames()):
        if k % 2 == 0:
            assert np.array_equal(np.asarray(f[0]), np.asarray(clip.get_frame(k // 2)[0]))
            assert f.props["InterpolateEngine"] == "copy"
        elif k < 7:
            assert f.props["InterpolateEngine"] == "rife", f.props["InterpolateFallback"]
            assert f.props["InterpolatePhase"] == 0.5
            assert np.isfinite(np.asarray(f[0]).astype(np.float64)).all()
    # random order gives the same frames
    again = interpolate(clip, 24, engine=Engine.RIFE, model=path, backend=Backend(device="cpu", threads=1))
    for k in (5, 1, 3):
        assert np.array_equal(np.asarray(again.get_frame(k)[0]), np.asarray(out.get_frame(k)[0]))


def test_runner_pads_as_settings_say() -> None:
    from vsrestore.interpolate.rife.node import pad_frames, rife_runner
    from vsrestore.interpolate.rife.settings import pad_multiple

    spec = next(s for s in SPECS if s.name == "4.25")
    assert [pad_multiple(spec, RifeSettings(scale=sc)) for sc in (1.0, 0.5, 0.25, 2.0)] == [128, 256, 512, 128]
    assert [pad_multiple(spec, RifeSettings(scale=sc, padding="reflect")) for sc in (1.0, 0.5, 2.0)] == [64, 128, 32]
    x = torch.rand(1, 7, 70, 90)
    x[:, 6] = 0.25
    zp = pad_frames(x, 128, Padding.REFERENCE)
    assert zp.shape == (1, 7, 128, 128) and torch.equal(zp[..., :70, :90], x)
    assert not zp[:, :6, 70:].any() and not zp[:, :6, :, 90:].any()
    assert bool((zp[:, 6] == 0.25).all())  # the timestep plane covers the padded frame, as the reference's
    rp = pad_frames(x, 64, Padding.REFLECT)
    assert rp.shape == (1, 7, 128, 128) and torch.equal(rp[:, :6, 70:72, :90], x[:, :6, [68, 67]])
    runner = rife_runner(IFNet(spec), Backend(device="cpu", threads=1))
    y = runner(x)
    assert y.shape == (1, 3, 70, 90) and y.dtype == torch.float32


# ---------------------------------------------------------------------------------------------------------
# Parity with the reference. Written here from Practical-RIFE's inference_video.py, its RIFE_HDv3.Model.inference
# and IFNet_HDv3.forward of each release (the ensemble branch as in those forwards), independently of
# vsrestore's IFNet: plain functional ops on the state dict.
# ---------------------------------------------------------------------------------------------------------

#: What the forward of each tested version does beyond its parameter layout: base ``scale_list``, whether
#: later blocks add to the mask (4.5, 4.6) or replace it, and how many block outputs are passed on (4.21+).
FORWARDS: dict[str, dict[str, Any]] = {
    "4.6": {"scales": (8, 4, 2, 1), "mask_adds": True, "feat": 0},
    "4.25": {"scales": (16, 8, 4, 2, 1), "mask_adds": False, "feat": 8},
}


def reference_weights(version: str, seed: int) -> dict[str, torch.Tensor]:
    """Seeded random weights for every tensor of the reference layout, scaled so that the flows are several
    pixels (the last convolution larger) and nothing saturates."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for k, shape in expected_shapes(version).items():
        if k.endswith(".beta"):
            sd[k] = 0.2 + 0.1 * torch.rand(shape, generator=g)
        elif k.endswith(".bias"):
            sd[k] = 0.01 * torch.randn(shape, generator=g)
        else:
            transposed = "lastconv" in k or k.endswith("cnn3.weight")
            fan_in = (shape[0] if transposed else shape[1]) * shape[2] * shape[3]
            sd[k] = torch.randn(shape, generator=g) * (5.0 if "lastconv" in k else 1.0) / math.sqrt(fan_in)
    return sd


def save_published(sd: dict[str, torch.Tensor], path: Path) -> None:
    """As the published flownet.pkl files are: the DataParallel state dict, every key with ``module.``."""
    torch.save({"module." + k: v for k, v in sd.items()}, path)


def ref_warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    n, _, h, w = flow.shape
    gx = torch.linspace(-1.0, 1.0, w).view(1, 1, 1, w).expand(n, -1, h, -1)
    gy = torch.linspace(-1.0, 1.0, h).view(1, 1, h, 1).expand(n, -1, -1, w)
    f = torch.cat([flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    grid = (torch.cat([gx, gy], 1) + f).permute(0, 2, 3, 1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


def ref_block(sd: dict[str, torch.Tensor], b: str, x: torch.Tensor, flow: torch.Tensor | None,
              scale: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    def lrelu(t: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(t, 0.2)

    x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear")
    if flow is not None:
        x = torch.cat((x, F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear") / scale), 1)
    x = lrelu(F.conv2d(x, sd[b + "conv0.0.0.weight"], sd[b + "conv0.0.0.bias"], 2, 1))
    x = lrelu(F.conv2d(x, sd[b + "conv0.1.0.weight"], sd[b + "conv0.1.0.bias"], 2, 1))
    for j in range(8):
        c = f"{b}convblock.{j}."
        x = lrelu(F.conv2d(x, sd[c + "conv.weight"], sd[c + "conv.bias"], 1, 1) * sd[c + "beta"] + x)
    x = F.pixel_shuffle(F.conv_transpose2d(x, sd[b + "lastconv.0.weight"], sd[b + "lastconv.0.bias"], 2, 1), 2)
    tmp = F.interpolate(x, scale_factor=scale, mode="bilinear")
    return tmp[:, :4] * scale, tmp[:, 4:5], tmp[:, 5:]


def ref_encode(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    for j in range(3):
        x = F.leaky_relu(F.conv2d(x, sd[f"encode.cnn{j}.weight"], sd[f"encode.cnn{j}.bias"], 2 if j == 0 else 1, 1),
                         0.2)
    return F.conv_transpose2d(x, sd["encode.cnn3.weight"], sd["encode.cnn3.bias"], 2, 1)


def ref_ifnet(sd: dict[str, torch.Tensor], version: str, x: torch.Tensor, timestep: float,
              scale_list: list[float], ensemble: bool) -> torch.Tensor:
    """IFNet_HDv3.forward(x, timestep, scale_list, ensemble) -> merged[-1]."""
    fw = FORWARDS[version]
    img0, img1 = x[:, :3].clamp(0.0, 1.0), x[:, 3:6].clamp(0.0, 1.0)
    t = (x[:, :1].clone() * 0 + 1) * timestep
    enc = LAYOUTS[version]["enc"] is not None
    f0, f1 = (ref_encode(sd, img0), ref_encode(sd, img1)) if enc else (img0[:, :0], img1[:, :0])

    def swap(f: torch.Tensor) -> torch.Tensor:
        return torch.cat((f[:, 2:4], f[:, :2]), 1)

    flow: torch.Tensor | None = None
    mask = feat = img0[:, :0]
    w0, w1 = img0, img1
    for i, s in enumerate(scale_list):
        b = f"block{i}."
        if flow is None:
            flow, mask, feat = ref_block(sd, b, torch.cat((img0, img1, f0, f1, t), 1), None, s)
            if ensemble:
                f_, m_, _ = ref_block(sd, b, torch.cat((img1, img0, f1, f0, 1 - t), 1), None, s)
                flow, mask = (flow + swap(f_)) / 2, (mask + (-m_)) / 2
        else:
            wf0, wf1 = (ref_warp(f0, flow[:, :2]), ref_warp(f1, flow[:, 2:4])) if enc else (f0, f1)
            extra = feat if fw["feat"] else feat[:, :0]
            fd, m0, feat = ref_block(sd, b, torch.cat((w0, w1, wf0, wf1, t, mask, extra), 1), flow, s)
            if ensemble:
                f_, m_, _ = ref_block(sd, b, torch.cat((w1, w0, wf1, wf0, 1 - t, -mask), 1), swap(flow), s)
                fd, m0 = (fd + swap(f_)) / 2, (m0 + (-m_)) / 2
            mask = mask + m0 if fw["mask_adds"] else m0
            flow = flow + fd
        w0, w1 = ref_warp(img0, flow[:, :2]), ref_warp(img1, flow[:, 2:4])
    m = torch.sigmoid(mask)
    return w0 * m + w1 * (1 - m)


def reference_midpoint(sd: dict[str, torch.Tensor], version: str, i0: torch.Tensor, i1: torch.Tensor,
                       scale: float, ensemble: bool, timestep: float = 0.5) -> torch.Tensor:
    """inference_video.py: pad right/bottom with zeros to a multiple of max(128, 128 / scale), run
    Model.inference(I0, I1, timestep, scale) (scale_list = base / scale), crop to the frame."""
    h, w = i0.shape[-2:]
    tmp = max(128, int(128 / scale))
    ph, pw = ((h - 1) // tmp + 1) * tmp, ((w - 1) // tmp + 1) * tmp
    padding = (0, pw - w, 0, ph - h)
    scale_list = [base / scale for base in FORWARDS[version]["scales"]]
    x = torch.cat((F.pad(i0, padding), F.pad(i1, padding)), 1)
    out = ref_ifnet(sd, version, x, timestep, scale_list, ensemble)
    return out[..., :h, :w]


def _rgb(frame: vs.VideoFrame) -> torch.Tensor:
    return torch.from_numpy(np.stack([np.asarray(frame[p]) for p in range(3)]))[None].float()


@pytest.mark.parametrize(("version", "scale", "ensemble", "multi"), [
    ("4.25", 1.0, False, 3), ("4.25", 0.5, False, 2), ("4.6", 1.0, False, 2), ("4.6", 1.0, True, 2),
    ("4.6", 0.25, True, 2),
])
def test_midpoints_equal_reference(tmp_path: Path, bikes_small: vs.VideoNode, version: str, scale: float,
                                   ensemble: bool, multi: int) -> None:
    """96x72 real frames (padded by the reference to 128x128, 256 or 512): vsrestore's in-between frames
    (``multi`` times the rate: timesteps 1/2, or 1/3 and 2/3 as the reference's ``--multi 3``) equal the
    reference's within 1e-5 for the same published-style file, and differ from them where the padding, the
    scale or the ensemble pass differ (so each of them is live)."""
    sd = reference_weights(version, seed=24)
    path = tmp_path / "flownet.pkl"
    save_published(sd, path)
    clip = core.resize.Bicubic(bikes_small[10:13], 96, 72, format=vs.RGBS, matrix_in_s="709")
    clip = core.std.AssumeFPS(clip, fpsnum=12)
    cpu = Backend(device="cpu", threads=1)
    # output frame k = multi * pair + i shows timestep i / multi between source frames pair and pair + 1
    wanted = [(multi * pair + i, pair, i / multi) for pair in (0, 1) for i in range(1, multi)]

    def run(**kw: Any) -> list[torch.Tensor]:
        settings = RifeSettings(scale=scale, ensemble=ensemble, **kw)
        out = interpolate(clip, 12 * multi, engine=Engine.RIFE, model=path, backend=cpu, detect_cuts=False,
                          rife_settings=settings)
        frames = [out.get_frame(k) for k, _, _ in wanted]
        assert all(f.props["InterpolateEngine"] == "rife" for f in frames)
        assert [f.props["InterpolatePhase"] for f in frames] == pytest.approx([t for _, _, t in wanted])
        return [_rgb(f) for f in frames]

    got = run()
    src = [_rgb(clip.get_frame(k)) for k in range(3)]
    want = [reference_midpoint(sd, version, src[p], src[p + 1], scale, ensemble, t).clamp(0.0, 1.0)
            for _, p, t in wanted]
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape == (1, 3, 72, 96)
        assert float((g - w).abs().max()) <= 1e-5
    # the same network, mirrored instead of zero-padded: clearly another picture at this size
    for g, r in zip(run(padding="reflect"), got, strict=True):
        assert float((g - r).abs().max()) > 1e-2
    other_scale = 1.0 if scale != 1.0 else 0.5
    alt = reference_midpoint(sd, version, src[0], src[1], other_scale, ensemble, wanted[0][2])
    assert float((alt.clamp(0.0, 1.0) - got[0]).abs().max()) > 1e-2
    if ensemble:
        alt = reference_midpoint(sd, version, src[0], src[1], scale, False, wanted[0][2])
        assert float((alt.clamp(0.0, 1.0) - got[0]).abs().max()) > 1e-2


def _save_layout(path: Path, lay: dict[str, Any]) -> Path:
    save_published({k: torch.zeros(v) for k, v in layout_shapes(lay).items()}, path)
    return path


@pytest.mark.parametrize(("change", "words"), [
    ({"enc": ("head", 24, 4)}, "encoder width 24 (RIFE 4.25 has 16)"),
    ({"c": (192, 128, 96, 64, 32, 16)}, "block count 6 (RIFE 4.25 has 5)"),
    ({"c": (384, 256, 192, 128, 64)}, "block widths [384, 256, 192, 128, 64] (RIFE 4.25 has [192, 128, 96, 64, 32])"),
    ({"enc": ("head", 16, 16), "in": (7 + 32, 8 + 4 + 32 + 8)}, "encoder output 16 channels (RIFE 4.25 has 4)"),
])
def test_refusal_names_what_differs(tmp_path: Path, change: dict[str, Any], words: str) -> None:
    """A 4.25-like file with one thing changed: the message names that thing, both values, and the versions
    vsrestore knows."""
    path = _save_layout(tmp_path / "flownet.pkl", {**LAYOUTS["4.25"], **change})
    with pytest.raises(WeightsError) as err:
        load_rife(path)
    msg = str(err.value)
    assert words in msg, msg
    assert "closest is RIFE 4.25" in msg and "4.26" in msg and "4.22-lite" in msg and "4.5" in msg


def test_refusal_names_the_tensor_that_does_not_fit(tmp_path: Path) -> None:
    # blocks, encoder and outputs as 4.25, but block 0 takes 16 feature channels: a variant not known
    path = _save_layout(tmp_path / "flownet.pkl", {**LAYOUTS["4.25"], "in": (7 + 16, 8 + 4 + 8 + 8)})
    with pytest.raises(WeightsError, match=r"RIFE 4\.25 .*'block0\.conv0\.0\.0\.weight' has shape \(96, 23, 3, 3\) "
                                           r"where RIFE 4\.25 has \(96, 15, 3, 3\)"):
        load_rife(path)


def test_settings_refused_with_the_fix(tmp_path: Path, bikes_small: vs.VideoNode) -> None:
    with pytest.raises(ValueError, match=r"scale=0\.3 .* 0\.25, 0\.5, 1\.0, 2\.0, 4\.0"):
        RifeSettings(scale=0.3)
    with pytest.raises(ValueError, match=r"scale='half' .* 0\.25, 0\.5"):
        RifeSettings(scale="half")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="padding='edge'.*'reference' or 'reflect'"):
        RifeSettings(padding="edge")
    assert RifeSettings(padding="reflect").padding is Padding.REFLECT and set(SCALES) >= {0.25, 0.5, 1.0}
    path = _save_layout(tmp_path / "flownet.pkl", LAYOUTS["4.25"])
    clip = core.std.AssumeFPS(bikes_small[:3], fpsnum=12)
    with pytest.raises(TypeError, match=r"rife_settings must be a RifeSettings\(.*not dict"):
        interpolate(clip, 24, engine=Engine.RIFE, model=path, rife_settings={"scale": 0.5},  # type: ignore[arg-type]
                    backend=Backend(device="cpu", threads=1))
    with pytest.raises(ValueError, match=r"ensemble=True, but this model is RIFE 4\.25 \(4\.25, 4\.26\).*"
                                         r"use ensemble=False \(versions with it: 4\.5, 4\.6, .*4\.24"):
        interpolate(clip, 24, engine=Engine.RIFE, model=path, rife_settings=RifeSettings(ensemble=True),
                    backend=Backend(device="cpu", threads=1))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_version_runs_at_every_scale(spec: Any) -> None:
    """Shapes work out for each version at every scale the reference accepts, with the ensemble pass where the
    version has it (random weights, a 40x24 frame). Mirrored padding, to the smallest multiple the version
    allows at that scale (8 to 512): the tightest case; the reference's multiples of 128 / scale are
    multiples of those."""
    from vsrestore.interpolate.rife.node import rife_runner

    torch.manual_seed(0)
    net = IFNet(spec)
    x = torch.rand(1, 7, 24, 40)
    for scale in SCALES:
        settings = RifeSettings(scale=scale, ensemble=spec.ensemble, padding="reflect")
        runner = rife_runner(net, Backend(device="cpu", threads=1), settings)
        y = runner(x)
        assert y.shape == (1, 3, 24, 40) and bool(torch.isfinite(y).all())
