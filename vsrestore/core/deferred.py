"""Building a graph without running models: the start-up of a script stays a matter of seconds.

Some plugins read frames while their node is created: mvtools' ``Analyse``, ``Compensate``, ``FlowFPS`` ... read
frame 0 (and 1) of their inputs to learn the super clip's and the vectors' layout. In a restoration script these
inputs sit downstream of torch models (the colouriser), so evaluating the script used to run the models on tens
of frames before the first frame was asked for: every ``vspipe`` process, every ``--jobs`` segment paid it.

Inside :func:`building`, every node made by :func:`deferrable` (vsrestore's torch nodes use it) answers a frame
request with a blank frame of its format and size instead of running (or loading) its model; nothing upstream of
it is rendered either. Only the layout of those frames is read while nodes are created, and it is the same. When
the block ends, every frame cache of the core is cleared, so no blank frame survives, and from then on the nodes
render their real frames: the output is the same frame for frame as without :func:`building` (tested).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import vapoursynth as vs

__all__ = ["building", "deferrable", "is_building"]

_lock = threading.Lock()
_depth = 0


@contextmanager
def building() -> Iterator[None]:
    """Evaluate a script's graph without running models: see the module doc. Nestable; on the outermost exit
    (also on an error) the core's frame caches are cleared and nodes render normally again."""
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            outermost = _depth == 0
        if outermost:
            vs.core.clear_cache()


def is_building() -> bool:
    """True inside :func:`building` (any thread: the graph is built in one and rendered in the core's)."""
    return _depth > 0


def deferrable(node: vs.VideoNode, props: vs.VideoNode | None = None) -> vs.VideoNode:
    """``node``, except that inside :func:`building` it answers with a blank frame (same format, size, length
    and rate) without requesting anything from ``node``. Outside, the frame is ``node``'s own.

    :param props: a cheap clip as long as ``node`` whose frame props the blank frames carry (for code that reads
        props such as ``_Range`` and ``_Matrix`` while the graph is built: give a clip upstream of ``node`` whose
        props ``node`` passes on unchanged); None: blank frames have no props.
    """
    blank = vs.core.std.BlankClip(node, keep=True)
    if props is not None:
        if props.num_frames != node.num_frames:
            raise vs.Error(f"vsrestore.deferrable: props has {props.num_frames} frames, node {node.num_frames}; "
                           f"give a clip as long as the node")
        blank = vs.core.std.CopyFrameProps(blank, props)

    def pick(n: int) -> vs.VideoNode:
        return blank if _depth > 0 else node

    return vs.core.std.FrameEval(node, pick, clip_src=[node, blank])
