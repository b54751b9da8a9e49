"""The analysis sidecar: a JSON file keyed by the source's identity and the analysis parameters.

It is written atomically (temporary file in the same folder, then ``os.replace``) and only ever over a file that
is itself a vsrestore decimate sidecar: a user's unrelated file at that path is refused, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import vapoursynth as vs

from vsrestore.core.files import plain_mode

__all__ = ["FORMAT", "SidecarError", "clip_fingerprint", "default_sidecar", "read_sidecar", "write_sidecar"]

FORMAT = "vsrestore.decimate.sidecar"
VERSION = 1


class SidecarError(ValueError):
    """The sidecar path holds a file that is not a vsrestore decimate sidecar."""


def clip_fingerprint(clip: vs.VideoNode, samples: int = 5) -> str:
    """Identity of a clip: format, size, length, rate and a hash of the luma of a few frames spread over it."""
    assert clip.format is not None
    h = hashlib.sha256()
    h.update(f"{clip.format.name}|{clip.width}x{clip.height}|{clip.num_frames}|{clip.fps}".encode())
    n = clip.num_frames
    for i in sorted({int(round(j * (n - 1) / max(1, samples - 1))) for j in range(samples)}):
        with clip.get_frame(i) as f:
            plane = np.asarray(f[0])
            h.update(np.ascontiguousarray(plane[::4, ::4]).tobytes())
    return h.hexdigest()[:32]


def default_sidecar(fingerprint: str) -> Path:
    """Where the sidecar of a clip goes when none is named: the vsrestore cache folder, never the user's."""
    from vsrestore.core.source import cache_dir

    d = cache_dir() / "decimate"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{fingerprint}.json"


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """The sidecar's content, or None when there is none; :class:`SidecarError` for a foreign file."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise SidecarError(
            f"vsrestore.decimate: sidecar path {str(path)!r} holds a file that is not a vsrestore sidecar; "
            f"it is left alone: pass another sidecar= path (or delete that file)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SidecarError(
            f"vsrestore.decimate: sidecar path {str(path)!r} holds a file that is not a vsrestore sidecar; "
            f"it is left alone: pass another sidecar= path (or delete that file)"
        )
    return data if data.get("version") == VERSION else None


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    """Write atomically; refuses to replace a file that is not a vsrestore decimate sidecar."""
    read_sidecar(path)  # raises for a foreign file
    payload = {"format": FORMAT, "version": VERSION, **data}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, separators=(",", ":"))
        plain_mode(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
