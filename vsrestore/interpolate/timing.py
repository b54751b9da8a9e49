"""Rate arithmetic for the interpolator: parsing rates, source timelines and the output schedule.

Everything is exact (:class:`fractions.Fraction`, seconds). The output is constant rate: output frame ``k``
shows the instant ``t_k = k / fps`` of the source timeline, which starts at 0 with source frame 0. Source
frame ``i`` starts at ``s_i`` (the sum of the durations before it) and lasts ``d_i``. The output has every
``k`` with ``t_k < T`` (``T``: the sum of all source durations), so its length is ``ceil(T * fps)`` and it
lasts as long as the source, to within one output frame.

For ``t_k`` inside source frame ``i`` the *phase* is ``(t_k - s_i) / d_i`` in ``[0, 1)``: 0 means source
frame ``i`` itself, 0.5 the instant half-way to frame ``i + 1``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate

import vapoursynth as vs

__all__ = ["RateLike", "Schedule", "clip_durations", "make_schedule", "parse_rate"]

RateLike = Fraction | int | float | str

#: Largest rate accepted, frames per second (anything above is almost surely a mistake of units).
MAX_RATE = Fraction(1000)


def _ntsc_or_plain(value: float) -> Fraction:
    if abs(value - round(value)) < 1e-9:
        return Fraction(round(value))
    ntsc = value * 1.001
    if abs(ntsc - round(ntsc)) < 2e-3 * max(1.0, ntsc / 30):
        return Fraction(round(ntsc) * 1000, 1001)
    return Fraction(value).limit_denominator(1001)


def parse_rate(value: RateLike, *, name: str = "fps", func: str = "vsrestore.interpolate") -> Fraction:
    """A frame rate (or a factor) as an exact positive fraction.

    :param value: ``Fraction(30000, 1001)``, ``24``, ``23.976`` (decimal NTSC rates become ``N*1000/1001``),
        or a string ``"30000/1001"``, ``"24"``, ``"29.97"``.
    :param name: the argument's name, for the message.
    :raises ValueError: not a number, zero, negative, not finite, or above 1000.
    """
    frac: Fraction
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, Fraction):
            frac = value
        elif isinstance(value, int):
            frac = Fraction(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError
            frac = _ntsc_or_plain(value)
        elif isinstance(value, str):
            text = value.strip()
            frac = Fraction(text) if "/" in text else _ntsc_or_plain(float(text))
        else:
            raise TypeError
    except (TypeError, ValueError, ZeroDivisionError) as e:
        raise ValueError(
            f"{func}: {name}={value!r} is not a rate; pass a number or fraction such as 24, 25, "
            f"Fraction(30000, 1001) or '30000/1001'"
        ) from e
    if frac <= 0 or frac > MAX_RATE:
        raise ValueError(f"{func}: {name}={value!r} must be greater than 0 and at most {MAX_RATE} (frames/second)")
    return frac


def clip_durations(clip: vs.VideoNode, *, func: str = "vsrestore.interpolate") -> list[Fraction]:
    """Per-frame durations in seconds: ``1/fps`` for a constant-rate clip, else read from every frame's
    ``_DurationNum``/``_DurationDen`` props in one pass (this renders the clip's frames once).

    :raises ValueError: a variable-rate clip has a frame without valid duration props.
    """
    if clip.fps.numerator > 0 and clip.fps.denominator > 0:
        return [Fraction(clip.fps.denominator, clip.fps.numerator)] * clip.num_frames
    out: list[Fraction] = []
    for n, frame in enumerate(clip.frames(close=True)):
        num, den = frame.props.get("_DurationNum"), frame.props.get("_DurationDen")
        if not isinstance(num, int) or not isinstance(den, int) or num <= 0 or den <= 0:
            raise ValueError(
                f"{func}: clip has a variable frame rate but frame {n} has no valid _DurationNum/_DurationDen "
                f"props ({num!r}/{den!r}); give it a constant rate with core.std.AssumeFPS or set the props"
            )
        out.append(Fraction(num, den))
    return out


@dataclass(frozen=True)
class Schedule:
    """Where each output frame falls on the source timeline.

    :ivar fps: the output rate (frames/second).
    :ivar source: per output frame, the source frame at or before its instant.
    :ivar phase: per output frame, the exact phase in ``[0, 1)`` between ``source`` and ``source + 1``.
    :ivar starts: per source frame, its start time in seconds (plus the total length at the end).
    """

    fps: Fraction
    source: tuple[int, ...]
    phase: tuple[Fraction, ...]
    starts: tuple[Fraction, ...]

    @property
    def num_frames(self) -> int:
        return len(self.source)

    @property
    def duration(self) -> Fraction:
        """Length of the source in seconds."""
        return self.starts[-1]

    def nearest(self, k: int) -> int:
        """The source frame nearest in time to output frame ``k`` (ties go to the earlier frame)."""
        i = self.source[k]
        last = len(self.starts) - 2
        return min(i + 1, last) if self.phase[k] > Fraction(1, 2) else i


def make_schedule(durations: Sequence[Fraction], fps: Fraction) -> Schedule:
    """The output schedule for source frames of the given durations (seconds) at output rate ``fps``.

    :raises ValueError: no frames, or a duration that is not positive.
    """
    if not durations:
        raise ValueError("vsrestore.interpolate: the clip has no frames")
    if any(d <= 0 for d in durations):
        raise ValueError("vsrestore.interpolate: every source frame duration must be positive")
    starts = [Fraction(0), *accumulate(durations)]
    total = starts[-1]
    count = max(1, math.ceil(total * fps))
    last = len(durations) - 1
    source: list[int] = []
    phase: list[Fraction] = []
    d0 = durations[0]
    if all(d == d0 for d in durations):
        # constant rate: source position k * (1 / (fps * d)) in integers (fast for long films)
        step = 1 / (fps * d0)
        a, b = step.numerator, step.denominator
        for k in range(count):
            i, rem = divmod(k * a, b)
            if i > last:
                i, rem = last, k * a - last * b
            source.append(i)
            phase.append(Fraction(rem, b))
    else:
        i = 0
        for k in range(count):
            t = Fraction(k) / fps
            if i < last and starts[i + 1] <= t:
                i = min(bisect_right(starts, t, lo=i) - 1, last)
            source.append(i)
            phase.append((t - starts[i]) / durations[i])
    return Schedule(fps=fps, source=tuple(source), phase=tuple(phase), starts=tuple(starts))
