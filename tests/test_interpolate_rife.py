"""RIFE 4.x engine: layouts derived from the published model definitions, version recognition, loading
errors, and a forward pass with random weights through the node (no real weights are available here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import vapoursynth as vs

from vsrestore.core.backend import Backend
from vsrestore.core.weights import WeightsError
from vsrestore.interpolate import Engine, interpolate
from vsrestore.interpolate.rife import SPECS, IFNet, detect_spec, load_rife

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
    lay = LAYOUTS[version]
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


def test_rife_runner_pads_to_version_multiple() -> None:
    from vsrestore.interpolate.rife.node import rife_runner

    spec = next(s for s in SPECS if s.name == "4.25")
    runner = rife_runner(IFNet(spec), Backend(device="cpu", threads=1))
    assert runner.multiple == 64
    x = torch.rand(1, 7, 70, 90)
    y = runner(x)
    assert y.shape == (1, 3, 70, 90) and y.dtype == torch.float32
