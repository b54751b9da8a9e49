"""The main job in one call: analyse a transfer, render a preset through vspipe into ffmpeg, write a report.

:func:`restore` is what ``vsrestore restore INPUT -o OUTPUT`` runs. The decimator's whole-clip analysis runs
first, in this process, with a progress bar; it lands in the sidecar cache, where the preset's
``vsrestore.decimate`` (evaluated by vspipe in another process) finds it, so it is never done twice. The
report (``OUTPUT-stem.report.txt`` and ``.json`` next to the output, written atomically) says what was detected
and done, with timings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from .core.files import atomic_write, check_output, remove_stale_partials, same_file
from .core.source import load_source
from .decimate import analyze
from .decimate.report import merge_ranges, summary_lines
from .decimate.sidecar import clip_fingerprint, default_sidecar
from .interpolate.timing import parse_rate
from .presets import (
    COLOUR_SPREAD,
    PRESET_PARAMS,
    absolute_paths,
    check_preset_args,
    colour_spread,
    preset_name,
    preset_path,
)
from .render import EncodeSettings, RenderResult, render
from .render.chunked import render_chunked
from .render.tools import probe_audio

__all__ = ["RestoreReport", "audio_plan", "colour_warning", "report_paths", "restore"]


@dataclass
class RestoreReport:
    """What :func:`restore` did: the files, what the analysis found, and how long each part took (s)."""

    input: Path
    output: Path
    preset: Path
    script_args: dict[str, str]
    analysis: list[str] = field(default_factory=list)
    film_rate: str = ""
    film_frames: int = 0
    input_frames: int = 0
    output_frames: int = 0
    output_size: str = ""
    output_fps: str = ""
    seconds_analysis: float = 0.0
    seconds_render: float = 0.0
    audio: str = ""
    cluster: list[str] = field(default_factory=list)  #: a cluster render: the cluster, then a line per segment
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            "vsrestore restore report",
            f"input:  {self.input} ({self.input_frames} frames)",
            f"output: {self.output} ({self.output_frames} frames, {self.output_size}, {self.output_fps} fps)",
            f"preset: {self.preset}",
            "script arguments: " + (", ".join(f"{k}={v}" for k, v in self.script_args.items()) or "none"),
            f"film: {self.film_frames} film frames at {self.film_rate} fps",
            f"audio: {self.audio or 'none'}",
            *(f"warning: {w}" for w in self.warnings),
            f"time: analysis {self.seconds_analysis:.1f} s, render {self.seconds_render:.1f} s",
            *self.cluster,
            "",
            *self.analysis,
        ]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def report_paths(output: Path) -> tuple[Path, Path]:
    """The text and JSON report files written next to ``output``."""
    return output.with_name(output.stem + ".report.txt"), output.with_name(output.stem + ".report.json")


def audio_plan(
    input: Path, output: Path, settings: EncodeSettings, keep: bool, ffmpeg: str | None = None
) -> tuple[EncodeSettings, str]:
    """Which audio goes into ``output``: ``settings.audio`` when given, else the input's own audio track unless
    ``keep`` is False (``--no-audio``).

    :returns: the settings to render with, and one line for the report saying what happens to the audio.
    """
    how = {".mp4": ", as AAC", ".mov": ", as AAC", ".webm": ", as Opus", ".avi": ", as PCM"}.get(
        output.suffix.lower(), "")
    if settings.audio is not None:
        codec = probe_audio(settings.audio, ffmpeg)
        if codec is None:
            raise ValueError(f"--audio {str(settings.audio)!r} has no audio track; give a file with sound")
        return settings, f"from {settings.audio} ({codec}{how})"
    if not keep:
        return settings, "none: dropped as asked (--no-audio)"
    codec = probe_audio(input, ffmpeg)
    if codec is None:
        return settings, "none: the input has no audio track"
    return replace(settings, audio=input), f"kept from the input ({codec}{how}); --no-audio drops it"


def colour_warning(preset: str | None, values: dict[str, Any], spread: float) -> str | None:
    """A warning when a colour input (chroma spread ``spread``, see :func:`~.presets.colour_spread`) would lose
    its own colours in ``preset`` run with ``values`` (from :func:`~.presets.check_preset_args`); None if not."""
    if preset is None or spread <= COLOUR_SPREAD:
        return None
    keep_hint = "-a keep_chroma=1 keeps its own colours"
    if preset == "colorize_only" and not values.get("keep_chroma"):
        return f"the input is in colour (chroma spread {spread:.1f}); {preset} replaces its colours; {keep_hint}"
    if preset == "silent_film" and values.get("color") and not values.get("keep_chroma"):
        return (f"the input is in colour (chroma spread {spread:.1f}); {preset} replaces its colours with "
                f"predicted ones; {keep_hint} (--no-color makes it black-and-white)")
    if preset == "newsreel_bw":
        return (f"the input is in colour (chroma spread {spread:.1f}); {preset} makes it black-and-white; "
                f"use --preset silent_film -a keep_chroma=1 to keep its colours")
    return None


def _stderr(msg: str) -> None:
    print(f"vsrestore: warning: {msg}", file=sys.stderr)


def restore(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    preset: str = "silent_film",
    fps: Fraction | str | None = None,
    color: bool | None = None,
    overrides: str | os.PathLike[str] | None = None,
    sidecar: str | os.PathLike[str] | None = None,
    extra_args: dict[str, str] | None = None,
    settings: EncodeSettings | None = None,
    jobs: int | None = None,
    segment_frames: int | None = None,
    start: int | None = None,
    end: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    keep_audio: bool = True,
    keyframes: str | os.PathLike[str] | None = None,
    warn: Callable[[str], None] = _stderr,
    cluster: str | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    verbose: bool = False,
) -> RestoreReport:
    """Restore a film transfer with a preset: analysis, render, report.

    :param input: the transfer (any file FFmpeg reads). It is only ever read.
    :param output: the file to write (.mkv, .mp4, .mov); the report goes next to it. It may not be the input
        (same path, symlink or hard link), even with ``overwrite``.
    :param preset: a shipped preset name (``silent_film``, ``newsreel_bw``, ``colorize_only``, ``smooth_only``)
        or a path to a ``.vpy``.
    :param fps: final frame rate passed to the preset (default: the preset's own).
    :param color: colourise or not (default: the preset's own).
    :param overrides, sidecar: the decimator's override file and analysis cache.
    :param extra_args: more ``-a key=value`` values for the preset (checked against its parameter table).
    :param jobs: render in resumable segments, this many at once (None: one plain render).
    :param keep_audio: keep the input's audio track (default; ``settings.audio`` picks another source).
    :param cluster: render the segments as Ray tasks across this cluster (``HOST:6379`` or ``auto``; see
        :func:`~.render.cluster.render_cluster`, with ``work_dir`` and ``verbose``); the analysis still runs
        once, here, and its sidecar travels with the tasks.
    :param keyframes: a folder of hand-coloured keyframes (``vsrestore keyframes``), checked against the film
        before the render; the report lists the shots with and without one.
    :param warn: called with each warning (a colour input about to be recoloured) before the render starts.
    :raises ValueError / FileExistsError: bad arguments, missing input, or an output/report that exists.
    """
    src_p, out_p, script = Path(input), Path(output), preset_path(preset)
    settings = settings or EncodeSettings()
    if not src_p.is_file():
        raise ValueError(f"input {str(src_p)!r} does not exist")
    txt_p, json_p = report_paths(out_p)
    reads = [src_p, script, *(Path(p) for p in (overrides, sidecar, settings.audio) if p is not None)]
    check_output(out_p, overwrite, reads)  # before the analysis: an output that cannot be written fails now
    for p in (txt_p, json_p):
        remove_stale_partials(p)  # a report half-written by a killed run
        if any(same_file(p, r) for r in reads):
            raise ValueError(f"the report {str(p)!r} would replace an input file; choose another output name")
        if p.exists() and not overwrite:
            raise FileExistsError(f"{str(p)!r} exists; choose another output name or pass --overwrite / -y")
    if overrides is not None and not Path(overrides).is_file():
        raise ValueError(f"override file {str(overrides)!r} does not exist")
    name = preset_name(script)
    params = PRESET_PARAMS.get(name or "", {})
    args: dict[str, str] = {"input": str(src_p.resolve())}
    if fps is not None:
        if name is not None and "fps" not in params:
            raise ValueError(f"--fps: preset {name} keeps the input's frame rate; leave --fps out")
        try:
            args["fps"] = str(parse_rate(fps, name="fps", func="vsrestore restore"))
        except ArithmeticError:  # "inf" overflows in parse_rate
            raise ValueError(f"--fps {fps}: not a frame rate; give e.g. 24, 25 or 30000/1001") from None
    if color is not None:
        if name is not None and "color" not in params:
            raise ValueError(f"--color/--no-color: preset {name} has no colour switch; leave it out")
        args["color"] = "1" if color else "0"
    for key, value in (("overrides", overrides), ("sidecar", sidecar)):
        if value is not None:
            if name is not None and key not in params:
                raise ValueError(f"--{key}: preset {name} does not decimate, so it takes no {key} file")
            args[key] = str(Path(value).resolve())
    if keyframes is not None:
        if name is not None and "keyframes" not in params:
            raise ValueError(f"--keyframes: preset {name} does not colour; use --preset silent_film or colorize_only")
        if not Path(keyframes).is_dir():
            raise ValueError(f"--keyframes {str(keyframes)!r} is not a folder; make one with `vsrestore keyframes "
                             f"{src_p.name} -o DIR`")
        args["keyframes"] = str(Path(keyframes).resolve())
    for key in extra_args or {}:
        if key in args:
            raise ValueError(f"-a {key}=...: give it as the option --{key} instead (it is set there)")
    args.update(absolute_paths(name, extra_args or {}) if name is not None else (extra_args or {}))
    values = check_preset_args(name, args) if name is not None else {}
    settings, audio_note = audio_plan(src_p, out_p, settings, keep_audio)
    report = RestoreReport(src_p, out_p, script, args, audio=audio_note)

    t0 = time.perf_counter()
    clip = load_source(src_p)
    note = colour_warning(name, values, colour_spread(clip))
    if note:
        report.warnings.append(note)
        warn(note)
    an = analyze(clip, overrides=overrides, sidecar=sidecar, progress=progress)
    report.seconds_analysis = time.perf_counter() - t0
    report.input_frames, report.film_frames = an.num_frames, len(an.kept)
    report.film_rate = f"{an.rate} ({float(an.rate):.3f})" + (", variable" if an.variable else "")
    report.analysis = summary_lines(an, src_p.name)
    ranges = merge_ranges(an.unsure() + an.interrupted() + [(a, b) for a, b, _ in an.set_aside] + an.rechecked)
    if ranges:
        shown = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:8]) + (" ..." if len(ranges) > 8 else "")
        note = (f"the decimator is unsure of some decisions, in input frames {shown}; check them with "
                f"`vsrestore analyze {src_p}` (report.txt, timeline.png) and correct them "
                "in its overrides.txt, then pass it with --overrides")
        report.warnings.append(note)
        warn(note)
    if an.weak:
        shown = ", ".join(f"{a}-{b}" for a, b in an.weak[:8]) + (" ..." if len(an.weak) > 8 else "")
        note = (f"input frames {shown} were kept on weak evidence (they barely differ from the frames before, "
                "so repeats there would not show); if the film repeats there, check them with "
                f"`vsrestore analyze {src_p}` (timeline.png) and set the cadence in its overrides.txt")
        report.warnings.append(note)
        warn(note)
    if an.still:
        shown = ", ".join(f"{a}-{b}" for a, b in an.still[:8]) + (" ..." if len(an.still) > 8 else "")
        note = (f"input frames {shown} are too still for repeated frames to show; the decimator carried the "
                f"cadence around them through (or kept every frame); check them with `vsrestore analyze {src_p}` "
                "and set them in its overrides.txt if the film's cadence is known")
        report.warnings.append(note)
        warn(note)

    kset, film_frames = None, 0
    if values.get("keyframes") is not None:
        if values.get("color") is False:
            raise ValueError("--keyframes colour the film, but colour is off (--no-color / -a color=0); drop one")
        from .color.keyframes import load_keyframes
        from .decimate import decimate

        film = (decimate(clip, pick="cleanest", sidecar=sidecar, overrides=overrides, progress=False)
                if "sidecar" in params else clip)
        kset, film_frames = load_keyframes(values["keyframes"], film), film.num_frames
        report.analysis += ["", *kset.report_lines()]

    t1 = time.perf_counter()
    res: RenderResult
    if cluster is not None:
        from .render.cluster import render_cluster

        if name is not None and "sidecar" in params and "sidecar" not in args:  # where analyze just wrote it
            args["sidecar"] = str(default_sidecar(clip_fingerprint(clip)))
        done = render_cluster(
            script, out_p, address=cluster, work_dir=work_dir, args=args, settings=settings, start=start, end=end,
            segment_frames=segment_frames, overwrite=overwrite, progress=progress, verbose=verbose)
        report.cluster = done.lines()
        res = done.render
    elif jobs is not None:
        res = render_chunked(script, out_p, args=args, settings=settings, start=start, end=end, jobs=jobs,
                             segment_frames=segment_frames or 1000, overwrite=overwrite, progress=progress)
    else:
        res = render(script, out_p, args=args, settings=settings, start=start, end=end, overwrite=overwrite,
                     progress=progress)
    report.seconds_render = time.perf_counter() - t1
    report.output_frames = res.frames
    report.output_size = f"{res.info.width}x{res.info.height}"
    report.output_fps = f"{res.info.fps}"
    if kset is not None:  # each shot's keyframe next to its first, middle and last coloured frames
        from .color.keyframes import contact_sheet

        sheet = out_p.with_name(out_p.stem + ".keyframes.png")
        contact_sheet(kset, load_source(out_p), film_frames, sheet)
        report.analysis.append(f"contact sheet (keyframe | first, middle, last frame of each shot): {sheet}")
    atomic_write(txt_p, report.text())
    atomic_write(json_p, json.dumps(report.as_json(), indent=1) + "\n")
    return report
