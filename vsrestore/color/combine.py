"""Combine the chroma of several colourisers (``colorize(clip, model=[a, b], weights=...)``)."""

from __future__ import annotations

from collections.abc import Sequence

import vapoursynth as vs

from .options import ColorMerge

__all__ = ["merge_chroma", "normalize_weights"]

core = vs.core
_VARS = "xyzabcdefghijklmnopqrstuvw"


def normalize_weights(weights: Sequence[float] | None, count: int, func: str) -> list[float]:
    """``weights`` scaled to sum 1 (None: equal weights).

    :raises vs.Error: wrong length, a negative weight, or all zero.
    """
    if weights is None:
        return [1.0 / count] * count
    w = [float(x) for x in weights]
    if len(w) != count:
        raise vs.Error(
            f"{func}: weights={list(weights)} has {len(w)} entries but {count} model(s) were given; "
            f"give one weight per model"
        )
    if any(x < 0 for x in w) or sum(w) <= 0:
        raise vs.Error(f"{func}: weights={list(weights)} must be >= 0 with a positive sum (they are scaled to sum 1)")
    total = sum(w)
    return [x / total for x in w]


def merge_chroma(
    chromas: Sequence[vs.VideoNode], weights: Sequence[float], mode: ColorMerge, limit: float = 0.1
) -> vs.VideoNode:
    """One YUV444PS clip from several of the same size: Y and frame props from the first, U and V merged.

    :param chromas: the models' predictions (YUV444PS, chroma -0.5..0.5), the first one the anchor.
    :param weights: one per clip, summing to 1.
    :param mode: :class:`ColorMerge`: ``WEIGHTED``: sum of w_i * c_i; ``CONSTRAINED``: every clip but the
        first is first clamped to within ``limit`` of the first's value at that pixel, then the weighted sum.
    :param limit: the largest distance from the anchor's Cb/Cr for ``CONSTRAINED`` (chroma units, -0.5..0.5
        scale; 0.1 is HAVC's default "10%").
    """
    if len(chromas) == 1:
        return chromas[0]
    if len(chromas) > len(_VARS):
        raise vs.Error(f"vsrestore.colorize: at most {len(_VARS)} models can be merged, got {len(chromas)}")
    terms = []
    for i, w in enumerate(weights):
        v = _VARS[i]
        if mode == ColorMerge.CONSTRAINED and i > 0:
            v = f"{v} x {limit} - max x {limit} + min"
        terms.append(f"{v} {w!r} *")
    expr = " ".join(terms) + " +" * (len(terms) - 1)
    return core.std.Expr(list(chromas), ["", expr, expr])
