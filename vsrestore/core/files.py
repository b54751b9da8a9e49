"""Writing files without ever leaving a half-written one, or replacing a user's file unasked.

Files being written carry the writer's process id in a hidden name (``.NAME.partial-PID.mkv``,
``.NAME.tmp-PID-RANDOM``); :func:`remove_stale_partials` removes those whose process is gone (killed with
SIGKILL, a power cut), so no run leaves a stray file for good.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["atomic_write", "check_output", "partial_name", "process_alive", "remove_stale_partials", "same_file"]

_PID_RE = re.compile(r"\.(?:partial|tmp)-(\d+)")


def _read_umask() -> int:
    umask = os.umask(0o022)  # read once, at import (one thread): os.umask can only be read by setting it
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def plain_mode(path: str | os.PathLike[str]) -> None:
    """Give a temporary file (0600) the permissions of a plain new file (0666 less the umask) before it is
    renamed into place."""
    os.chmod(path, 0o666 & ~_UMASK)


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path`` in one step.

    The file gets the permissions a plain new file would (0666 less the umask), not the temporary file's 0600.
    """
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.tmp-{os.getpid()}-", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        plain_mode(tmp)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def partial_name(output: Path) -> Path:
    """The hidden name a file is written under until it is complete (same folder, same suffix)."""
    return output.with_name(f".{output.stem}.partial-{os.getpid()}{output.suffix}")


def process_alive(pid: int) -> bool:
    """True when a process with this id exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(output: Path) -> list[Path]:
    """Remove the half-written files of ``output`` (``.STEM.partial-PID.SUFFIX``, ``.NAME.tmp-PID-*``) whose
    writing process no longer exists; a live render's file is left alone.

    :returns: the files removed.
    """
    removed: list[Path] = []
    folder = output.parent
    if not folder.is_dir():
        return removed
    patterns = (f".{output.stem}.partial-*{output.suffix}", f".{output.name}.tmp-*")
    for pattern in patterns:
        for cand in folder.glob(pattern):
            m = _PID_RE.search(cand.name)
            if m and int(m.group(1)) != os.getpid() and not process_alive(int(m.group(1))):
                try:
                    cand.unlink()
                    removed.append(cand)
                except OSError:
                    pass
    return removed


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths exist and are one file (the same path, a symlink or a hard link to it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable(folder: Path, output: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{output.name}.tmp-{os.getpid()}-", dir=folder)
    except OSError as e:
        why = os.strerror(e.errno) if e.errno else str(e)
        if e.errno == errno.ENOSPC:
            why = "the disk is full"
        raise ValueError(
            f"cannot write the output {str(output)!r}: its folder {str(folder)!r} is not writable ({why}); "
            f"choose another place with -o"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_output(output: Path, overwrite: bool, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse an output before any work starts: one that is one of ``inputs`` (always, even with
    ``overwrite``), one that exists (unless ``overwrite``), or one whose folder is missing or not writable.
    Stale half-written files of earlier, killed runs are removed.

    :param inputs: the files the job reads (the input film, the script, the audio source ...).
    :raises ValueError / FileExistsError: one line naming the output and what to do.
    """
    for src in inputs:
        if same_file(output, src):
            raise ValueError(
                f"output {str(output)!r} is the input file {str(src)!r}; writing it would destroy the film. "
                f"Choose another output name with -o"
            )
    if output.is_dir():
        raise ValueError(f"output {str(output)!r} is a folder; give a file name, e.g. -o {output / 'restored.mkv'}")
    if output.exists() and not overwrite:
        raise FileExistsError(f"output {str(output)!r} exists; choose another name or pass --overwrite / -y")
    if not output.parent.is_dir():
        raise ValueError(f"output folder {str(output.parent)!r} does not exist; create it or choose another with -o")
    _check_writable(output.parent, output)
    remove_stale_partials(output)
