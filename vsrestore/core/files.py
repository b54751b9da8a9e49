"""Writing files without ever leaving a half-written one, or replacing a user's file unasked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "check_output", "partial_name"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path`` in one step."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def partial_name(output: Path) -> Path:
    """The hidden name a file is written under until it is complete (same folder, same suffix)."""
    return output.with_name(f".{output.stem}.partial-{os.getpid()}{output.suffix}")


def check_output(output: Path, overwrite: bool) -> None:
    """Refuse an output that exists (unless ``overwrite``) or whose folder does not."""
    if output.exists() and not overwrite:
        raise FileExistsError(f"output {str(output)!r} exists; choose another name or pass --overwrite / -y")
    if not output.parent.is_dir():
        raise ValueError(f"output folder {str(output.parent)!r} does not exist")
