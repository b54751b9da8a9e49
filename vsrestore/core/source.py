"""Opening media files as clips, and the bundled sample."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import vapoursynth as vs

__all__ = ["Indexer", "cache_dir", "load_source", "sample_path"]

core = vs.core

_SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_bw24.mkv"


class Indexer(StrEnum):
    """Source plugin used to open a file."""

    AUTO = "auto"
    BESTSOURCE = "bs"
    LSMAS = "lsmas"


def sample_path() -> Path:
    """The bundled sample: real footage made black-and-white and old-looking, 24 fps with repeated frames."""
    return _SAMPLE


def cache_dir() -> Path:
    """Where vsrestore keeps index files of sources ($VSRESTORE_CACHE or ~/.cache/vsrestore)."""
    base = os.environ.get("VSRESTORE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vsrestore"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_source(path: str | os.PathLike[str], *, indexer: Indexer | str = Indexer.AUTO) -> vs.VideoNode:
    """Open a video file frame-accurately.

    The index is kept under :func:`cache_dir`, never next to the user's file. ``.vpy`` scripts are evaluated
    and their output 0 returned.

    :param path: a media file (anything FFmpeg reads) or a ``.vpy`` script.
    :param indexer: ``"bs"`` (BestSource, the default for ``"auto"``) or ``"lsmas"`` (L-SMASH Works).
    :raises ValueError: the file does not exist, or no source plugin could open it.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ValueError(f"vsrestore.load_source: input file {str(p)!r} does not exist")
    if p.suffix.lower() == ".vpy":
        return _evaluate_script(p)
    idx = Indexer(indexer)
    errors: list[str] = []
    order = [Indexer.BESTSOURCE, Indexer.LSMAS] if idx == Indexer.AUTO else [idx]
    for which in order:
        try:
            if which == Indexer.BESTSOURCE and hasattr(core, "bs"):
                return core.bs.VideoSource(str(p), cachemode=3, cachepath=str(cache_dir()))
            if which == Indexer.LSMAS and hasattr(core, "lsmas"):
                return core.lsmas.LWLibavSource(str(p), cachedir=str(cache_dir()))
            errors.append(f"{which.value}: plugin not installed")
        except vs.Error as e:
            errors.append(f"{which.value}: {e}")
    raise ValueError(f"vsrestore.load_source: could not open {str(p)!r} ({'; '.join(errors)})")


def _evaluate_script(p: Path) -> vs.VideoNode:
    import runpy

    vs.clear_outputs()
    runpy.run_path(str(p), run_name="__vapoursynth__")
    outs = vs.get_outputs()
    if 0 not in outs:
        raise ValueError(f"vsrestore.load_source: script {str(p)!r} sets no output 0")
    out = outs[0]
    node = out.clip if isinstance(out, vs.VideoOutputTuple) else out
    if not isinstance(node, vs.VideoNode):
        raise ValueError(f"vsrestore.load_source: output 0 of {str(p)!r} is not a video clip")
    return node
