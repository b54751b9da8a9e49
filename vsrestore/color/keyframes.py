"""Keyframes a colourist painted: is each one the clip's frame it claims to be?

A keyframe must be the frame coloured: the same size, and a luma that shows the same picture. The luma test
compares small (64 pixels wide), mean-removed copies of both lumas by normalised correlation, so a grade, a
level change or a light denoise of the film does not matter while a keyframe painted over another shot's frame
(or a flipped, cropped or shifted one) is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vapoursynth as vs

__all__ = [
    "INDEX_NAME",
    "LUMA_MATCH",
    "KeyframeSet",
    "Shot",
    "check_keyframe",
    "check_keyframes",
    "contact_sheet",
    "find_shots",
    "image_clip",
    "keyframe_name",
    "load_keyframes",
    "luma_match",
    "read_index",
    "write_index",
]

core = vs.core

LUMA_MATCH = 0.8  #: smallest normalised correlation of the thumbnails for a keyframe to match its frame
_THUMB = 64


def _thumb(clip: vs.VideoNode, n: int, range_in: int | None = None) -> np.ndarray:
    fmt = clip.format
    assert fmt is not None
    h = max(8, round(clip.height * _THUMB / clip.width))
    if fmt.color_family == vs.RGB:
        g = core.resize.Bilinear(clip, _THUMB, h, format=vs.GRAYS, matrix_s="709")
    else:
        y = core.std.ShufflePlanes(clip, 0, vs.GRAY) if fmt.color_family == vs.YUV else clip
        g = core.resize.Bilinear(y, _THUMB, h, format=vs.GRAYS, range_in=range_in)
    a = np.asarray(g.get_frame(n)[0], np.float64)
    return a - a.mean()


def luma_match(frame_luma: vs.VideoNode, n: int, key: vs.VideoNode, range_in: int | None = None) -> float:
    """Normalised correlation (-1..1) of the luma of frame ``n`` of ``frame_luma`` and of ``key``'s frame 0."""
    a, b = _thumb(frame_luma, n, range_in), _thumb(key, 0)
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if den < 1e-9:  # a flat frame (black, white): only the means could differ, and they are removed
        return 1.0
    return float((a * b).sum() / den)


def check_keyframe(
    frame_luma: vs.VideoNode, n: int, key: vs.VideoNode, label: str, range_in: int | None = None
) -> None:
    """Refuse ``key`` as the coloured frame ``n`` of ``frame_luma`` unless it has the frame's size and picture.

    :param label: how the user named the keyframe (``reference[12]``, a file path), put first in the error.
    :raises vs.Error: wrong size, or luma correlation below :data:`LUMA_MATCH`, saying which and how to fix it.
    """
    if (key.width, key.height) != (frame_luma.width, frame_luma.height):
        raise vs.Error(
            f"{label}: keyframe is {key.width}x{key.height} but frame {n} is {frame_luma.width}x"
            f"{frame_luma.height}; colour the frame at its own size (as written by `vsrestore keyframes`)"
        )
    r = luma_match(frame_luma, n, key, range_in)
    if r < LUMA_MATCH:
        raise vs.Error(
            f"{label}: keyframe does not show frame {n} (luma correlation {r:.2f}, needs {LUMA_MATCH}); it was "
            f"painted over another frame or moved; colour the picture of frame {n} itself and keep its "
            f"brightness"
        )


def check_keyframes(luma: vs.VideoNode, keys: dict[int, vs.VideoNode], range_in: int | None = None,
                    labels: dict[int, str] | None = None) -> None:
    """:func:`check_keyframe` for every ``{frame number: one-frame clip}``; labels default to ``reference[n]``."""
    for n, key in sorted(keys.items()):
        check_keyframe(luma, n, key, (labels or {}).get(n, f"vsrestore.colorize: reference[{n}]"), range_in)


# ---- keyframe folders: what `vsrestore keyframes` writes and `restore --keyframes` reads ----------------------

INDEX_NAME = "keyframes.txt"  #: the index file in a keyframe folder
_PNG = re.compile(r"^(\d+)\.png$", re.IGNORECASE)
#: mean distance of a keyframe's Cb/Cr from neutral grey (8-bit steps) under which it counts as not coloured
#: yet (still the grey frame as written): it is left out, so its shot is not turned grey
UNPAINTED_SPREAD = 1.0


@dataclass(frozen=True)
class Shot:
    """One shot of the film: frames ``first..last`` (inclusive) and the frame chosen as its keyframe."""

    first: int
    last: int
    key: int


def keyframe_name(n: int) -> str:
    """The PNG name of film frame ``n`` (``000123.png``)."""
    return f"{n:06d}.png"


def _thumb_luma(clip: vs.VideoNode) -> vs.VideoNode:
    fmt = clip.format
    assert fmt is not None
    w = min(96, clip.width)
    h = max(8, round(clip.height * w / clip.width / 2) * 2)
    if fmt.color_family == vs.RGB:
        return core.resize.Bilinear(clip, w, h, format=vs.GRAYS, matrix_s="709")
    y = core.std.ShufflePlanes(clip, 0, vs.GRAY) if fmt.color_family == vs.YUV else clip
    return core.resize.Bilinear(y, w, h, format=vs.GRAYS)


def find_shots(film: vs.VideoNode, progress: Callable[[int, int], None] | None = None) -> list[Shot]:
    """The shots of ``film`` (cuts from :func:`~vsrestore.interpolate.scenecut.pair_analysis`, the detector the
    propagation stops at) and in each the keyframe a colourist should paint: the sharpest of the frames most like
    the shot as a whole (local contrast of a 96-pixel-wide thumbnail, divided by 1 + 20 x its mean distance
    from the shot's mean thumbnail), so it shows what most of the shot shows."""
    from ..interpolate.scenecut import pair_analysis

    thumbs = _thumb_luma(film)
    pairs = pair_analysis(film)
    imgs: list[np.ndarray] = []
    cuts: list[int] = []
    for n in range(film.num_frames):
        imgs.append(np.asarray(thumbs.get_frame(n)[0], np.float32).copy())
        if n + 1 < film.num_frames and pairs.get_frame(n).props.get("InterpolateSceneCut", 0):
            cuts.append(n + 1)
        if progress is not None:
            progress(n + 1, film.num_frames)
    bounds = [0, *cuts, film.num_frames]
    shots = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        stack = np.stack(imgs[a:b])
        mean = stack.mean(0)
        dist = np.abs(stack - mean).mean(axis=(1, 2))
        lap = np.abs(4 * stack[:, 1:-1, 1:-1] - stack[:, :-2, 1:-1] - stack[:, 2:, 1:-1] - stack[:, 1:-1, :-2]
                     - stack[:, 1:-1, 2:]).mean(axis=(1, 2))
        score = lap / (1.0 + 20.0 * dist)
        shots.append(Shot(a, b - 1, a + int(np.argmax(score))))
    return shots


def write_index(folder: Path, shots: list[Shot], source: str) -> Path:
    """Write ``keyframes.txt`` (atomically): one line per shot, ``first last keyframe file``."""
    from ..core.files import atomic_write

    lines = [
        f"# vsrestore keyframes of {source}: one line per shot: first_frame last_frame keyframe_frame file",
        "# Colour each PNG in an image editor (same size, same picture; only the colours change), delete the ones",
        "# you do not colour, add more (named by film frame number) for long shots. Then:",
        "#   vsrestore restore INPUT -o OUTPUT --keyframes THIS_FOLDER",
        *(f"{s.first} {s.last} {s.key} {keyframe_name(s.key)}" for s in shots),
    ]
    return atomic_write(folder / INDEX_NAME, "\n".join(lines) + "\n")


def read_index(folder: Path) -> list[Shot]:
    """The shots listed in ``folder/keyframes.txt`` ([] when there is none).

    :raises ValueError: a line that is not ``first last keyframe file``, naming the file and line."""
    path = folder / INDEX_NAME
    if not path.is_file():
        return []
    shots = []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        try:
            shots.append(Shot(int(parts[0]), int(parts[1]), int(parts[2])))
        except (ValueError, IndexError):
            raise ValueError(f"{path}:{i}: {line.strip()!r} is not 'first last keyframe file'; write it again with "
                             f"`vsrestore keyframes` or fix the line") from None
    return shots


def image_clip(path: Path) -> vs.VideoNode:
    """A one-frame RGB24 clip of an image file (PNG, JPEG, TIFF...).

    :raises ValueError: the file cannot be read as an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"), np.uint8)
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"{path}: not an image that can be read ({e}); save the keyframe as PNG") from None
    h, w, _ = rgb.shape
    blank = core.std.BlankClip(width=w, height=h, format=vs.RGB24, length=1)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        for p in range(3):
            np.asarray(fout[p])[...] = rgb[..., p]
        return fout

    return core.std.SetFrameProps(core.std.ModifyFrame(blank, blank, fill), _Matrix=0, _Range=0)


def _spread(key: vs.VideoNode) -> float:
    yuv = core.resize.Point(key, format=vs.YUV444P8, matrix_s="709")
    f = yuv.get_frame(0)
    return (float(np.abs(np.asarray(f[1], np.float64) - 128).mean())
            + float(np.abs(np.asarray(f[2], np.float64) - 128).mean())) / 2


@dataclass
class KeyframeSet:
    """The usable keyframes of a folder and what was left out, for the report."""

    keys: dict[int, vs.VideoNode]
    files: dict[int, Path]
    unpainted: list[int]
    shots: list[Shot]

    def report_lines(self) -> list[str]:
        """Shots with and without a keyframe (from the folder's index), one line each."""
        lines = [f"keyframes: {len(self.keys)} coloured" + (
            f", {len(self.unpainted)} left out as not coloured yet ({', '.join(map(str, self.unpainted))})"
            if self.unpainted else "")]
        for s in self.shots:
            got = [k for k in self.keys if s.first <= k <= s.last]
            what = ("keyframe " + ", ".join(str(k) for k in sorted(got))) if got else "NO keyframe (automatic colours)"
            lines.append(f"  shot {s.first}-{s.last}: {what}")
        return lines


def load_keyframes(folder: str | os.PathLike[str], film: vs.VideoNode) -> KeyframeSet:
    """Read a keyframe folder (PNG files named by film frame number) and check each against ``film``.

    :param film: the film the keyframes colour (for the presets: the decimated film), any format.
    :raises ValueError: no such folder, a frame number past the film's end, a keyframe of the wrong size or
        whose luma does not show its frame: one line naming the file and the fix.
    """
    d = Path(folder).expanduser()
    if not d.is_dir():
        raise ValueError(f"--keyframes {str(d)!r} is not a folder; make one with `vsrestore keyframes INPUT -o DIR`")
    keys: dict[int, vs.VideoNode] = {}
    files: dict[int, Path] = {}
    unpainted: list[int] = []
    for p in sorted(d.iterdir()):
        m = _PNG.match(p.name)
        if not m or not p.is_file():
            continue
        n = int(m.group(1))
        if n >= film.num_frames:
            raise ValueError(f"{p}: frame {n} is past the film's end (it has {film.num_frames} frames); the "
                             f"keyframes were made for another film or cut; delete this file")
        key = image_clip(p)
        try:
            check_keyframe(film, n, key, str(p))
        except vs.Error as e:
            raise ValueError(str(e)) from None
        if _spread(key) < UNPAINTED_SPREAD:
            unpainted.append(n)
            continue
        keys[n], files[n] = key, p
    return KeyframeSet(keys, files, unpainted, read_index(d))


def contact_sheet(kset: KeyframeSet, output: vs.VideoNode, film_frames: int, path: Path, width: int = 160) -> Path:
    """A PNG with one row per shot of the index (the first 60): its keyframe (or a blank cell when it has none)
    next to the output's first, middle and last frames of the shot (the output frame nearest in time when the
    output's rate differs from the film's). Written atomically.

    :param output: the rendered result (any format); ``film_frames``: the film's frame count (for the timing).
    """
    import io

    from PIL import Image

    from ..core.files import atomic_write

    h = max(8, round(output.height * width / output.width / 2) * 2)
    rgb = core.resize.Bicubic(output, width, h, format=vs.RGB24, matrix_in_s="709") \
        if output.format is not None and output.format.color_family != vs.RGB \
        else core.resize.Bicubic(output, width, h, format=vs.RGB24)

    def cell(clip: vs.VideoNode, n: int) -> np.ndarray:
        f = clip.get_frame(n)
        return np.stack([np.asarray(f[p]) for p in range(3)], -1)

    scale = output.num_frames / max(film_frames, 1)
    rows = []
    for s in kset.shots[:60]:
        keys = [k for k in kset.keys if s.first <= k <= s.last]
        if keys:
            key = core.resize.Bicubic(kset.keys[min(keys)], width, h, format=vs.RGB24)
            first = cell(key, 0)
        else:
            first = np.full((h, width, 3), 40, np.uint8)
        picks = [s.first, (s.first + s.last) // 2, s.last]
        outs = [cell(rgb, min(output.num_frames - 1, round(n * scale))) for n in picks]
        gap = np.full((h, 6, 3), 255, np.uint8)
        rows.append(np.concatenate([first, gap, *outs], 1))
    if not rows:
        rows.append(np.full((h, width, 3), 40, np.uint8))
    sheet = np.concatenate([np.concatenate([r, np.full((4, r.shape[1], 3), 255, np.uint8)]) for r in rows])
    buf = io.BytesIO()
    Image.fromarray(sheet).save(buf, format="PNG")
    return atomic_write(path, buf.getvalue())
