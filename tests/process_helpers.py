"""Helpers for tests that start the CLI as a separate process."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence


def wait_until_writing(proc: subprocess.Popen[bytes], written: Callable[[], Sequence[object]], timeout: float) -> None:
    """Wait until ``written()`` finds the render's files; fail with the process's exit code and stderr where it
    exits, or the time runs out, before that."""
    deadline = time.time() + timeout
    while time.time() < deadline and not written() and proc.poll() is None:
        time.sleep(0.1)
    if not written():
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"the render never started writing (exit {proc.returncode}): {err.decode()[-2000:]}")
