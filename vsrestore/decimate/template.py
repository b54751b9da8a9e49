"""Learning the repeat template and decoding every frame with a hidden-state model.

Each input frame carries a *token*: 0 when it shows a new film frame, k > 0 when it repeats the frame k places
before it. A *template* is the periodic token sequence of a transfer (``(0, 1, 0)`` for ``A A B``, ``(0, 0, 2)``
for ``A B A``, ``(0, 0, 0, 3)`` for ``A B C A``).

1. :func:`vsrestore.decimate.evidence.evidence` turns the lag distances into log-likelihood ratios "copy vs
   different film frame" per lag, from distances relative to the film's own motion around frame n.
2. :func:`learn_templates` fits, in overlapping windows, the best template of every period up to
   ``max_period`` and keeps the distinct winners.
3. :func:`decode` runs Viterbi over states (template, phase) plus free states (one per token): following the
   template costs little, leaving it (jitter, lost frames) or switching template or phase (pattern changes,
   cuts) costs more. "No repeats" (``ABCD``) is always one of the templates. Forward-backward gives each
   decision's posterior probability (its confidence).
4. :func:`recurrence` checks every repeat template the decisions follow: its dips must recur at the phase
   followed. A template learned from chance dips (grain, weave, the codec's rhythm on a still shot) fits its
   frames hardly better than the same template shifted by a phase; such templates are dropped and the clip
   decoded again, so a shot where nothing shows repeats keeps its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vsrestore.decimate.adapt import AdaptParams, adapted_evidence
from vsrestore.decimate.evidence import EvidenceModel, evidence
from vsrestore.decimate.periodic import PeriodicParams, periodic_evidence
from vsrestore.decimate.stillness import StillParams, visibility

__all__ = [
    "HmmParams",
    "Template",
    "decode",
    "fit",
    "learn_templates",
    "recurrence",
    "token_scores",
]

@dataclass(frozen=True)
class HmmParams:
    """Parameters of template learning and decoding (part of the sidecar key).

    :param max_period: longest template period searched, in input frames.
    :param window: half-width in frames of the windows templates are learned in.
    :param switch: per-frame probability of a change of template or phase (pattern change, cut).
    :param deviate: per-frame probability of leaving the template for a free decision (jitter, lost frame).
    :param stay_free: probability that a free decision is followed by another free decision.
    :param free_far: extra cost (log-likelihood) of a free decision "copy of the frame 2 or more places back":
        outside a recurring template such copies are rare in films, while gate weave on a nearly still shot
        often brings a frame closer to the one two places back than to its neighbour.
    :param clip_llr: bound of one lag's log-likelihood ratio (so no single frame is absolute; an exact repeat in
        footage without a pattern, as a 24 -> 25 fps transfer has every 25th frame, still wins on its own).
    :param period_penalty: log-likelihood a template must gain per extra position of its period.
    :param learn_cap: most one frame's evidence counts for a template while learning (its dips must recur).
    :param min_support: learning windows that must choose a template for the decoder to use it.
    :param min_new: smallest share of new film frames a template may have (0.45 at 24 fps: films of at least
        about 11 fps; silent films were shot at 12-24).
    :param periodic: how recurring dips are found on the footage's own scale
        (:mod:`vsrestore.decimate.periodic`); None: the evidence model alone.
    :param still: how still passages are found, where the evidence model's copy evidence is ignored and the
        cadence around them carries through (:mod:`vsrestore.decimate.stillness`); the recurring dips of
        ``periodic`` count there too (they are not chance); None: evidence counts everywhere.
    :param recur: t-statistic (:func:`recurrence`) a repeat template's dips must reach at the phase followed,
        against the same template at every other phase, for the decoder to keep it; 0: every template is kept.
        On the tuning set, templates learned from chance dips on still shots without repeats measure 0.7-2.6
        (the codec's own rhythm up to 5.3, which this does not catch); real ones mostly 5-100.
    :param recur_clear: median copy evidence (log-likelihood ratio) at which a template's copies are plain on
        their own, whatever the statistic (a few exact repeats in a short run).
    :param adapt: after the first decode, the copy evidence calibrated on the clip's own decided copies
        (:mod:`vsrestore.decimate.adapt`) is added and the clip decoded again; None: one decode.
    """

    max_period: int = 10
    window: int = 36
    switch: float = 0.004
    deviate: float = 0.003
    stay_free: float = 0.3
    free_far: float = 2.0
    clip_llr: float = 8.0
    period_penalty: float = 2.0
    learn_cap: float = 5.0
    min_support: int = 3
    min_new: float = 0.45
    periodic: PeriodicParams | None = PeriodicParams()
    still: StillParams | None = StillParams()
    recur: float = 3.0
    recur_clear: float = 5.0
    adapt: AdaptParams | None = AdaptParams()


@dataclass(frozen=True)
class Template:
    """A periodic token sequence; ``tokens[j]`` is 0 (new film frame) or k (copy of the frame k before)."""

    tokens: tuple[int, ...]
    support: float = 1.0  # share of learning windows that chose this template (its prior weight)

    @property
    def period(self) -> int:
        return len(self.tokens)

    @property
    def new_per_period(self) -> int:
        return sum(1 for t in self.tokens if t == 0)

    def rate(self, fps: float) -> float:
        """Film frames per second this template carries at ``fps`` input frames per second."""
        return fps * self.new_per_period / self.period

    def letters(self) -> str:
        """The template written as letters, e.g. ``AAB``, ``ABA``, ``ABCADD`` (one period of the repeating
        sequence; a letter seen before repeats that frame)."""
        p = self.period
        reps = 1 if p >= 3 else -(-4 // p)  # short periods are shown twice or more: AABB, ABCD
        film: list[int] = []
        for i in range((2 + reps) * p):
            t = self.tokens[i % p]
            film.append(film[i - t] if t and i - t >= 0 else i)
        names: dict[int, str] = {}
        out = []
        for f in film[2 * p :]:
            if f not in names:
                names[f] = chr(ord("A") + len(names) % 26)
            out.append(names[f])
        return "".join(out)


def canonical(tokens: tuple[int, ...]) -> tuple[int, ...]:
    """The smallest period and the lexicographically largest rotation (a new frame first when possible)."""
    p = len(tokens)
    for q in range(1, p + 1):
        if p % q == 0 and tokens == tokens[:q] * (p // q):
            tokens = tokens[:q]
            break
    rots = [tokens[i:] + tokens[:i] for i in range(len(tokens))]
    # prefer rotations whose copies point inside the period (reads naturally: ABA rather than BAB)
    def key(r: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        inside = sum(1 for i, t in enumerate(r) if t == 0 or i - t >= 0)
        return inside, r

    return max(rots, key=key)


def parse_letters(text: str) -> tuple[int, ...]:
    """Tokens of a template written as letters (``AAB`` -> (0, 1, 0), ``ABCA`` -> (0, 0, 0, 3)).

    :raises ValueError: not letters, or a letter that repeats a frame more than 9 places back.
    """
    s = text.strip().upper()
    if not s or not s.isalpha():
        raise ValueError(f"pattern {text!r} must be letters such as AAB, ABA or ABCA")
    last: dict[str, int] = {}
    toks: list[int] = []
    for i, ch in enumerate(s):
        if ch in last:
            lag = i - last[ch]
            if lag > 9:
                raise ValueError(f"pattern {text!r}: letter {ch} repeats {lag} frames later (at most 9)")
            toks.append(lag)
        else:
            toks.append(0)
        last[ch] = i
    return tuple(toks)


# ------------------------------------------------------------------------------------------- token scores
def token_scores(e: np.ndarray, further: float = 0.1) -> np.ndarray:
    """Score of every token per frame (N, L+1), relative to "different from all previous frames".

    Token 0: 0. Token k: the copy evidence at lag k (the nearer lags must differ: that is the baseline), plus,
    for each further lag, the log of a mixture (copy with probability ``further``, else different), since a
    frame that copies frame n-1 may also equal n-2. Copies of frames before the clip start are impossible.
    """
    n, lags = e.shape
    s = np.zeros((n, lags + 1))
    pos = np.logaddexp(np.log(further) + e, np.log1p(-further))
    tail = np.zeros(n)
    for k in range(lags, 0, -1):
        s[:, k] = e[:, k - 1] + tail
        tail = tail + pos[:, k - 1]
    for k in range(1, lags + 1):
        s[: min(k, n), k] = -1e9
    return s


# ------------------------------------------------------------------------------------------------ learning
def _best_template(s: np.ndarray, period: int, offset: int, min_new: float, cap: float = np.inf) -> (
    tuple[tuple[int, ...], float]
):
    """Best token per phase of ``period`` for score rows ``s`` starting at frame ``offset``; each frame counts
    at most ``cap`` for a copy (a few exact repeats do not make a template: its dips must recur)."""
    lags = s.shape[1] - 1
    ph = (np.arange(s.shape[0]) + offset) % period
    acc = np.zeros((period, lags + 1))
    np.add.at(acc, ph, np.clip(s, -50.0, cap))
    acc[:, period:] = -np.inf  # a copy must point inside the period
    best = acc.argmax(1)
    need = int(np.ceil(min_new * period - 1e-9))
    while int((best == 0).sum()) < need:  # turn the copies that lose least into new frames
        loss = np.where(best == 0, np.inf, acc.max(1) - acc[:, 0])
        best[int(np.argmin(loss))] = 0
    score = float(acc[np.arange(period), best].sum())
    toks = tuple(int(best[(p + offset) % period]) for p in range(period))
    return toks, score


def learn_templates(s: np.ndarray, params: HmmParams) -> list[Template]:
    """Distinct best templates of overlapping windows of the token scores ``s`` (N, L+1)."""
    found: dict[tuple[int, ...], int] = {}
    for win in (2 * params.window, max(12, params.window), max(12, params.window // 2)):
        hop = max(1, win // 4)
        _learn_windows(s, params, win, hop, found)
    if not found:
        found[(0,)] = 1
    total = sum(found.values())
    ranked = sorted(found.items(), key=lambda kv: -kv[1])
    keep = [(t, c) for t, c in ranked if c >= params.min_support] or ranked[:1]
    return [Template(t, c / total) for t, c in keep]


def _learn_windows(s: np.ndarray, params: HmmParams, win: int, hop: int, found: dict[tuple[int, ...], int]) -> None:
    n = s.shape[0]
    for a in range(0, max(1, n - win + hop), hop):
        b = min(n, a + win)
        if b - a < 6:
            continue
        sw = s[a:b]
        best: tuple[float, tuple[int, ...]] | None = None
        for p in range(1, params.max_period + 1):
            if p > (b - a) // 2:
                break
            toks, score = _best_template(sw, p, a, params.min_new, params.learn_cap)
            score -= params.period_penalty * p
            if best is None or score > best[0]:
                best = (score, toks)
        if best is not None:
            t = canonical(best[1])
            found[t] = found.get(t, 0) + 1


# ------------------------------------------------------------------------------------------------ decoding
@dataclass
class Decoded:
    """Per-frame result of decoding."""

    tokens: np.ndarray  # int (N,)
    confidence: np.ndarray  # float (N,), posterior of the chosen token
    template: np.ndarray  # int (N,), index of the template followed, -1 for a free decision
    phase: np.ndarray  # int (N,)
    posterior: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (N, L+1)


def _state_table(templates: list[Template], lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tok: list[int] = []
    tpl: list[int] = []
    ph: list[int] = []
    nxt: list[int] = []
    for ti, t in enumerate(templates):
        base = len(tok)
        for j, k in enumerate(t.tokens):
            tok.append(k)
            tpl.append(ti)
            ph.append(j)
            nxt.append(base + (j + 1) % t.period)
    for k in range(lags + 1):
        tok.append(k)
        tpl.append(-1)
        ph.append(0)
        nxt.append(-1)
    return np.array(tok), np.array(tpl), np.array(ph), np.array(nxt)


def decode(s: np.ndarray, templates: list[Template], params: HmmParams, forced: dict[int, int] | None = None) -> (
    Decoded
):
    """Viterbi decisions and forward-backward confidences over (template, phase) and free states.

    ``forced`` maps frame -> token that decisions must take (overrides); forced frames get confidence 1.
    """
    n, nt = s.shape
    lags = nt - 1
    tok, tpl, ph, nxt = _state_table(templates, lags)
    ns = tok.size
    is_t = tpl >= 0
    n_t = int(is_t.sum())
    n_f = ns - n_t
    emit = s[:, np.minimum(tok, lags)].copy()
    emit[:, tok > lags] = -1e9
    emit[:, (tpl < 0) & (tok >= 2)] -= params.free_far
    if forced:
        for f, k in forced.items():
            if 0 <= f < n:
                emit[f, tok != k] = -1e9
    # entering a template state: the template's support shared among its phases
    wt = np.array([templates[t].support / templates[t].period for t in tpl[is_t]], dtype=np.float64)
    lw = np.log(np.maximum(wt, 1e-12) / max(wt.sum(), 1e-12)) if n_t else np.zeros(0)
    l_follow = np.log(1.0 - params.switch - params.deviate)
    l_switch = np.log(params.switch) + lw
    l_to_free = np.log(params.deviate / n_f)
    l_free_free = np.log(params.stay_free / n_f)
    l_free_back = np.log(1.0 - params.stay_free) + lw
    t_idx = np.where(is_t)[0]
    f_idx = np.where(~is_t)[0]
    pred = np.full(ns, -1)
    pred[nxt[t_idx]] = t_idx  # the template predecessor of every template state

    # ---- Viterbi (max-product) with back-pointers
    delta = np.full(ns, -np.inf)
    delta[t_idx] = lw + emit[0, t_idx]
    delta[f_idx] = np.log(params.deviate / n_f) + emit[0, f_idx]
    back = np.zeros((n, ns), dtype=np.int32)
    for i in range(1, n):
        bt = int(t_idx[np.argmax(delta[t_idx])]) if n_t else 0
        bf = int(f_idx[np.argmax(delta[f_idx])])
        new = np.full(ns, -np.inf)
        if n_t:
            follow = delta[pred[t_idx]] + l_follow
            sw = delta[bt] + l_switch
            fb = delta[bf] + l_free_back
            cand = np.stack([follow, sw, fb])
            arg = cand.argmax(0)
            new[t_idx] = cand.max(0)
            back[i, t_idx] = np.where(arg == 0, pred[t_idx], np.where(arg == 1, bt, bf))
        tf = delta[bt] + l_to_free if n_t else -np.inf
        ff = delta[bf] + l_free_free
        new[f_idx] = max(tf, ff)
        back[i, f_idx] = bt if tf > ff else bf
        delta = new + emit[i]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmax(delta))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]

    # ---- forward-backward (sum-product, log domain) for confidences
    def lse(v: np.ndarray) -> float:
        m = float(np.max(v))
        return m + float(np.log(np.sum(np.exp(v - m)))) if np.isfinite(m) else -np.inf

    alpha = np.empty((n, ns))
    a = np.full(ns, -np.inf)
    a[t_idx] = lw
    a[f_idx] = np.log(params.deviate / n_f)
    alpha[0] = a + emit[0]
    for i in range(1, n):
        prev = alpha[i - 1]
        st = lse(prev[t_idx]) if n_t else -np.inf
        sf = lse(prev[f_idx])
        new = np.empty(ns)
        if n_t:
            new[t_idx] = np.logaddexp(prev[pred[t_idx]] + l_follow,
                                      np.logaddexp(st + l_switch, sf + l_free_back))
        new[f_idx] = np.logaddexp(st + l_to_free, sf + l_free_free)
        new += emit[i]
        alpha[i] = new - lse(new)
    beta = np.zeros((n, ns))
    succ = nxt  # template successor
    for i in range(n - 2, -1, -1):
        nb = beta[i + 1] + emit[i + 1]
        st_sw = lse(nb[t_idx] + l_switch) if n_t else -np.inf
        st_fb = lse(nb[t_idx] + l_free_back) if n_t else -np.inf
        sf = lse(nb[f_idx])
        new = np.empty(ns)
        if n_t:
            new[t_idx] = np.logaddexp(nb[succ[t_idx]] + l_follow, np.logaddexp(st_sw, sf + l_to_free))
        new[f_idx] = np.logaddexp(st_fb, sf + l_free_free)
        beta[i] = new - lse(new)
    post_s = alpha + beta
    post_s -= post_s.max(1, keepdims=True)
    p = np.exp(post_s)
    p /= p.sum(1, keepdims=True)
    post = np.zeros((n, lags + 1))
    for k in range(lags + 1):
        post[:, k] = p[:, tok == k].sum(1)
    tokens = tok[path]
    conf = post[np.arange(n), tokens]
    if forced:
        for f in forced:
            if 0 <= f < n:
                conf[f] = 1.0
    return Decoded(tokens=tokens, confidence=np.clip(conf, 0.0, 1.0), template=tpl[path], phase=ph[path],
                   posterior=post)


# ---------------------------------------------------------------------------------------------- recurrence
#: a repeat template followed by fewer input frames than this is not kept on its dips' recurrence (too few to
#: tell), only on their plainness (:attr:`HmmParams.recur_clear`)
RECUR_FRAMES = 8


def recurrence(s: np.ndarray, e: np.ndarray, dec: Decoded, templates: list[Template], index: int) -> (
    tuple[float, float]
):
    """How clearly template ``index``'s dips recur at the phase the decisions follow, and how plain its copies
    are: (t, median copy evidence).

    Over the frames decoded with the template, the score of the token at the phase followed less the score of
    the token one, two, ... phases on (where the two differ and the frame has evidence): its mean over its
    standard error, the smallest over the shifts. Dips that recur at that phase make it large; chance dips fit
    every phase about as well. Frames without evidence (still passages) are left out. (inf, inf) for "no
    repeats" or a template no frame follows; (-inf, ...) for a template followed by fewer than ``RECUR_FRAMES``
    frames or with fewer than two frames to compare.
    """
    tp = templates[index]
    idx = np.flatnonzero(dec.template == index)
    if tp.period == 1 or idx.size == 0:
        return np.inf, np.inf
    toks = np.asarray(tp.tokens)
    ph = dec.phase[idx]
    own = toks[ph]
    sc = np.clip(s[idx], -50.0, 50.0)
    rows = np.arange(idx.size)
    seen = (np.abs(e[idx]) > 1e-9).any(axis=1)
    copies = (own > 0) & seen
    clear = float(np.median(e[idx[copies], own[copies] - 1])) if copies.any() else -np.inf
    if idx.size < RECUR_FRAMES:
        return -np.inf, clear
    worst = np.inf
    for shift in range(1, tp.period):
        other = toks[(ph + shift) % tp.period]
        x = (sc[rows, own] - sc[rows, other])[(own != other) & seen]
        if x.size < 2:
            return -np.inf, clear
        sd = float(x.std(ddof=1))
        worst = min(worst, float(x.mean()) / (sd / np.sqrt(x.size) + 1e-9))
    return worst, clear


#: a set-aside template's run shorter than this (input frames) is not reported
SET_ASIDE_RUN = 12


@dataclass
class Fit:
    """The result of :func:`fit`.

    ``set_aside``: input frame ranges (first, last, template) that a repeat template whose dips do not recur
    (:func:`recurrence`) followed for at least ``SET_ASIDE_RUN`` frames before it was dropped. ``first``: the first
    decode, where the clip was decoded again with its own calibration (:attr:`HmmParams.adapt`), else None.
    """

    decoded: Decoded
    templates: list[Template]
    evidence: np.ndarray
    set_aside: list[tuple[int, int, Template]] = field(default_factory=list)
    first: Fit | None = None  # the first decode, where a second one followed with the clip's own calibration


def fit(m: np.ndarray, params: HmmParams, forced: dict[int, int] | None = None,
        model: EvidenceModel | None = None) -> Fit:
    """Evidence, templates and decisions for lag distances, noise and agreements ``m`` (N, 3L + 1) from
    :func:`vsrestore.decimate.metrics.compute_metrics` (NaN where n-k < 0).

    :param model: the evidence model (default: the shipped one).
    """
    e = evidence(m, model, params.clip_llr)
    vis = visibility(m, params.still) if params.still is not None else None
    if vis is not None:  # the evidence model's chance ups and downs on still passages are ignored ...
        e = e * vis[:, None]
    if params.periodic is not None:  # ... dips that recur at a fixed phase are not chance, still or not
        e = np.clip(e + periodic_evidence(m, params.periodic, vis), -params.clip_llr, params.clip_llr)
    result = _decide(e, params, forced)
    if params.adapt is not None:  # the clip's own copies say what a copy looks like here: decide again
        extra = adapted_evidence(m, result.decoded.tokens, result.decoded.template, params.adapt, vis)
        if extra is not None:
            # the same templates (the calibration sharpens where they are followed, it does not invent new ones)
            second = _decide(np.clip(e + extra, -params.clip_llr, params.clip_llr), params, forced,
                             result.templates)
            second.first = result
            return second
    return result


def _decide(e: np.ndarray, params: HmmParams, forced: dict[int, int] | None,
            templates: list[Template] | None = None) -> Fit:
    """Decisions from the copy evidence ``e`` (N, L), with ``templates`` or templates learned from ``e``."""
    s = token_scores(e)
    templates = learn_templates(s, params) if templates is None else list(templates)
    if not any(t.tokens == (0,) for t in templates):
        # "no repeats" is always possible: film at the transfer's own rate, or a passage without a pattern
        templates.append(Template((0,), max(0.1, 1.0 - sum(t.support for t in templates))))
    dec = decode(s, templates, params, forced)
    aside: list[tuple[int, int, Template]] = []
    for _ in range(3):  # drop templates whose dips do not recur at the phase followed, decode again
        if params.recur <= 0:
            break
        keep = []
        for i, t in enumerate(templates):
            r, clear = recurrence(s, e, dec, templates, i)
            if r >= params.recur or clear >= params.recur_clear:
                keep.append(t)
            else:
                aside += [(a, b, t) for a, b in runs(dec.template == i, SET_ASIDE_RUN)]
        if len(keep) == len(templates):
            break
        templates = keep
        dec = decode(s, templates, params, forced)
    return Fit(dec, templates, e, sorted(aside, key=lambda r: r[0]))


def runs(mask: np.ndarray, min_run: int) -> list[tuple[int, int]]:
    """(first, last) of every run of True in ``mask`` at least ``min_run`` long."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= min_run]
