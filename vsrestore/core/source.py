"""Opening media files as clips, and the bundled sample."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import vapoursynth as vs

__all__ = ["Indexer", "cache_dir", "load_source", "sample_path", "script_outputs"]

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
    raise ValueError(f"vsrestore.load_source: could not open {str(p)!r} as a video: no source plugin reads it "
                     f"({'; '.join(errors)}); check that it is a video file FFmpeg plays (ffprobe FILE)")


def script_outputs(path: str | os.PathLike[str], args: dict[str, str] | None = None) -> dict[int, vs.VideoNode]:
    """Evaluate a ``.vpy`` script in this process, as vspipe would with ``-a key=value`` for each of ``args``,
    and return its video outputs by index.

    :raises ValueError: the script does not exist, fails, or sets no video output.
    """
    import runpy

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"script {str(p)!r} does not exist")
    vs.clear_outputs()
    try:
        runpy.run_path(str(p), init_globals=dict(args or {}), run_name="__vapoursynth__")
    except Exception as e:  # the script's own error, reported with its name
        raise ValueError(f"script {str(p)!r} failed: {type(e).__name__}: {e}") from e
    outs: dict[int, vs.VideoNode] = {}
    for idx, out in vs.get_outputs().items():
        node = out.clip if isinstance(out, vs.VideoOutputTuple) else out
        if isinstance(node, vs.VideoNode):
            outs[idx] = node
    if not outs:
        raise ValueError(f"script {str(p)!r} sets no video output")
    return outs


def _evaluate_script(p: Path) -> vs.VideoNode:
    outs = script_outputs(p)
    if 0 not in outs:
        raise ValueError(f"vsrestore.load_source: script {str(p)!r} sets no video output 0")
    return outs[0]
