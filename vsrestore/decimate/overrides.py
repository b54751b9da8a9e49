"""The override file: plain text a person edits to correct the decimator's decisions.

One command per line; ``#`` starts a comment; frame numbers are input frame indices (0-based), ranges are
inclusive (``A-B``)::

    keep 120            # input frame 120 shows a new film frame (kept)
    keep 300-310        # every frame of a range is new
    drop 121            # input frame 121 repeats the frame before it (dropped)
    drop 122 lag 2      # ... repeats the frame 2 places before it
    pattern 400-520 AAB # frames 400..520 follow the pattern A A B (starting at frame 400)

Patterns are written as letters: a letter seen before repeats that frame (``AAB`` held, ``ABA`` through one
frame, ``ABCA`` through two). Decisions forced here take confidence 1 and the decoder fits the rest around them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vsrestore.decimate.template import parse_letters

__all__ = ["OverrideError", "Overrides", "parse_overrides", "read_overrides"]


class OverrideError(ValueError):
    """A malformed override file; the message names the file and the line."""


@dataclass(frozen=True)
class Overrides:
    """Forced tokens: input frame -> 0 (new film frame) or k (copy of the frame k places before)."""

    forced: dict[int, int]
    source: str = ""

    def key(self) -> str:
        """A stable text of the forced decisions (part of the sidecar key)."""
        return ";".join(f"{f}:{k}" for f, k in sorted(self.forced.items()))


def _frames(tok: str, where: str, num_frames: int | None) -> range:
    try:
        if "-" in tok:
            a_s, b_s = tok.split("-", 1)
            a, b = int(a_s), int(b_s)
        else:
            a = b = int(tok)
    except ValueError:
        raise OverrideError(f"{where}: {tok!r} is not a frame number or a range A-B") from None
    if a < 0 or b < a:
        raise OverrideError(f"{where}: range {tok!r} must be 0 <= A <= B")
    if num_frames is not None and b >= num_frames:
        raise OverrideError(f"{where}: frame {b} is past the clip's last frame {num_frames - 1}")
    return range(a, b + 1)


def parse_overrides(text: str, *, name: str = "<overrides>", num_frames: int | None = None, max_lag: int = 3) -> (
    Overrides
):
    """Parse override text.

    :param num_frames: when given, frames past the clip are refused.
    :param max_lag: the largest copy lag the analysis measures (longer repeats are refused).
    :raises OverrideError: a malformed line, with the file name and line number.
    """
    forced: dict[int, int] = {}
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"override file {name} line {no}"
        parts = line.split()
        cmd = parts[0].lower()
        if cmd == "keep":
            if len(parts) != 2:
                raise OverrideError(f"{where}: expected 'keep FRAME' or 'keep A-B', got {raw.strip()!r}")
            for f in _frames(parts[1], where, num_frames):
                forced[f] = 0
        elif cmd == "drop":
            lag = 1
            if len(parts) == 4 and parts[2].lower() == "lag":
                try:
                    lag = int(parts[3])
                except ValueError:
                    raise OverrideError(f"{where}: lag {parts[3]!r} is not a whole number") from None
            elif len(parts) != 2:
                raise OverrideError(f"{where}: expected 'drop FRAME [lag K]', got {raw.strip()!r}")
            if not 1 <= lag <= max_lag:
                raise OverrideError(f"{where}: lag must be 1..{max_lag}, got {lag}")
            for f in _frames(parts[1], where, num_frames):
                if f - lag < 0:
                    raise OverrideError(f"{where}: frame {f} cannot repeat frame {f - lag} (before the clip)")
                forced[f] = lag
        elif cmd == "pattern":
            if len(parts) != 3:
                raise OverrideError(f"{where}: expected 'pattern A-B LETTERS' (e.g. pattern 10-90 AAB)")
            rng = _frames(parts[1], where, num_frames)
            try:
                toks = parse_letters(parts[2])
            except ValueError as e:
                raise OverrideError(f"{where}: {e}") from None
            if max(toks) > max_lag:
                raise OverrideError(f"{where}: pattern {parts[2]!r} repeats a frame more than {max_lag} back")
            for i, f in enumerate(rng):
                k = toks[i % len(toks)]
                if f - k < 0:
                    raise OverrideError(f"{where}: frame {f} cannot repeat frame {f - k} (before the clip)")
                forced[f] = k
        else:
            raise OverrideError(f"{where}: unknown command {parts[0]!r}; use keep, drop or pattern")
    return Overrides(forced, name)


def read_overrides(path: str | os.PathLike[str], *, num_frames: int | None = None, max_lag: int = 3) -> Overrides:
    """Read and parse an override file.

    :raises OverrideError: the file is missing or malformed (with its line number).
    """
    p = Path(path)
    if not p.is_file():
        raise OverrideError(f"override file {str(p)!r} does not exist; write one with 'vsrestore analyze'")
    return parse_overrides(p.read_text(encoding="utf-8"), name=str(p), num_frames=num_frames, max_lag=max_lag)


TEMPLATE_HEADER = """\
# vsrestore decimate overrides for {input}
# Edit and pass to decimate(..., overrides=THIS_FILE) or 'vsrestore analyze INPUT --overrides THIS_FILE'.
# Commands (frame numbers are input frames, 0-based; ranges A-B are inclusive; '#' starts a comment):
#   keep N | keep A-B          the frame(s) show a new film frame (kept)
#   drop N [lag K]             the frame repeats the frame K (default 1) places before it (dropped)
#   pattern A-B LETTERS        frames A..B follow a pattern from frame A: AAB (held), ABA, ABAB, ABCA, ...
# Detected template(s): {templates}
# Least confident decisions (uncomment a line to force it, or write the opposite):
"""
