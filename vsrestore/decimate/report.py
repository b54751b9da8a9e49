"""The analysis report: text and JSON summaries, a PNG timeline plot and an override-file template."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from vsrestore.core.files import atomic_write, plain_mode
from vsrestore.decimate.decide import UNSURE, Analysis, merge_ranges
from vsrestore.decimate.metrics import agreement, lags_of
from vsrestore.decimate.overrides import TEMPLATE_HEADER

__all__ = ["merge_ranges", "summary_lines", "unsure_lines", "write_report"]


def summary_lines(an: Analysis, name: str) -> list[str]:
    """The human-readable report."""
    kept = an.kept
    lines = [
        f"vsrestore decimate analysis of {name}",
        f"input: {an.num_frames} frames at {an.fps} fps",
        f"film frames found: {len(kept)}",
        f"film rate: {an.rate} fps ({float(an.rate):.3f})" + (" (average; the pattern's rate changes: "
                                                              "variable timing)" if an.variable else ""),
        "templates (most used first): " + (", ".join(an.templates) or "none")
        + ("  (no repeats found: every input frame is a film frame, nothing is dropped)" if len(kept) == an.num_frames
           else ""),
        "decisions by confidence: " + ", ".join(f"{k}: {v}" for k, v in an.confidence_counts().items()),
    ]
    tpl = np.asarray(an.template_of)
    runs: list[tuple[int, int, int]] = []
    for i, tv in enumerate(tpl.tolist()):
        if runs and runs[-1][2] == tv:
            runs[-1] = (runs[-1][0], i, tv)
        else:
            runs.append((i, i, tv))
    lines.append("template runs (input frames):")
    for a, b, t in runs:
        if b - a + 1 >= 3 or t >= 0:
            lines.append(f"  {a:6d}-{b:<6d} {an.templates[t] if t >= 0 else '(free decisions)'}")
    if an.forced:
        lines.append(f"decisions forced by the override file: {len(an.forced)}")
    return [*lines[:6], *unsure_lines(an), *lines[6:]]


def unsure_lines(an: Analysis, most: int = 12) -> list[str]:
    """A warning naming the frame ranges whose decisions are unsure, and how to check them (none if all sure)."""
    ranges = an.unsure()
    gaps = an.interrupted()
    if not ranges and not gaps and not an.still and not an.set_aside and not an.weak and not an.rechecked:
        return []
    out = []
    if ranges:
        count = sum(1 for c in an.confidence if c < UNSURE) - sum(1 for i in an.forced if an.confidence[i] < UNSURE)
        out.append(f"WARNING: {count} decisions are unsure (confidence below {UNSURE:g}), in input frames "
                   f"{_ranges(ranges, most)}.")
    if gaps:
        out.append(f"WARNING: the repeat pattern stops and starts again around input frames {_ranges(gaps, most)} "
                   "(decided: no repeats there).")
    if an.still:
        around = next((t for t in an.templates if t != "ABCD"), None)
        example = (f"'pattern {an.still[0][0]}-{an.still[0][1]} {around}', the pattern found around it"
                   if around else f"e.g. 'pattern {an.still[0][0]}-{an.still[0][1]} AAB' for 16 fps film at 24 fps")
        out.append(f"WARNING: input frames {_ranges(an.still, most)} are too still for repeats to show (every frame "
                   "is as far from the one before as from the ones two and three back: grain and weave only); "
                   "there only dips that recur at one phase count, else the cadence found around them is carried "
                   "through, or every frame is kept where none was found (grey in timeline.png). If the film's "
                   f"cadence is known, set it there in overrides.txt ({example}).")
    if an.weak:
        a, b = max(an.weak, key=lambda r: r[1] - r[0])
        around = next((t for t in an.templates if t != "ABCD"), "AAB")
        out.append(f"WARNING: input frames {_ranges(an.weak, most)} were kept as new film frames on weak evidence: "
                   "nothing there looks like a repeat, but the frames do not clearly differ from the ones before "
                   "either (little motion under grain, flicker or compression), so repeats there would not show. "
                   f"If the film repeats there, set its cadence in overrides.txt (e.g. 'pattern {a}-{b} {around}').")
    if an.set_aside:
        a, b, t = max(an.set_aside, key=lambda r: r[1] - r[0])
        out.append(f"WARNING: a repeat pattern was seen but set aside in input frames "
                   f"{_ranges(merge_ranges([(a, b) for a, b, _ in an.set_aside]), most)} "
                   f"({', '.join(sorted({t for _, _, t in an.set_aside}))}): its dips do not recur at one phase "
                   "(chance dips of grain, weave or the codec on a still shot), so it was decided as if unseen. If "
                   f"the film repeats there, set it in overrides.txt ('pattern {a}-{b} {t}').")
    if an.rechecked:
        out.append(f"WARNING: input frames {_ranges(an.rechecked, most)} were unsure at first and were decided again "
                   "with copy evidence calibrated on this clip's own repeats (what a copy looks like here); that "
                   "evidence rests partly on the first decisions, so check them too.")
    return [
        *out,
        "  Check them: look at timeline.png around those frames (a repeat is a dip in the distance to frame n-1,",
        "  n-2 or n-3, and a fall of its motion agreement to about 0), step through them in a player, and correct",
        "  any wrong one in overrides.txt",
        "  ('keep N' or 'drop N'), then run again with --overrides overrides.txt.",
    ]


def _ranges(ranges: list[tuple[int, int]], most: int) -> str:
    shown = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:most])
    return shown + (f" and {len(ranges) - most} more ranges" if len(ranges) > most else "")


def override_template(an: Analysis, name: str, count: int = 40) -> str:
    """An override file listing the least confident decisions as commented-out commands."""
    text = TEMPLATE_HEADER.format(input=name, templates=", ".join(an.templates) or "none")
    order = np.argsort(np.asarray(an.confidence), kind="stable")[:count]
    for i in sorted(int(j) for j in order):
        t = an.tokens[i]
        cmd = f"keep {i}" if t == 0 else f"drop {i}" + (f" lag {t}" if t != 1 else "")
        text += f"# {cmd:<20} # now {'new' if t == 0 else f'copy at lag {t}'}, confidence {an.confidence[i]:.2f}\n"
    if an.set_aside:  # patterns the recurrence check set aside: one line each to follow them after all
        text += "# Patterns seen but set aside, their dips not recurring (uncomment one to follow it there):\n"
        for a, b, tpl in an.set_aside:
            text += f"# {f'pattern {a}-{b} {tpl}':<24} # set aside: decided as no pattern\n"
    return text


def plot_timeline(an: Analysis, path: Path, name: str) -> None:
    """PNG: the lag distances, the motion agreements, the decisions and the template over the input frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = an.num_frames
    x = np.arange(n)
    width = min(60.0, max(10.0, n / 40))
    fig, axes = plt.subplots(4, 1, figsize=(width, 9), sharex=True, gridspec_kw={"height_ratios": [3, 1.5, 1, 1]})
    ax = axes[0]
    for k in range(lags_of(an.metrics)):  # the top-block distances (whole-frame ones, noise, agreements follow)
        ax.plot(x, an.metrics[:, k], lw=0.8, label=f"distance to frame n-{k + 1}")
    tok = np.asarray(an.tokens)
    copies = tok > 0
    if copies.any():
        ys = an.metrics[np.where(copies)[0], tok[copies] - 1]
        ax.scatter(x[copies], ys, s=10, c="k", marker="v", label="decided copy (its lag)", zorder=3)
    for i, (a, b) in enumerate(an.still):
        ax.axvspan(a - 0.5, b + 0.5, color="0.85", zorder=0,
                   label="too still to see repeats (cadence carried through)" if i == 0 else None)
    for i, (a, b) in enumerate(an.weak):
        ax.axvspan(a - 0.5, b + 0.5, color="tab:purple", alpha=0.10, zorder=0,
                   label="kept on weak evidence (repeats would not show)" if i == 0 else None)
    for i, (a, b) in enumerate(merge_ranges([(a, b) for a, b, _ in an.set_aside])):
        ax.axvspan(a - 0.5, b + 0.5, color="tab:orange", alpha=0.12, zorder=0,
                   label="pattern set aside (dips do not recur)" if i == 0 else None)
    for i, (a, b) in enumerate(an.rechecked):
        ax.axvspan(a - 0.5, b + 0.5, color="tab:cyan", alpha=0.12, zorder=0,
                   label="unsure at first, decided on the clip's own calibration" if i == 0 else None)
    ax.set_yscale("log")
    ax.set_ylabel("distance")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{name}: {len(an.kept)} film frames, rate {an.rate} fps, templates {', '.join(an.templates)}")
    ax = axes[1]  # copies agree about 0 with the motion around them; film motion well above (grain or not)
    agr = agreement(an.metrics)
    for k in range(agr.shape[1]):
        ax.plot(x, agr[:, k], lw=0.8, label=f"motion agreement with frame n-{k + 1}")
    if copies.any():
        ax.scatter(x[copies], agr[np.where(copies)[0], tok[copies] - 1], s=10, c="k", marker="v", zorder=3)
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_ylabel("agreement")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[2]
    ax.bar(x, np.where(copies, tok, 0), color="tab:red", width=1.0, label="copy lag")
    ax.plot(x, an.confidence, color="tab:blue", lw=0.8, label="confidence")
    ax.set_ylim(0, max(3.2, float(tok.max()) + 0.2))
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[3]
    ax.plot(x, an.template_of, drawstyle="steps-mid", color="tab:green")
    ax.set_yticks(range(-1, len(an.templates)))
    ax.set_yticklabels(["free", *an.templates])
    ax.set_xlabel("input frame")
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=80)
        plain_mode(tmp)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_report(an: Analysis, out_dir: str | os.PathLike[str], name: str, *, overrides_exist: bool = False) -> (
    dict[str, Path]
):
    """Write ``report.txt``, ``report.json``, ``timeline.png`` and ``overrides.txt`` into ``out_dir``.

    An existing ``overrides.txt`` (a person's edits) is never replaced: the template then goes to
    ``overrides.template.txt``.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = {"text": d / "report.txt", "json": d / "report.json", "plot": d / "timeline.png"}
    atomic_write(paths["text"], ("\n".join(summary_lines(an, name)) + "\n").encode())
    atomic_write(paths["json"], (json.dumps({"input": name, **an.to_dict()}, indent=1) + "\n").encode())
    plot_timeline(an, paths["plot"], name)
    ov = d / "overrides.txt"
    if ov.exists() or overrides_exist:
        ov = d / "overrides.template.txt"
    atomic_write(ov, override_template(an, name).encode())
    paths["overrides"] = ov
    return paths
