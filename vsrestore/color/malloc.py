"""Freed frame memory goes back to the system (glibc): a long render's peak memory stays that of its live data.

glibc's allocator raises its mmap threshold each time a large block is freed (up to 32 MB), after which blocks
of that size (2K frame planes: 12.7 MB) come from its heaps, whose free space is kept rather than returned, so a
long render at 2K grows by hundreds of MB that nothing uses. Fixing the threshold (as the environment variable
``MALLOC_MMAP_THRESHOLD_`` does) keeps blocks of 1 MiB and more mapped on their own and returned when freed;
:func:`trim` after each frame a pass computes returns the free pages that smaller blocks leave in the heaps.
Measured with ``benchmarks/keyframe.py --memory`` (see benchmarks/results/keyframe.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading

__all__ = ["MMAP_THRESHOLD", "release_freed_memory", "trim"]

MMAP_THRESHOLD = 1 << 20  #: bytes: blocks from this size up are mapped on their own (frame planes, not arrays
#: of the working size: mapping every 200 KB temporary, as 128 KiB does, made the propagation 40 % slower)
_M_MMAP_THRESHOLD = -3  # mallopt parameter numbers (malloc.h)
_done = False
_libc: ctypes.CDLL | None = None
_lock = threading.Lock()


def release_freed_memory() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` for this process, once (nothing elsewhere, nor when
    the user set ``MALLOC_MMAP_THRESHOLD_`` themselves).

    :returns: whether the setting is in force (set now or before, or by the user's environment)."""
    global _done
    with _lock:
        if _done:
            return True
        if "MALLOC_MMAP_THRESHOLD_" in os.environ:
            _done = True
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # not glibc (musl has no mallopt)
            return False
        global _libc
        _libc = libc
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        return _done


def trim() -> None:
    """Give the free pages of every allocator arena back to the system (glibc ``malloc_trim``; nothing elsewhere).

    Smaller blocks (the propagation's working-size arrays, allocated on VapourSynth's threads) stay in the heaps,
    where a long render leaves free pages between live ones; called every checkpoint of a pass (a few ms)."""
    if _libc is not None:
        _libc.malloc_trim(0)
