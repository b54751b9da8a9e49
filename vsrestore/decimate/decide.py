"""Whole-clip analysis: metrics (cached), template learning, decisions, film frames and the restored rate."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import vapoursynth as vs

from vsrestore.core.checks import check_clip
from vsrestore.decimate.evidence import EvidenceModel, _rolling_quantiles
from vsrestore.decimate.metrics import MetricParams, compute_metrics
from vsrestore.decimate.overrides import Overrides, read_overrides
from vsrestore.decimate.sidecar import clip_fingerprint, default_sidecar, read_sidecar, write_sidecar
from vsrestore.decimate.stillness import StillParams, visibility
from vsrestore.decimate.template import Fit, HmmParams, Template, fit, runs

__all__ = ["Analysis", "DecisionKind", "analyze", "merge_ranges", "weak_ranges"]

FUNC = "vsrestore.decimate"


#: decisions below this confidence are reported as unsure (the calibration table of
#: benchmarks/results/decimate.md says how often decisions above it are right on footage never tuned on)
UNSURE = 0.9
#: a run of "no repeats" at least this long between two repeat-template runs is named in the report
INTERRUPTED_RUN = 12
#: still passages at least this long (input frames) are named in the report
STILL_RUN = 12
#: frames kept as new whose evidence is weaker than this (the median over +-``WEAK_HALF`` frames of the strongest
#: lag's log-likelihood ratio "copy" stays above minus this) are named in runs of at least ``STILL_RUN`` frames
WEAK_EVIDENCE = 0.5
WEAK_HALF = 12


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges merged, in order."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def unsure_ranges(confidence: list[float] | np.ndarray, forced: list[int] | None = None, threshold: float = UNSURE,
                  gap: int = 6) -> list[tuple[int, int]]:
    """Input frame ranges (first, last) holding decisions below ``threshold`` confidence outside ``forced``;
    ranges closer than ``gap`` frames are merged."""
    skip = set(forced or [])
    ranges: list[tuple[int, int]] = []
    for i in (i for i, c in enumerate(confidence) if c < threshold and i not in skip):
        if ranges and i - ranges[-1][1] <= gap:
            ranges[-1] = (ranges[-1][0], i)
        else:
            ranges.append((i, i))
    return ranges


def interrupted_ranges(template_of: list[int] | np.ndarray, none: int, forced: list[int] | None = None,
                       min_run: int = INTERRUPTED_RUN, reach: int = 3) -> list[tuple[int, int]]:
    """Input frame ranges (first, last) of at least ``min_run`` frames following template ``none`` ("no repeats")
    between two repeat-template runs (within ``reach`` frames on both sides), outside ``forced``."""
    t = np.asarray(template_of)
    if t.size == 0:
        return []
    skip = set(forced or [])
    starts = np.r_[0, np.where(np.diff(t) != 0)[0] + 1]
    ends = np.r_[starts[1:], t.size]
    out: list[tuple[int, int]] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if t[a] != none or b - a < min_run or any(i in skip for i in range(a, b)):
            continue
        left = t[max(0, a - reach) : a]
        right = t[b : b + reach]
        if ((left >= 0) & (left != none)).any() and ((right >= 0) & (right != none)).any():
            out.append((a, b - 1))
    return out


class DecisionKind(StrEnum):
    """What an input frame is."""

    NEW = "new"  # the first showing of a film frame: kept
    COPY = "copy"  # a repeat of an earlier input frame: dropped


@dataclass
class Analysis:
    """The decimator's decisions for a whole clip.

    :ivar num_frames: input frames.
    :ivar fps: input frame rate.
    :ivar tokens: per input frame, 0 for a new film frame, k > 0 for a copy of input frame n-k.
    :ivar confidence: per input frame, the probability (0..1) of its decision under the model.
    :ivar film: per input frame, the index of the film frame (output frame) it shows.
    :ivar templates: learned templates (letters, e.g. ``AAB``), most used first.
    :ivar template_of: per input frame, the index in ``templates`` followed there, -1 for a free decision.
    :ivar rate: the film rate: constant when one rate fits the whole clip, else the average.
    :ivar variable: True when the template's rate changes: output frames then carry their own durations.
    :ivar durations: per output frame, its duration in seconds as a fraction.
    :ivar metrics: lag distances (N, L) the decisions were made on; ``dust``: per input frame dust share.
    :ivar forced: input frames whose decision came from the override file.
    :ivar still: input frame ranges (first, last) too still for a repeat to show (the picture barely changes:
        :mod:`vsrestore.decimate.stillness`); decisions there follow dips that recur at one phase, else the
        cadence found around them.
    :ivar set_aside: input frame ranges (first, last, template letters) where a repeat template was learned but
        its dips do not recur at one phase (:func:`vsrestore.decimate.template.recurrence`: chance dips of grain,
        weave or the codec on a still shot); decided as if it had not been seen, and worth a look.
    :ivar weak: input frame ranges (first, last) kept as new frames on weak evidence (:func:`weak_ranges`):
        nothing there says "copy", but nothing clearly says "new frame" either, so repeats there would not show
        (on the tuning set, about four in five of the decimator's wrong decisions lie in these ranges or the
        ones above); outside the ``still`` ranges.
    """

    num_frames: int
    fps: Fraction
    tokens: list[int]
    confidence: list[float]
    film: list[int]
    templates: list[str]
    template_of: list[int]
    rate: Fraction
    variable: bool
    durations: list[Fraction]
    metrics: np.ndarray
    dust: np.ndarray
    forced: list[int] = field(default_factory=list)
    still: list[tuple[int, int]] = field(default_factory=list)
    set_aside: list[tuple[int, int, str]] = field(default_factory=list)
    weak: list[tuple[int, int]] = field(default_factory=list)
    rechecked: list[tuple[int, int]] = field(default_factory=list)

    def kind(self, n: int) -> DecisionKind:
        return DecisionKind.NEW if self.tokens[n] == 0 else DecisionKind.COPY

    @property
    def kept(self) -> list[int]:
        """Input frames that show a film frame first, in order (one per output frame)."""
        return [i for i, t in enumerate(self.tokens) if t == 0]

    def copies(self) -> list[list[int]]:
        """For every output frame, the input frames showing its film frame (first showing first)."""
        groups: list[list[int]] = [[] for _ in range(max(self.film, default=-1) + 1)]
        for i, f in enumerate(self.film):
            groups[f].append(i)
        return groups

    def confidence_counts(self) -> dict[str, int]:
        """Decisions by confidence band."""
        c = np.asarray(self.confidence)
        return {
            ">=0.99": int((c >= 0.99).sum()),
            "0.9-0.99": int(((c >= 0.9) & (c < 0.99)).sum()),
            "0.5-0.9": int(((c >= 0.5) & (c < 0.9)).sum()),
            "<0.5": int((c < 0.5).sum()),
        }

    def unsure(self, threshold: float = UNSURE, gap: int = 6) -> list[tuple[int, int]]:
        """Input frame ranges (first, last) holding decisions below ``threshold`` confidence that the override
        file did not force; ranges closer than ``gap`` frames are merged."""
        return unsure_ranges(self.confidence, self.forced, threshold, gap)

    def interrupted(self, min_run: int = INTERRUPTED_RUN, reach: int = 3) -> list[tuple[int, int]]:
        """Input frame ranges (first, last) where a repeat template stops for at least ``min_run`` frames of "no
        repeats" and starts again (the same or another template within ``reach`` frames on both sides), outside
        the override file's frames. The model can be sure there although a person sees the dips go on (weak dips
        in grain): these ranges are worth a look, whatever their confidence."""
        if "ABCD" not in self.templates:
            return []
        return interrupted_ranges(self.template_of, self.templates.index("ABCD"), self.forced, min_run, reach)

    def review(self) -> list[tuple[int, int]]:
        """Every input frame range the report asks a person to check (unsure, interrupted, still, set aside,
        weak evidence, rechecked), overlapping ranges merged, in order."""
        return merge_ranges(self.unsure() + self.interrupted() + self.still + [(a, b) for a, b, _ in self.set_aside]
                            + self.weak + self.rechecked)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and decisions."""
        return {
            "num_frames": self.num_frames,
            "fps": str(self.fps),
            "film_frames": len(self.kept),
            "rate": str(self.rate),
            "rate_float": float(self.rate),
            "variable": self.variable,
            "templates": self.templates,
            "confidence_counts": self.confidence_counts(),
            "tokens": self.tokens,
            "confidence": [round(c, 4) for c in self.confidence],
            "template_of": self.template_of,
            "forced": self.forced,
            "unsure": [list(r) for r in self.unsure()],
            "interrupted": [list(r) for r in self.interrupted()],
            "still": [list(r) for r in self.still],
            "set_aside": [list(r) for r in self.set_aside],
            "weak": [list(r) for r in self.weak],
            "rechecked": [list(r) for r in self.rechecked],
        }


_MEMO: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
_DECISIONS: dict[tuple[str, str, str], dict[str, Any]] = {}
_LOCK = threading.Lock()


def _metric_key(p: MetricParams) -> str:
    return f"metrics-v9|{p}"


def _decision_key(h: HmmParams, ov: Overrides | None) -> str:
    return f"hmm-v9|{h}|{EvidenceModel.default().key()}|{ov.key() if ov else ''}"


def _film_ids(tokens: list[int]) -> list[int]:
    film: list[int] = []
    nxt = 0
    for i, t in enumerate(tokens):
        if t == 0 or i - t < 0:
            film.append(nxt)
            nxt += 1
        else:
            film.append(film[i - t])
    return film


#: a template followed for fewer input frames than this does not change the output rate (half a second at 24 fps)
MIN_RUN = 12


def _still_ranges(m: np.ndarray, params: StillParams | None, forced: list[int] | None = None,
                  min_run: int = STILL_RUN) -> list[tuple[int, int]]:
    """Input frame ranges (first, last) of at least ``min_run`` frames where repeats cannot show, outside the
    frames the override file decides."""
    if params is None or m.shape[0] == 0:
        return []
    still = visibility(m, params) < 0.5
    if forced:
        still[np.asarray(forced, dtype=np.int64)] = False
    return runs(still, min_run)


def _outside(ranges: list[list[int]], still: list[tuple[int, int]], min_run: int = STILL_RUN) -> list[tuple[int, int]]:
    """``ranges`` less the frames of the ``still`` ranges (named already), in runs of at least ``min_run``."""
    if not ranges:
        return []
    n = max(b for _, b in ranges) + 1
    mask = np.zeros(n, dtype=bool)
    for a, b in ranges:
        mask[a : b + 1] = True
    for a, b in still:
        mask[a : b + 1] = False
    return runs(mask, min_run)


def _smooth_runs(tpl: np.ndarray, min_run: int) -> np.ndarray:
    """Template per frame with free decisions and short runs folded into the neighbouring long run."""
    n = tpl.size
    if n == 0:
        return tpl
    starts = np.r_[0, np.where(np.diff(tpl) != 0)[0] + 1]
    ends = np.r_[starts[1:], n]
    long_runs = [(a, b, int(tpl[a])) for a, b in zip(starts, ends, strict=True) if b - a >= min_run and tpl[a] >= 0]
    if not long_runs:
        vals = tpl[tpl >= 0]
        return np.full(n, int(np.bincount(vals).argmax()) if vals.size else -1)
    out = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(n):
        while j + 1 < len(long_runs) and i >= long_runs[j + 1][0]:
            j += 1
        a, b, t = long_runs[j]
        if i < a and j > 0 and i - long_runs[j - 1][1] < a - i:
            t = long_runs[j - 1][2]
        out[i] = t
    return out


def _rates(tokens: list[int], template_of: list[int], templates: list[Template], fps: Fraction) -> (
    tuple[Fraction, bool, list[Fraction]]
):
    """The film rate, whether it varies, and the duration of each output frame.

    Within a run of one template, film frames last one period of the template's rate (smooth motion), as long
    as that keeps the output's clock within half a template period (at least one input frame) of the
    transfer's; where it would not (lost frames, free decisions, a run whose rate differs from its
    template's), the run's frames share the run's input time equally, so the output ends in sync again. The
    output therefore never drifts from the transfer's timing (and its sound) by more than half a period of
    the template in force (2 input frames for ``ABAB``), however long the film.
    """
    n = len(tokens)
    tpl = _smooth_runs(np.asarray(template_of), MIN_RUN)
    new = np.asarray(tokens) == 0
    kept_count = int(new.sum())
    if kept_count == 0:
        return fps, False, []
    frame = 1 / fps
    tr = [fps * Fraction(t.new_per_period, t.period) for t in templates]
    starts = np.r_[0, np.where(np.diff(tpl) != 0)[0] + 1]
    ends = np.r_[starts[1:], n]
    durations: list[Fraction] = []
    t_in = t_out = Fraction(0)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        k = int(new[a:b].sum())
        t_in += (b - a) * frame
        if k == 0:
            continue
        t = int(tpl[a])
        d_tpl = 1 / tr[t] if t >= 0 else None
        slack = frame * max(1, (templates[t].period + 1) // 2) if t >= 0 else frame
        in_sync = d_tpl is not None and abs(t_out + k * d_tpl - t_in) <= slack
        d = d_tpl if in_sync and d_tpl is not None else (t_in - t_out) / k
        durations += [d] * k
        t_out += k * d
    if len(set(durations)) == 1:
        return 1 / durations[0], False, durations
    avg = (fps * Fraction(kept_count, n)).limit_denominator(1001)
    return avg, True, durations


def weak_ranges(evidence: np.ndarray, tokens: np.ndarray, forced: list[int] | None = None,
                threshold: float = WEAK_EVIDENCE, half: int = WEAK_HALF, min_run: int = STILL_RUN) -> (
        list[tuple[int, int]]):
    """Input frame ranges (first, last) of at least ``min_run`` frames kept as new where the copy evidence
    ``evidence`` (N, L; log-likelihood ratios, :func:`vsrestore.decimate.template.fit`) is weak: the median over
    +-``half`` frames of each frame's strongest lag stays above ``-threshold``. Footage with visible motion and
    no repeats sits far below (every lag clearly "different"); frames of a film's repeats that the decimator
    missed sit here, and so do frames where nothing can be told apart. Frames the override file decides are
    left out."""
    n = evidence.shape[0]
    if n == 0:
        return []
    strongest = np.nan_to_num(evidence.max(axis=1), nan=0.0)
    strongest[: min(evidence.shape[1], n)] = -8.0  # the first frames have no frames before them to repeat
    level = _rolling_quantiles(strongest, half, [0.5])[0]
    weak = (np.asarray(tokens) == 0) & (level > -threshold)
    if forced:
        weak[np.asarray(forced, dtype=np.int64)] = False
    return runs(weak, min_run)


def _named_by(first: Fit | None, forced: list[int] | None) -> list[tuple[int, int]]:
    """The ranges a first decode would have named for a check (unsure, interrupted, set aside, weak evidence);
    none where there was no second decode."""
    if first is None:
        return []
    dec = first.decoded
    none = next((i for i, t in enumerate(first.templates) if t.tokens == (0,)), None)
    gaps = interrupted_ranges(dec.template, none, forced) if none is not None else []
    named = (unsure_ranges(dec.confidence, forced) + gaps + [(a, b) for a, b, _ in first.set_aside]
             + weak_ranges(first.evidence, dec.tokens, forced))
    return merge_ranges(named)


def _less(ranges: list[tuple[int, int]], named: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` less the frames of ``named`` (first, last each), in order."""
    if not ranges:
        return []
    n = max(b for _, b in ranges + named) + 1
    mask = np.zeros(n, dtype=bool)
    for a, b in ranges:
        mask[a : b + 1] = True
    for a, b in named:
        mask[a : b + 1] = False
    return runs(mask, 1)


def analyze(
    clip: vs.VideoNode,
    *,
    overrides: str | os.PathLike[str] | Overrides | None = None,
    sidecar: str | os.PathLike[str] | bool | None = None,
    metric_params: MetricParams | None = None,
    hmm_params: HmmParams | None = None,
    progress: bool = True,
) -> Analysis:
    """Analyse a whole clip once: find which frames repeat earlier ones and the film's rate.

    :param clip: the transfer (GRAY, YUV or RGB, constant format, size and frame rate).
    :param overrides: an override file (see :mod:`vsrestore.decimate.overrides`) or parsed :class:`Overrides`.
    :param sidecar: where the analysis is cached: a path, None (the vsrestore cache folder, keyed by the clip's
        fingerprint) or False (memory only). A sidecar whose key does not match is re-analysed and replaced; a
        file at that path that is not a vsrestore sidecar is refused.
    :param metric_params, hmm_params: analysis parameters (defaults suit 24/25 fps transfers of 12-20 fps film).
    :param progress: draw a progress bar on stderr while the metrics are computed.
    :raises vs.Error: bad clip; :class:`~vsrestore.decimate.overrides.OverrideError` for a malformed override
        file; :class:`~vsrestore.decimate.sidecar.SidecarError` when the sidecar path is someone else's file.
    """
    clip = check_clip(clip, FUNC, need_fps=True, min_size=16)
    if clip.num_frames < 4:
        raise vs.Error(f"{FUNC}: 'clip' has {clip.num_frames} frames; at least 4 are needed to find repeats")
    mp = metric_params or MetricParams()
    hp = hmm_params or HmmParams()
    if mp.lags < 1:
        raise ValueError(f"{FUNC}: metric_params.lags must be >= 1, got {mp.lags}")
    ov: Overrides | None
    if overrides is None or isinstance(overrides, Overrides):
        ov = overrides
    else:
        ov = read_overrides(overrides, num_frames=clip.num_frames, max_lag=mp.lags)
    fp = clip_fingerprint(clip)
    mkey, dkey = _metric_key(mp), _decision_key(hp, ov)
    path: Path | None
    if sidecar is False:
        path = None
    elif sidecar is None or sidecar is True:
        path = default_sidecar(fp)
    else:
        path = Path(sidecar)
    with _LOCK:
        data = read_sidecar(path) if path is not None else None
        if data is not None and (data.get("source") != fp or data.get("metric_key") != mkey):
            data = None
        if (fp, mkey) in _MEMO:
            m, dust = _MEMO[(fp, mkey)]
        elif data is not None:
            m = np.array(data["metrics"], dtype=np.float64)  # null: not measured (NaN)
            dust = np.array(data["dust"], dtype=np.float64)
        else:
            m, dust = compute_metrics(clip, mp, progress=progress)
        _MEMO[(fp, mkey)] = (m, dust)
        dec = _DECISIONS.get((fp, mkey, dkey))
        if dec is None and data is not None and data.get("decision_key") == dkey:
            dec = data["decisions"]
        write = path is not None and (data is None or data.get("decision_key") != dkey)
        if dec is None:
            forced = dict(ov.forced) if ov else None
            res = fit(m, hp, forced)
            # keep the templates the decisions follow, most used first
            used = np.bincount(res.decoded.template[res.decoded.template >= 0], minlength=len(res.templates))
            order = [int(i) for i in np.argsort(-used, kind="stable") if used[i] > 0]
            remap = {old: new for new, old in enumerate(order)}
            dec = {
                "tokens": [int(t) for t in res.decoded.tokens],
                "confidence": [float(c) for c in res.decoded.confidence],
                "template_of": [remap.get(int(t), -1) for t in res.decoded.template],
                "templates": [list(res.templates[i].tokens) for i in order],
                "set_aside": [[a, b, t.letters()] for a, b, t in res.set_aside
                              if not (ov and any(a <= f <= b for f in ov.forced))],
                "weak": [list(r) for r in weak_ranges(res.evidence, res.decoded.tokens,
                                                      sorted(ov.forced) if ov else None)],
                "first_named": [list(r) for r in _named_by(res.first, sorted(ov.forced) if ov else None)],
            }
        _DECISIONS[(fp, mkey, dkey)] = dec
        if write and path is not None:
            write_sidecar(path, {
                "source": fp, "metric_key": mkey, "decision_key": dkey,
                "metrics": [[v if np.isfinite(v) else None for v in row] for row in m.round(7).tolist()],
                "dust": dust.round(7).tolist(), "decisions": dec,
            })
    still = _still_ranges(m, hp.still, sorted(ov.forced) if ov else None)
    templates = [Template(tuple(t)) for t in dec["templates"]]
    tokens = list(dec["tokens"])
    fps = Fraction(clip.fps.numerator, clip.fps.denominator)
    rate, variable, durations = _rates(tokens, dec["template_of"], templates, fps)
    an = Analysis(
        num_frames=clip.num_frames, fps=fps, tokens=tokens, confidence=list(dec["confidence"]),
        film=_film_ids(tokens), templates=[t.letters() for t in templates], template_of=list(dec["template_of"]),
        rate=rate, variable=variable, durations=durations, metrics=m, dust=dust,
        forced=sorted(ov.forced) if ov else [], still=still,
        set_aside=[(int(a), int(b), str(t)) for a, b, t in dec.get("set_aside", [])],
        weak=_outside(dec.get("weak", []), still),
    )
    an.rechecked = _less([(int(a), int(b)) for a, b in dec.get("first_named", [])], an.review())
    return an
