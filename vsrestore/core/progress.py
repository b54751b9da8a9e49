"""A small text progress bar for long passes (analysis, renders): frames, percent, fps and ETA on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_eta"]


def format_eta(seconds: float) -> str:
    """Seconds as H:MM:SS (or --:-- when unknown)."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """Redraws one line at most ``interval`` seconds apart; silent when ``enabled`` is false.

    Use as a context manager; call :meth:`update` with the number of frames done so far.
    """

    def __init__(
        self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None, interval: float = 0.5
    ) -> None:
        self.total, self.label, self.enabled = max(0, total), label, enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._drawn = -1
        self.done = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fps(self) -> float:
        elapsed = time.perf_counter() - self.start
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        fps = self.fps()
        frac = self.done / self.total if self.total else 1.0
        width = 24
        fill = int(round(frac * width))
        eta = (self.total - self.done) / fps if fps > 0 else float("nan")
        return (
            f"{self.label} {frac * 100:5.1f}% |{'#' * fill}{'.' * (width - fill)}| {self.done}/{self.total} "
            f"frames {fps:6.1f} fps ETA {format_eta(eta)}"
        )

    def update(self, done: int) -> None:
        self.done = min(done, self.total) if self.total else done
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_draw >= self.interval or self.done >= self.total:
            self._last_draw = now
            self._drawn = self.done
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write(("" if self._drawn == self.done else "\r" + self.line()) + "\n")
            self.stream.flush()
