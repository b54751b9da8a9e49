"""The default colorizer's training script: the calibration of the output gain on held-out data."""

from __future__ import annotations

from collections.abc import Callable
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
    plain = mod.gain_margins(net, vy, truth, footage)
    net.chroma_gain.fill_(0.5)  # as in a calibrated checkpoint
    again = mod.gain_margins(net, vy, truth, footage)
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
    want = mod.chroma_psnr(0.6 * pred, truth) - mod.chroma_psnr(np.zeros_like(truth), truth)
    assert single[0.6]["photos"] == pytest.approx(want, abs=1e-6)
    assert single[0.8]["photos"] > 0 > single[0.4]["clip"] - single[0.5]["clip"]


def test_average_net_is_the_mean_of_its_members(repo_script: Callable[[str], ModuleType]) -> None:
    """``margins``' average of checkpoints: the members' chroma averaged, scaled by the average's gain only."""
    mod = repo_script("train_colorizer")
    torch.manual_seed(1)
    nets = [TinyColorNet(widths=(4, 8, 8, 8)).eval() for _ in range(2)]
    for n in nets:
        n.reg_mix.fill_(0.0)
        n.chroma_gain.fill_(0.3)  # ignored inside the average
    avg = mod.average_net(nets)
    avg.chroma_gain.fill_(0.7)
    avg.multiscale.fill_(0.0)
    y = torch.rand(1, 1, 24, 32)
    with torch.inference_mode():
        got = avg(y)
        for n in nets:
            n.chroma_gain.fill_(1.0)
        want = 0.7 * (nets[0](y) + nets[1](y)) / 2
    assert torch.allclose(got, want, atol=1e-6)
    assert float(nets[0].multiscale) == 0.0
