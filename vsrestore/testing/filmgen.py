"""Film-to-video transfers with ground truth: the material the decimator is built for.

A film shot at 12-19 fps reached video by showing each film frame one or more times. This module turns clean
real footage into such a transfer, with every detail known:

1. :func:`film_timeline` samples a source clip's timeline at the film's rate (nearest source frame).
2. :func:`make_cadence` lays film frames onto transfer slots following repeat patterns (:data:`PATTERNS`):
   held copies (``A A B``), copies through one frame (``A B A``), through two frames (``A B C A``), with
   changes of pattern at segment boundaries, occasional jitter of the pattern, and lost film frames.
3. :func:`render_transfer` renders each transfer slot from its film frame with its OWN degradation (grain,
   dust, flicker, weave from :func:`vsrestore.testing.degrade.film_look`), so copies are never identical,
   optionally darkened per segment.
4. :func:`encode_h264` / :func:`compress` pass the result through H.264, as real transfers were.

The truth of a transfer is a :class:`Cadence`: for every transfer frame, the index of the film frame it shows
and whether it is a new film frame or a copy (and at which lag).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vsrestore.testing.degrade import FilmLook, film_look

__all__ = [
    "PATTERNS",
    "Cadence",
    "Segment",
    "TransferCase",
    "accuracy",
    "compress",
    "encode_h264",
    "film_timeline",
    "load_luma",
    "make_cadence",
    "make_case",
    "pattern_rate",
    "render_transfer",
    "to_clip",
]

core = vs.core

#: Repeat patterns as slot tokens: 0 is a new film frame, k > 0 a copy of the slot k places back.
#: The film rate a pattern gives at 24 fps is 24 * (new slots) / (slots).
PATTERNS: dict[str, tuple[int, ...]] = {
    "progressive": (0,),  # A B C D        24 -> 24
    "held": (0, 1, 0),  # A A B C C D      16 -> 24
    "held2": (0, 1),  # A A B B            12 -> 24
    "held5": (0, 0, 0, 0, 1),  # A B C D D 20 -> 24
    "held4": (0, 0, 0, 1),  # A B C C      18 -> 24
    "alternate": (0, 0, 2),  # A B A C D C 16 -> 24
    "alternate2": (0, 0, 2, 2),  # A B A B 12 -> 24
    "lag3": (0, 0, 0, 3),  # A B C A       18 -> 24
    "lag3_held": (0, 0, 0, 3, 0, 1),  # A B C A D D   16 -> 24
}


def pattern_rate(pattern: Sequence[int], fps: float = 24.0) -> Fraction:
    """Film frames per second that ``pattern`` carries at ``fps`` transfer frames per second."""
    new = sum(1 for t in pattern if t == 0)
    return Fraction(new, len(pattern)) * Fraction(fps).limit_denominator(1001)


@dataclass
class Segment:
    """A run of the transfer with one repeat pattern.

    :param pattern: a name in :data:`PATTERNS` or a tuple of slot tokens.
    :param film_frames: how many film frames the segment shows (before lost frames are removed).
    :param phase: the slot of the pattern the segment starts at.
    :param lost: film frames (0-based, within the segment) missing from the print: never shown.
    :param jitter: chance per pattern period that one slot is held once more or a copy is skipped.
    :param dark: brightness factor of the segment (1: as is; 0.25: a very dark scene).
    :param cut: the segment starts a new scene (for :func:`make_case`: a different source passage).
    """

    pattern: str | tuple[int, ...]
    film_frames: int
    phase: int = 0
    lost: tuple[int, ...] = ()
    jitter: float = 0.0
    dark: float = 1.0
    cut: bool = False

    def tokens(self) -> tuple[int, ...]:
        if isinstance(self.pattern, str):
            if self.pattern not in PATTERNS:
                raise ValueError(f"filmgen: unknown pattern {self.pattern!r}; known: {', '.join(PATTERNS)}")
            return PATTERNS[self.pattern]
        return tuple(int(t) for t in self.pattern)

    def name(self) -> str:
        return self.pattern if isinstance(self.pattern, str) else "custom" + "".join(map(str, self.pattern))


@dataclass
class Cadence:
    """Ground truth of a transfer.

    :ivar film: film frame index shown by each transfer frame (increasing when copies are skipped).
    :ivar lag: 0 when the transfer frame is a new film frame, k > 0 when it copies the frame k slots back.
    :ivar segment: index of the :class:`Segment` each transfer frame belongs to.
    :ivar lost: film frame indices never shown.
    """

    film: list[int]
    lag: list[int]
    segment: list[int]
    lost: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.film)

    @property
    def keep(self) -> list[int]:
        """The transfer frames an ideal decimator keeps: the first showing of every film frame."""
        return [i for i, k in enumerate(self.lag) if k == 0]

    def film_count(self) -> int:
        return len(set(self.film))

    def rate(self, fps: float = 24.0) -> Fraction:
        """The average film rate of the transfer at ``fps`` (film frames shown per second)."""
        return (Fraction(self.film_count(), max(1, len(self.film))) * Fraction(fps)).limit_denominator(1001)


def make_cadence(segments: Sequence[Segment], rng: np.random.Generator | None = None) -> Cadence:
    """Lay film frames on transfer slots following each segment's pattern.

    Film frame indices run on across segments (film frame ``i`` of the whole film); lost frames take a film
    index but no slot. A copy token whose source slot lies before the segment start is skipped, and a segment
    ends before the first new-frame token after its last film frame (so groups are not cut half-way). Jitter
    (when > 0) occasionally holds one extra slot at a period boundary or skips one copy token.
    """
    rng = rng or np.random.default_rng(0)
    film: list[int] = []
    lag: list[int] = []
    seg_of: list[int] = []
    lost_all: list[int] = []
    next_film = 0
    for si, seg in enumerate(segments):
        toks = seg.tokens()
        if 0 not in toks:
            raise ValueError(f"filmgen: pattern {toks} has no new-frame slot (token 0)")
        start = len(film)
        shown = 0
        lost = set(seg.lost)
        pos = seg.phase % len(toks)
        while True:
            while shown in lost and shown < seg.film_frames:
                lost_all.append(next_film)
                next_film += 1
                shown += 1
            tok = toks[pos]
            if tok == 0 and shown >= seg.film_frames:
                break
            pos = (pos + 1) % len(toks)
            n = len(film)
            if tok > 0:
                if n - tok < start or (seg.jitter and rng.random() < seg.jitter * 0.5):
                    continue
                film.append(film[n - tok])
                lag.append(tok)
                seg_of.append(si)
            else:
                film.append(next_film)
                lag.append(0)
                seg_of.append(si)
                next_film += 1
                shown += 1
            if seg.jitter and pos == 0 and rng.random() < seg.jitter:
                film.append(film[-1])  # an irregular extra hold
                lag.append(1)
                seg_of.append(si)
    return Cadence(film=film, lag=lag, segment=seg_of, lost=lost_all)


def accuracy(kept: Sequence[int], cadence: Cadence | Sequence[int]) -> float:
    """Decimation accuracy: 1 - (film frames missing + extra frames kept) / film frames.

    ``kept`` are the transfer frame indices a decimator output, in output order. A kept frame is extra when it
    shows a film frame already output, or a film frame older than the last one output (a copy that breaks the
    order).
    """
    film = cadence.film if isinstance(cadence, Cadence) else list(cadence)
    total = len(set(film))
    seen: set[int] = set()
    last = -1
    extra = 0
    for k in kept:
        f = film[k]
        if f in seen or f < last:
            extra += 1
            continue
        seen.add(f)
        last = f
    missing = total - len(seen)
    return 1.0 - (missing + extra) / max(1, total)


def load_luma(path: str | os.PathLike[str], *, width: int | None = None, height: int | None = None) -> np.ndarray:
    """Luma of every frame of a video file as float32 (T, H, W) in 0..1 (full range), optionally resized."""
    from vsrestore.core.source import load_source

    clip = load_source(path)
    kw: dict[str, object] = {"format": vs.GRAYS}
    if clip.format is not None and clip.format.color_family == vs.YUV:
        clip = core.std.ShufflePlanes(clip, 0, vs.GRAY)
    if width and height:
        kw.update(width=width, height=height)
    clip = core.resize.Bicubic(clip, range_in_s="limited", range_s="full", **kw)  # type: ignore[arg-type]
    out = np.empty((clip.num_frames, clip.height, clip.width), dtype=np.float32)
    for i, f in enumerate(clip.frames(close=True)):
        out[i] = np.asarray(f[0])
    return np.clip(out, 0.0, 1.0)


def film_timeline(source: np.ndarray, source_fps: float, film_fps: float, count: int, start: float = 0.0) -> (
    np.ndarray
):
    """Source frame indices of ``count`` film frames shot at ``film_fps`` from ``start`` seconds on.

    Each film frame takes the source frame nearest its exposure time; indices are clamped to the source.
    """
    t = start + np.arange(count) / film_fps
    idx = np.rint(t * source_fps).astype(np.int64)
    return np.clip(idx, 0, source.shape[0] - 1)


def render_transfer(
    film_frames: np.ndarray,
    cadence: Cadence,
    rng: np.random.Generator,
    *,
    look: FilmLook | None = None,
    dark: Sequence[float] | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Render transfer frames (T, H, W) float32: slot ``i`` shows ``film_frames[cadence.film[i]]``.

    Every slot gets its own old-film degradation (grain, dust, flicker, weave, scratches), so copies of one
    film frame differ. ``dark`` is a brightness factor per segment (applied before the film look, so the grain
    and the levels stay those of a dim print).
    """
    n = len(cadence)
    h, w = film_frames.shape[1:]
    out = np.empty((n, h, w), dtype=np.float32)
    for s in range(0, n, chunk):
        idx = cadence.film[s : s + chunk]
        clean = film_frames[idx].astype(np.float32, copy=True)
        if dark is not None:
            fac = np.asarray([dark[g] for g in cadence.segment[s : s + chunk]], dtype=np.float32)
            clean *= fac[:, None, None]
        out[s : s + len(idx)] = film_look(clean, rng, look)
    return out


def to_clip(frames: np.ndarray, fps: Fraction | int = 24, fmt: int = vs.GRAY8) -> vs.VideoNode:
    """A VapourSynth clip showing ``frames`` (T, H, W) float 0..1 (frames are held in memory by the clip)."""
    t, h, w = frames.shape
    fps = Fraction(fps)
    blank = core.std.BlankClip(format=fmt, width=w, height=h, length=t, fpsnum=fps.numerator,
                               fpsden=fps.denominator, keep=True)
    fobj = core.get_video_format(fmt)
    if fobj.sample_type == vs.INTEGER:
        peak = (1 << fobj.bits_per_sample) - 1
        dtype = np.uint8 if fobj.bits_per_sample <= 8 else np.uint16
        data = np.clip(np.rint(frames * peak), 0, peak).astype(dtype)
    else:
        data = frames.astype(np.float32)

    def _put(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        fout = f.copy()
        np.copyto(np.asarray(fout[0]), data[n])
        for p in range(1, fobj.num_planes):
            np.asarray(fout[p])[...] = (1 << (fobj.bits_per_sample - 1)) if fobj.sample_type == vs.INTEGER else 0
        return fout

    return core.std.ModifyFrame(blank, blank, _put)


def encode_h264(
    frames: np.ndarray | Iterable[np.ndarray],
    path: str | os.PathLike[str],
    *,
    fps: int = 24,
    crf: float = 19,
    preset: str = "medium",
    tune: str | None = "grain",
) -> Path:
    """Encode luma frames (T, H, W) float 0..1 as H.264 (yuv420p, grey chroma, limited range) in MKV or MP4.

    ``frames`` may also be an iterable of (H, W) frames (streamed: a long or large case is never held whole).
    Uses the ffmpeg binary of ``imageio_ffmpeg``; the file is written atomically.
    """
    import itertools

    import imageio_ffmpeg

    path = Path(path)
    if isinstance(frames, np.ndarray):
        h, w = frames.shape[1:]
        chunks: Iterable[np.ndarray] = (frames[s : s + 32] for s in range(0, frames.shape[0], 32))
    else:
        it = iter(frames)
        first = next(it)
        h, w = first.shape
        chunks = (f[None] for f in itertools.chain([first], it))
    if h % 2 or w % 2:
        raise ValueError(f"encode_h264: frame size {w}x{h} must be even for yuv420p")
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    os.close(fd)
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
        "-vf", "scale=in_range=full:out_range=limited,format=yuv420p",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
        *(["-tune", tune] if tune else []),
        "-color_range", "tv", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-g", "48", "-threads", "2", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        tmp,
    ]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        for chunk in chunks:
            proc.stdin.write(np.clip(np.rint(chunk * 255), 0, 255).astype(np.uint8).tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"encode_h264: ffmpeg failed ({' '.join(cmd)})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def compress(frames: np.ndarray, *, crf: float = 22, fps: int = 24) -> np.ndarray:
    """Round-trip frames through H.264 (as a real transfer was compressed); returns decoded luma (T, H, W)."""
    with tempfile.TemporaryDirectory() as d:
        p = encode_h264(frames, Path(d) / "c.mkv", fps=fps, crf=crf, preset="veryfast", tune=None)
        return load_luma(p)


@dataclass
class TransferCase:
    """A generated transfer: its frames (T, H, W) float 0..1, the truth, and how it was made."""

    name: str
    frames: np.ndarray
    cadence: Cadence
    segments: list[Segment]
    fps: int = 24

    def clip(self, fmt: int = vs.GRAY8) -> vs.VideoNode:
        return to_clip(self.frames, self.fps, fmt)

    def truth(self) -> dict[str, object]:
        """The truth as a JSON-ready dict."""
        return {
            "name": self.name,
            "fps": self.fps,
            "frames": len(self.cadence),
            "film_frames": self.cadence.film_count(),
            "true_rate": str(self.cadence.rate(self.fps)),
            "true_rate_float": float(self.cadence.rate(self.fps)),
            "film": self.cadence.film,
            "lag": self.cadence.lag,
            "keep": self.cadence.keep,
            "segment": self.cadence.segment,
            "lost": self.cadence.lost,
            "segments": [
                {**asdict(s), "pattern": s.name(), "tokens": list(s.tokens()),
                 "rate": str(pattern_rate(s.tokens(), self.fps))}
                for s in self.segments
            ],
        }

    def write_truth(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(self.truth(), indent=1) + "\n")


def make_case(
    name: str,
    source: np.ndarray,
    segments: Sequence[Segment],
    *,
    source_fps: float = 25.0,
    film_fps: float = 16.0,
    seed: int = 0,
    look: FilmLook | None = None,
    crf: float | None = None,
    scene_starts: Sequence[float] | None = None,
) -> TransferCase:
    """Make a transfer case from clean source luma (T, H, W).

    Film frames are sampled from the source at ``film_fps``; a segment with ``cut=True`` jumps to the next
    start in ``scene_starts`` (seconds; by default the source is mirrored for the new scene so the cut is a
    real change of picture). ``crf`` (when given) passes the result through H.264.
    """
    rng = np.random.default_rng(seed)
    cad = make_cadence(segments, rng)
    n_film = max(max(cad.film, default=-1), max(cad.lost, default=-1)) + 1
    # film frames of each segment are contiguous: [first[si], first[si+1])
    first = [0]
    for si in range(len(segments)):
        used = [f for f, g in zip(cad.film, cad.segment, strict=True) if g == si]
        first.append(max(used) + 1 if used else first[-1])
    first[-1] = n_film
    src_idx = np.zeros(n_film, dtype=np.int64)
    mirror = np.zeros(n_film, dtype=bool)
    starts = list(scene_starts or [])
    scene, clock, scene_first = 0, 0.0, 0
    for si, seg in enumerate(segments):
        a, b = first[si], first[si + 1]
        if seg.cut and si > 0:
            scene += 1
            scene_first = a
            clock = starts[scene - 1] if scene - 1 < len(starts) else float(
                rng.uniform(0, source.shape[0] / source_fps / 2))
        t = clock + (a - scene_first) / film_fps
        src_idx[a:b] = film_timeline(source, source_fps, film_fps, b - a, t)
        mirror[a:b] = scene_starts is None and scene % 2 == 1
    film_frames = source[src_idx].copy()
    if mirror.any():
        film_frames[mirror] = film_frames[mirror][:, :, ::-1]
    frames = render_transfer(film_frames, cad, rng, look=look, dark=[s.dark for s in segments])
    if crf is not None:
        frames = compress(frames, crf=crf)
    return TransferCase(name=name, frames=frames, cadence=cad, segments=list(segments))
