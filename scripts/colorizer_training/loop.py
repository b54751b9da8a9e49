"""The training loop (``train``): seeded, on random windows of the stored patches, then calibrated."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import heldout, nets, targets
from .patches import patches_file
from .sources import CROP, PATCH, REG_WEIGHT


def train(
    cache: Path,
    out: Path,
    seed: int,
    steps: int,
    schedule_steps: int,
    minutes: float,
    batch: int,
    threads: int,
    data_set: str = "base",
    init: Path | None = None,
    lr: float = 2e-3,
    crop: int = CROP,
) -> None:
    """Train a :class:`TinyColorNet` for ``steps`` optimiser steps (peak learning rate ``lr``, cosine decay over
    ``schedule_steps``) on random ``crop`` x ``crop`` windows of the stored patches (a multiple of 8, at most
    ``PATCH``), calibrate its decoding and write it to ``out``. ``init``: start from that trained
    checkpoint's weights instead of from scratch (a warm restart; the shipped members were trained from
    scratch, and the restart tried on them is in benchmarks/results/colorize.md)."""
    import torch
    import torch.nn.functional as F

    from vsrestore.color.models.tiny import TinyColorNet

    if crop % 8 or not 8 <= crop <= PATCH:
        raise SystemExit(f"--crop {crop}: use a multiple of 8 from 8 to the stored patch side, {PATCH}")
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    data = np.load(patches_file(cache, data_set))
    tr, va = data["train"].astype(np.float32), data["val"].astype(np.float32)
    net = TinyColorNet()
    if init is not None:
        start = nets.load_net(init)
        if not isinstance(start, TinyColorNet):
            raise SystemExit(f"--init {init} is an ensemble; give one of the nets it was made from (train --out)")
        net.load_state_dict(start.state_dict(), strict=True)
        net.chroma_gain.fill_(1.0)  # calibrate chooses it again
        net.train()
    centers = net.bin_centers
    wts = targets.class_weights(tr, centers)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    deadline = time.time() + minutes * 60
    step, t0 = 0, time.time()
    losses: list[float] = []
    while step < steps:
        idx = rng.integers(0, len(tr), batch)
        oy, ox = rng.integers(0, PATCH - crop + 1, 2)
        p = tr[idx, :, oy : oy + crop, ox : ox + crop]
        if rng.random() < 0.5:
            p = p[..., ::-1]
        y = targets.degrade_luma(np.ascontiguousarray(p[:, 0]), rng)
        x = torch.from_numpy(y)[:, None]
        c = torch.from_numpy(np.ascontiguousarray(p[:, 1:]))
        c2 = F.avg_pool2d(c, 2)
        tgt = targets.soft_targets(c2, centers)
        # learning rate: constant for 20 steps, then cosine over schedule_steps, floored at 2 %
        lr_f = 1.0 if step < 20 else 0.5 * (1 + np.cos(np.pi * min(step / schedule_steps, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr * max(lr_f, 0.02)
        logits, reg = net.heads(x)
        assert reg is not None
        logp = F.log_softmax(logits, 1)
        pix_w = (tgt * wts[None, :, None, None]).sum(1)
        loss = -((tgt * logp).sum(1) * pix_w).mean() + REG_WEIGHT * F.mse_loss(reg, c2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {np.mean(losses[-100:]):.4f} {time.time() - t0:.0f}s", flush=True)
        if time.time() > deadline:
            print(f"stopped by the --minutes cap after {step} of {steps} steps (not reproducible)", flush=True)
            break
    meta = {
        "init": str(init) if init is not None else None,
        "lr": lr,
        "seed": seed,
        "steps": step,
        "schedule_steps": schedule_steps,
        "batch": batch,
        "crop": crop,
        "minutes": round((time.time() - t0) / 60, 1),
    }
    meta |= heldout.calibrate(net, tr, va, seed, cache)
    nets.save(net, out)
    print(json.dumps(meta))
