"""Random decimation cases drawn from wide ranges, for validation sets that say how a film nobody tuned on fares.

Each case is a transfer made from real footage, as :mod:`vsrestore.testing.filmgen` makes them, but with every
condition drawn at random (:func:`draw_case`): black level 0-30 and white level 40-255 (8-bit), gamma 0.7-1.6,
grain 0-4 levels (part shared by the copies of a film frame, as the print's grain is, part their own), flicker
0-8 %, sub-pixel weave 0-0.5 px, dust and scratches, H.264 crf 16-28, sizes 320x240 to 1440x1080; repeat
templates with lags 1-3 (held, alternating, lag-3 and random mixtures of them), one template, a mixture, or a
switch between templates, 0-10 % jitter, lost frames and cuts; and, in a share of the cases, **no repeats at
all** (a film already at its own rate: every transfer frame a new film frame).

Film frames are consecutive frames of the source clip (every ``stride``-th), so they are distinct whenever the
source's frames are; use sources without repeats of their own.

A *set* is a list of :class:`CaseSpec` made from a seed range and a list of source clips
(:func:`draw_set`); :func:`build_case` renders a spec (or loads it from ``cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vsrestore.testing.degrade import add_dust, add_scratches
from vsrestore.testing.filmgen import Cadence, Segment, encode_h264, make_cadence

__all__ = [
    "BuiltCase", "CaseSpec", "Conditions", "build_case", "draw_case", "draw_set", "fit_frames", "random_template",
]

#: transfer sizes drawn from (width, height)
SIZES: tuple[tuple[int, int], ...] = ((320, 240), (480, 360), (640, 480), (720, 540), (960, 720), (1440, 1080))


@dataclass(frozen=True)
class Conditions:
    """How a transfer looks. Levels and grain in 8-bit levels; flicker as a fraction; weave in pixels."""

    black: float = 16.0
    white: float = 235.0
    gamma: float = 1.0
    grain: float = 1.5  # standard deviation, 8-bit levels
    grain_shared: float = 0.5  # share of the grain's variance common to all copies of a film frame
    grain_size: float = 1.0
    flicker: float = 0.02
    weave: float = 0.2
    dust: float = 4.0  # specks per frame (at any size)
    scratches: float = 0.1  # chance per frame
    softness: float = 0.5  # Gaussian blur sigma of the picture, px at 640 wide
    crf: float = 20.0
    width: int = 640
    height: int = 480


@dataclass
class CaseSpec:
    """Everything needed to render one case (JSON-ready)."""

    name: str
    seed: int
    source: str  # name of the source clip, resolved by the loader given to build_case
    start: int  # first source frame
    stride: int  # source frames per film frame
    conditions: Conditions
    segments: list[Segment]
    kind: str  # "none" (no repeats), "single", "mixed", "switch"
    scenes: list[tuple[str, int]] = field(default_factory=list)  # (source, start) of each cut's new scene
    fps: int = 24  # transfer rate

    def key(self) -> str:
        blob = json.dumps({**asdict(self), "v": 3}, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


def random_template(rng: np.random.Generator, period: int | None = None, max_lag: int = 3) -> tuple[int, ...]:
    """A random repeat template: ``period`` slots (2-10), 45-80 % of them new film frames (12-19 fps film at
    24-25 fps), the others copies of the slot 1..``max_lag`` before (held, alternating or lag-3 repeats)."""
    while True:
        p = int(period or rng.integers(2, 11))
        lo, hi = int(np.ceil(0.45 * p)), int(np.floor(0.8 * p))
        if hi < max(1, lo):
            hi = lo = max(1, lo)
        k = int(rng.integers(max(1, lo), hi + 1))
        copies = p - k
        if copies == 0:
            continue
        toks = [0] * p
        slots = rng.choice(np.arange(1, p), size=min(copies, p - 1), replace=False)
        style = rng.choice(["held", "alternate", "lag3", "any"], p=[0.35, 0.25, 0.15, 0.25])
        for s in sorted(int(x) for x in slots):
            if style == "held":
                lag = 1
            elif style == "alternate":
                lag = 2
            elif style == "lag3":
                lag = 3
            else:
                lag = int(rng.integers(1, max_lag + 1))
            toks[s] = min(lag, max_lag, p - 1)  # a copy shows a frame of the same period
        if sum(1 for t in toks if t == 0) / p < 0.45:
            continue
        return tuple(toks)


def _draw_conditions(rng: np.random.Generator, hard: bool) -> Conditions:
    black = float(rng.uniform(0, 30))
    white = float(rng.uniform(max(40.0, black + 20), 255))
    if hard and rng.random() < 0.35:  # a dark print
        white = float(rng.uniform(max(40.0, black + 20), min(255.0, black + 90)))
    w, h = SIZES[int(rng.integers(0, len(SIZES)))]
    return Conditions(
        black=black, white=white, gamma=float(rng.uniform(0.7, 1.6)),
        grain=float(rng.uniform(0, 4)), grain_shared=float(rng.uniform(0, 1)),
        grain_size=float(rng.uniform(0.8, 2.0)),
        flicker=float(rng.uniform(0, 0.08)), weave=float(rng.uniform(0, 0.5)),
        dust=float(rng.choice([0.0, rng.uniform(0, 6), rng.uniform(0, 30)])),
        scratches=float(rng.uniform(0, 0.3)), softness=float(rng.uniform(0.3, 1.5)),
        crf=float(rng.uniform(16, 28)), width=w, height=h,
    )


def draw_case(
    rng: np.random.Generator,
    sources: Sequence[tuple[str, int]],
    *,
    seed: int,
    no_repeat_share: float = 0.3,
    hard: bool = True,
    transfer_frames: int = 300,
) -> CaseSpec:
    """Draw one case: conditions, kind, templates and segments at random.

    :param sources: (name, frame count) of the source clips to draw from.
    :param transfer_frames: about how many transfer frames the case has.
    """
    name, count = sources[int(rng.integers(0, len(sources)))]
    cond = _draw_conditions(rng, hard)
    stride = int(rng.choice([1, 1, 1, 2]))
    if count // stride < 60:
        stride = 1
    available = int(0.9 * (count - 1) // stride)  # film frames one scene of this source can give
    if rng.random() < no_repeat_share:
        kind = "none"
        n_film = min(transfer_frames, max(8, available))
        segs = [Segment((0,), n_film)]
    else:
        kind = str(rng.choice(["single", "mixed", "switch"], p=[0.4, 0.3, 0.3]))
        n_seg = 1 if kind == "single" else int(rng.integers(2, 5))
        templates = [random_template(rng) for _ in range(n_seg if kind == "mixed" else min(2, n_seg))]
        budget = min(transfer_frames * 0.65, 2.0 * available)
        segs = []
        scene_used = 0
        for i in range(n_seg):
            t = templates[i % len(templates)]
            cut = bool(i > 0 and rng.random() < 0.4)
            if cut:
                scene_used = 0
            want = max(12, int(budget / n_seg * rng.uniform(0.6, 1.4)))
            frames = max(8, min(want, available - scene_used - 3))
            lost = tuple(sorted({int(x) for x in rng.integers(3, max(4, frames - 2), size=int(rng.integers(0, 3)))}))
            lost = lost if rng.random() < 0.4 else ()
            scene_used += frames + len(lost)
            segs.append(Segment(
                t, frames, phase=int(rng.integers(0, len(t))), lost=lost,
                jitter=float(rng.uniform(0, 0.1)) if rng.random() < 0.5 else 0.0, cut=cut,
            ))
    # film frames each scene needs (a cut starts a new scene: another passage of the same source)
    needs = [0]
    for seg in segs:
        if seg.cut:
            needs.append(0)
        needs[-1] += seg.film_frames + len(seg.lost)
    starts = [int(rng.integers(0, max(1, count - n * stride))) for n in needs]
    scenes = [(name, st) for st in starts[1:]]
    fps = int(rng.choice([24, 25]))
    return CaseSpec(f"{kind}-{seed}", seed, name, starts[0], stride, cond, segs, kind, scenes, fps)


def draw_set(seeds: Sequence[int], sources: Sequence[tuple[str, int]], **kw: object) -> list[CaseSpec]:
    """One case per seed (each seed its own generator, so a set can be extended without changing its cases)."""
    return [draw_case(np.random.default_rng([seed, 7919]), sources, seed=seed, **kw) for seed in seeds]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- rendering
def _fitted(frames: np.ndarray, width: int, height: int, soft: float = 0.0) -> vs.VideoNode:
    """A node showing ``frames`` (T, H, W) centre-cropped to the target aspect and resized (bicubic), blurred
    by about ``soft`` pixels (two box passes)."""
    from vsrestore.testing.filmgen import to_clip

    t, h, w = frames.shape
    target = width / height
    if w / h > target:
        cw, ch = int(round(h * target)), h
    else:
        cw, ch = w, int(round(w / target))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    crop = np.ascontiguousarray(frames[:, y0 : y0 + ch, x0 : x0 + cw])
    out = vs.core.resize.Bicubic(to_clip(crop, fmt=vs.GRAYS), width, height)
    r = int(round((np.sqrt(1 + 6 * soft * soft) - 1) / 2))  # two box passes of radius r: variance 2r(r+1)/3
    if r > 0:
        out = vs.core.std.BoxBlur(out, hradius=r, vradius=r, hpasses=2, vpasses=2)
    return out


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frames`` (T, H, W) centre-cropped to the target aspect and resized to width x height, in 0..1."""
    clip = _fitted(frames, width, height)
    out = np.empty((frames.shape[0], height, width), dtype=np.float32)
    for i, f in enumerate(clip.frames(close=True)):
        out[i] = np.asarray(f[0])
    return np.clip(out, 0.0, 1.0)


def _shift(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Sub-pixel shift (bilinear) of a whole frame, edges repeated."""
    out = img
    for axis, d in ((0, dy), (1, dx)):
        i = int(np.floor(d))
        f = float(d - i)
        pad = [(0, 0), (0, 0)]
        pad[axis] = (abs(i) + 1, abs(i) + 1)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        lo = abs(i) + 1 - i  # source index of output 0 is -i (then -i-1 for the fraction's other tap)
        a = np.take(p, np.arange(lo, lo + n), axis=axis)
        b = np.take(p, np.arange(lo - 1, lo - 1 + n), axis=axis)
        out = (1.0 - f) * a + f * b
    return out.astype(np.float32)


def _smooth121(g: np.ndarray) -> np.ndarray:
    p = np.pad(g, 1, mode="edge")
    v = (p[:-2] + 2 * p[1:-1] + p[2:]) * 0.25
    return (v[:, :-2] + 2 * v[:, 1:-1] + v[:, 2:]) * 0.25


def _grain(rng: np.random.Generator, shape: tuple[int, int], size: float) -> np.ndarray:
    """Unit-variance grain; ``size`` > 1 makes it coarser (a [1 2 1] filter once or twice)."""
    g = rng.standard_normal(shape, dtype=np.float32)
    if size > 1.2:
        g = _smooth121(g)
        if size > 1.6:
            g = _smooth121(g)
        g /= max(float(g.std()), 1e-6)
    return g


def render(film: Callable[[int], np.ndarray], cad: Cadence, cond: Conditions, rng: np.random.Generator) -> (
    Iterator[np.ndarray]
):
    """Transfer frames (H, W) in 0..1 (8-bit levels / 255), one at a time; ``film(i)`` gives clean film frame i
    at the case's size.

    ``film(i)`` is already softened. Every film frame gets its print grain (shared by its copies) and every
    transfer frame its own grain, flicker, weave, dust and scratches. The result spans ``black``..``white``
    with ``gamma``.
    """
    h, w = cond.height, cond.width
    lo, hi = cond.black / 255.0, cond.white / 255.0
    sg = cond.grain / 255.0
    shared_sd = sg * np.sqrt(cond.grain_shared)
    own_sd = sg * np.sqrt(1.0 - cond.grain_shared)
    prints: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    dust_density = cond.dust / (h * w)
    ramp = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
    for f in cad.film:
        if f not in prints:
            pic = np.clip(film(f), 0.0, 1.0) ** cond.gamma
            prints[f] = (pic, _grain(rng, (h, w), cond.grain_size) if sg > 0 else None)
            for old in [k for k in prints if k < f - 4]:  # copies come within a few slots
                del prints[old]
        x, print_grain = prints[f]
        if cond.weave > 0:
            dy, dx = rng.normal(0.0, cond.weave, size=2).clip(-2 * cond.weave, 2 * cond.weave)
            x = _shift(x, float(dy), float(dx))
        gain = 1.0 + cond.flicker * float(rng.standard_normal())
        tilt = 0.3 * cond.flicker * float(rng.standard_normal())
        y = lo + (hi - lo) * x * (gain + tilt * ramp)
        if print_grain is not None:
            y = y + shared_sd * print_grain + own_sd * _grain(rng, (h, w), cond.grain_size)
        if dust_density > 0:
            y = add_dust(y, rng, dust_density, max_radius=max(1.5, 3.0 * w / 640))  # type: ignore[assignment]
        if cond.scratches > 0:
            y = add_scratches(y, rng, cond.scratches)
        yield np.clip(y, 0.0, 1.0)


@dataclass
class BuiltCase:
    """A rendered case: the H.264 file of the transfer and its truth."""

    spec: CaseSpec
    path: Path
    cadence: Cadence

    def clip(self) -> vs.VideoNode:
        from vsrestore.core.source import load_source

        return load_source(self.path)


def build_case(spec: CaseSpec, load: Callable[[str], np.ndarray], cache: str | os.PathLike[str]) -> BuiltCase:
    """Render ``spec`` into ``cache/KEY.mkv`` (H.264 at the case's crf, 24 fps), unless it is there already.

    ``load(name)`` gives a source's clean luma (T, H, W) in 0..1. Frames are rendered and encoded one at a
    time, so a 1440x1080 case needs little memory.
    """
    path = Path(cache) / f"{spec.key()}.mkv"
    cad = make_cadence(spec.segments, np.random.default_rng([spec.seed, 17]))
    if path.is_file():
        return BuiltCase(spec, path, cad)
    n_film = max(max(cad.film, default=-1), max(cad.lost, default=-1)) + 1
    seg_first = [0]
    for si in range(len(spec.segments)):
        used = [f for f, g in zip(cad.film, cad.segment, strict=True) if g == si]
        seg_first.append(max(used) + 1 if used else seg_first[-1])
    seg_first[-1] = n_film
    # source (name, frame) of every film frame
    where: list[tuple[str, int]] = []
    src_name, src_start = spec.source, spec.start
    scene_iter = iter(spec.scenes)
    offset = 0
    for si, seg in enumerate(spec.segments):
        if seg.cut and si > 0:
            src_name, src_start = next(scene_iter)
            offset = 0
        count = load(src_name).shape[0]
        for j in range(seg_first[si + 1] - seg_first[si]):
            # a passage too long for its source wraps round (a cut), never repeating a source frame
            where.append((src_name, (src_start + (offset + j) * spec.stride) % count))
        offset += seg_first[si + 1] - seg_first[si]
    c = spec.conditions
    soft = c.softness * c.width / 640.0
    nodes = {name: _fitted(load(name), c.width, c.height, soft) for name in {n for n, _ in where}}

    def film(i: int) -> np.ndarray:
        name, k = where[i]
        return np.asarray(nodes[name].get_frame(k)[0]).copy()

    path.parent.mkdir(parents=True, exist_ok=True)
    frames = render(film, cad, c, np.random.default_rng([spec.seed, 31]))
    encode_h264(frames, path, fps=spec.fps, crf=c.crf, preset="veryfast", tune=None)
    return BuiltCase(spec, path, cad)
