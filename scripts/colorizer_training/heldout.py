"""Held-out choices: the decoding and gain of a trained net (``calibrate``), the held-out footage, and
the margins over flat gray that every setting and model is judged by (worst case over the held-out sets)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import nets, sources, targets
from .fetch import fetch_npm
from .patches import patches_file
from .sources import OPENCV_DATA
from .targets import chroma_psnr, class_weights

GAINS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2)


def gain_margins(net, vy: np.ndarray, truth: np.ndarray, footage: list) -> dict[tuple[int, float], dict[str, float]]:  # type: ignore[no-untyped-def,type-arg]
    """dB over flat gray of ``g`` x the full pipeline's chroma (``net(x)``), for multiscale off/on and each g
    of GAINS: on the held-out photo patches (degraded luma ``vy`` (N, H, W), truth chroma (N, 2, H, W)) and on
    each held-out clip of ``footage`` (:func:`footage_val`). The gains are absolute: the net's stored
    ``chroma_gain`` is set to 1 first (a recalibrated checkpoint's would multiply them); ``multiscale`` is left
    at the last value tried."""
    import torch

    net.chroma_gain.fill_(1.0)
    out: dict[tuple[int, float], dict[str, float]] = {}
    for ms in (0, 1):
        net.multiscale.fill_(float(ms))
        with torch.inference_mode():
            full = torch.cat([net(torch.from_numpy(vy[i : i + 64])[:, None]) for i in range(0, len(vy), 64)]).numpy()
            clips = [(name, [net(y)[0].numpy() for y in ys], t) for name, ys, t in footage]
        for g in GAINS:
            margins = {"photos": chroma_psnr(g * full, truth) - chroma_psnr(np.zeros_like(truth), truth)}
            for name, preds, tc in clips:
                margins[name] = chroma_psnr(g * np.stack(preds), tc) - chroma_psnr(np.zeros_like(tc), tc)
            out[(ms, g)] = margins
            print(
                f"multiscale={ms} gain={g}: dB over flat gray " + ", ".join(f"{k} {v:+.2f}" for k, v in margins.items())
            )
    return out


def calibrate(net, tr: np.ndarray, va: np.ndarray, seed: int, cache: Path) -> dict:  # type: ignore[no-untyped-def]
    """Undo the rebalancing at decoding (``bin_bias = -log w``: the net learnt w_q p(q|x)), pick the decoding
    temperature and the share ``reg_mix`` of the regression head with the best chroma PSNR on the held-out
    images, then ``multiscale`` and ``chroma_gain`` with the best worst-case margin over flat gray across the
    held-out images and the held-out footage (:func:`footage_val`)."""
    import torch
    import torch.nn.functional as F

    net.eval()
    net.bin_bias.copy_(-torch.log(class_weights(tr, net.bin_centers)))
    vy = targets.degrade_luma(np.ascontiguousarray(va[:, 0]), np.random.default_rng(seed + 1))
    truth = va[:, 1:]
    results = {}
    with torch.inference_mode():
        outs = [net.heads(torch.from_numpy(vy[i : i + 64])[:, None]) for i in range(0, len(vy), 64)]
        logits = torch.cat([o[0] for o in outs])
        has_reg = net.reg is not None
        reg = torch.cat([o[1] for o in outs]) if has_reg else torch.zeros(())
        for t in (0.5, 0.7, 1.0, 1.5, 2.0):
            dec = net.decode(logits, t)
            for mix in (0.0, 0.25, 0.5, 0.75, 1.0) if has_reg else (0.0,):
                if mix == 1.0 and t != 1.0:
                    continue
                pred = F.interpolate(mix * reg + (1 - mix) * dec, size=truth.shape[-2:], mode="bilinear").numpy()
                colorful = float(np.sqrt((pred**2).sum(1)).mean())
                results[(t, mix)] = (chroma_psnr(pred, truth), colorful)
                print(f"T={t} mix={mix}: val chroma PSNR {results[(t, mix)][0]:.2f} dB, mean chroma {colorful:.4f}")
    flat = chroma_psnr(np.zeros_like(truth), truth)
    temp, mix = max(results, key=lambda k: results[k][0])
    net.temperature.fill_(temp)
    if has_reg:
        net.reg_mix.fill_(mix)
    # then multi-scale averaging (on or off) and a global chroma gain, on the full pipeline (``net(x)``), chosen
    # for the best worst case over the held-out photos and held-out footage (FOOTAGE_VAL, whole frames at the
    # working size): the photos alone are more colourful than most footage and would pick too strong a colour
    gains = gain_margins(net, vy, truth, footage_val(cache))
    ms, gain = best_setting(gains)
    net.multiscale.fill_(float(ms))
    net.chroma_gain.fill_(gain)
    truth_c = float(np.sqrt((truth**2).sum(1)).mean())
    print(f"flat-gray val PSNR {flat:.2f} dB; truth mean chroma {truth_c:.4f}", flush=True)
    print(f"chosen: T={temp} reg_mix={mix} multiscale={ms} gain={gain}", flush=True)
    return {
        "temperature": temp,
        "reg_mix": mix,
        "chroma_gain": gain,
        "multiscale": ms,
        "val_margins_db": {f"ms{k[0]}_g{k[1]}": v for k, v in gains.items()},
        "val": {f"T{k[0]}_mix{k[1]}": v for k, v in results.items()},
        "val_flat_psnr": flat,
    }


def footage_val(cache: Path, npm: bool = False) -> list[tuple[str, list, np.ndarray]]:  # type: ignore[type-arg]
    """Held-out colour footage for the calibration: (name, luma tensors (1, 1, h, w) at the working size, truth
    chroma (N, 2, h, w)) for each clip of FOOTAGE_VAL (OpenCV's tree video, never trained on, and the late
    frames of its street video, held out from training) and, with ``npm``, of FOOTAGE_NPM (:func:`fetch_npm`)."""
    import vapoursynth as vs

    from vsrestore.core.source import load_source

    out = []
    for name, matrix, frames in sources.FOOTAGE_VAL:
        src = load_source(str(cache / "x_opencv-doc" / OPENCV_DATA / name))
        kw = {"matrix_s": matrix} if src.format.color_family == vs.RGB else {"matrix_in_s": matrix}
        yuv = vs.core.resize.Bicubic(src, format=vs.YUV444PS, **kw)
        out.append((name.split(".")[0], *working_size_frames(yuv, frames)))
    if npm:
        files = fetch_npm(cache)
        for clip in sources.FOOTAGE_NPM:
            yuv = vs.core.resize.Bicubic(load_source(str(files[clip.name])), format=vs.YUV444PS)  # its own Y, Cb, Cr
            out.append((clip.name, *working_size_frames(yuv, clip.frames)))
    return out


def working_size_frames(clip, frames: range) -> tuple[list, np.ndarray]:  # type: ignore[no-untyped-def,type-arg]
    """Luma tensors (1, 1, h, w) and truth chroma (N, 2, h, w) of ``frames`` of a YUV444PS clip, area-downscaled
    to the working size colorize uses (short side ``DEFAULT_RENDER``)."""
    import torch
    import torch.nn.functional as F

    from vsrestore.color.loader import DEFAULT_RENDER
    from vsrestore.color.options import ColorArch

    work = DEFAULT_RENDER[ColorArch.DEFAULT]
    ys, truth = [], []
    for n in frames:
        f = clip.get_frame(n)
        y = torch.from_numpy(np.array(f[0], dtype=np.float32))[None, None]
        h, w = y.shape[-2:]
        s = work / min(h, w)
        size = (round(h * s), round(w * s))
        ys.append(F.interpolate(y, size=size, mode="area"))
        uv = torch.from_numpy(np.stack([np.asarray(f[1]), np.asarray(f[2])]).astype(np.float32))[None]
        truth.append(F.interpolate(uv, size=size, mode="area")[0].numpy())
    return ys, np.stack(truth)


def recalibrate(cache: Path, checkpoint: Path, seed: int, data_set: str = "base") -> None:
    """Re-run :func:`calibrate` on a trained checkpoint (in place)."""

    data = np.load(patches_file(cache, data_set))
    tr, va = data["train"].astype(np.float32), data["val"].astype(np.float32)
    net = nets.load_net(checkpoint)
    if hasattr(net, "members"):
        raise SystemExit(f"{checkpoint} is an ensemble; choose its settings with: ensemble --out FILE MEMBER.pth ...")
    print(json.dumps(calibrate(net, tr, va, seed, cache)))
    nets.save(net, checkpoint)


def best_setting(found: dict[tuple[int, float], dict[str, float]]) -> tuple[int, float]:
    """The (multiscale, gain) of :func:`gain_margins`' results with the best worst-case margin."""
    return max(found, key=lambda k: min(found[k].values()))


def held_out(cache: Path, seed: int, data_set: str, npm: bool = False) -> tuple[np.ndarray, np.ndarray, list]:  # type: ignore[type-arg]
    """Degraded luma and truth chroma of the held-out photo patches, and the held-out footage (with ``npm``, the
    clips of FOOTAGE_NPM too)."""
    va = np.load(patches_file(cache, data_set))["val"].astype(np.float32)
    vy = targets.degrade_luma(np.ascontiguousarray(va[:, 0]), np.random.default_rng(seed + 1))
    return vy, va[:, 1:], footage_val(cache, npm)


def margins(cache: Path, checkpoints: list[Path], seed: int, data_set: str, npm_footage: bool = False) -> None:
    """Held-out margins over flat gray (:func:`gain_margins`) of each checkpoint and of their average, each at
    its best worst-case setting (the shipped checkpoint's decoding temperature and mix are kept, not re-chosen),
    then at the setting stored in the checkpoint. ``npm_footage`` adds the clips of FOOTAGE_NPM."""
    vy, truth, footage = held_out(cache, seed, data_set, npm_footage)
    loaded = [nets.load_net(c) for c in checkpoints]
    named = [(str(c), n) for c, n in zip(checkpoints, loaded, strict=True)]
    stored = {name: (int(n.multiscale), round(float(n.chroma_gain), 2)) for name, n in named}  # before averaging
    if len(loaded) > 1:
        named.append(("average", nets.average_net(loaded)))
        agreeing = nets.average_net(loaded)
        agreeing.agreement.fill_(1.0)
        named.append(("average scaled by hue agreement", agreeing))
    for name, net in named:
        found = gain_margins(net, vy, truth, footage)
        ms, g = best_setting(found)
        best = ", ".join(f"{k} {v:+.2f}" for k, v in found[(ms, g)].items())
        print(f"RESULT {name}: multiscale={ms} gain={g}: {best} dB over flat gray", flush=True)
        if stored.get(name) in found:
            ms, g = stored[name]
            own = ", ".join(f"{k} {v:+.2f}" for k, v in found[(ms, g)].items())
            print(f"RESULT {name} as stored: multiscale={ms} gain={g}: {own} dB over flat gray", flush=True)
