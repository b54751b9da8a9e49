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
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .core.files import atomic_write
from .core.source import load_source
from .decimate import analyze
from .decimate.report import summary_lines
from .interpolate.timing import parse_rate
from .presets import preset_path
from .render import EncodeSettings, RenderResult, render
from .render.chunked import render_chunked

__all__ = ["RestoreReport", "report_paths", "restore"]


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

    def text(self) -> str:
        lines = [
            "vsrestore restore report",
            f"input:  {self.input} ({self.input_frames} frames)",
            f"output: {self.output} ({self.output_frames} frames, {self.output_size}, {self.output_fps} fps)",
            f"preset: {self.preset}",
            "script arguments: " + (", ".join(f"{k}={v}" for k, v in self.script_args.items()) or "none"),
            f"film: {self.film_frames} film frames at {self.film_rate} fps",
            f"time: analysis {self.seconds_analysis:.1f} s, render {self.seconds_render:.1f} s",
            "",
            *self.analysis,
        ]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def report_paths(output: Path) -> tuple[Path, Path]:
    """The text and JSON report files written next to ``output``."""
    return output.with_name(output.stem + ".report.txt"), output.with_name(output.stem + ".report.json")


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
    segment_frames: int = 1000,
    start: int | None = None,
    end: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> RestoreReport:
    """Restore a film transfer with a preset: analysis, render, report.

    :param input: the transfer (any file FFmpeg reads).
    :param output: the file to write (.mkv, .mp4, .mov); the report goes next to it.
    :param preset: a shipped preset name (``silent_film``, ``newsreel_bw``, ``colorize_only``, ``smooth_only``)
        or a path to a ``.vpy``.
    :param fps: final frame rate passed to the preset (default: the preset's own).
    :param color: colourise or not (default: the preset's own).
    :param overrides, sidecar: the decimator's override file and analysis cache.
    :param extra_args: more ``-a key=value`` values for the preset.
    :param jobs: render in resumable segments, this many at once (None: one plain render).
    :raises ValueError / FileExistsError: bad arguments, missing input, or an output/report that exists.
    """
    src_p, out_p, script = Path(input), Path(output), preset_path(preset)
    if not src_p.is_file():
        raise ValueError(f"input {str(src_p)!r} does not exist")
    txt_p, json_p = report_paths(out_p)
    for p in (out_p, txt_p, json_p):
        if p.exists() and not overwrite:
            raise FileExistsError(f"{str(p)!r} exists; choose another output name or pass --overwrite / -y")
    if overrides is not None and not Path(overrides).is_file():
        raise ValueError(f"override file {str(overrides)!r} does not exist")
    args: dict[str, str] = {"input": str(src_p.resolve())}
    if fps is not None:
        args["fps"] = str(parse_rate(fps, name="fps", func="vsrestore restore"))
    if color is not None:
        args["color"] = "1" if color else "0"
    if overrides is not None:
        args["overrides"] = str(Path(overrides).resolve())
    if sidecar is not None:
        args["sidecar"] = str(Path(sidecar).resolve())
    args.update(extra_args or {})
    report = RestoreReport(src_p, out_p, script, args)

    t0 = time.perf_counter()
    clip = load_source(src_p)
    an = analyze(clip, overrides=overrides, sidecar=sidecar, progress=progress)
    report.seconds_analysis = time.perf_counter() - t0
    report.input_frames, report.film_frames = an.num_frames, len(an.kept)
    report.film_rate = f"{an.rate} ({float(an.rate):.3f})" + (", variable" if an.variable else "")
    report.analysis = summary_lines(an, src_p.name)

    t1 = time.perf_counter()
    res: RenderResult
    if jobs is not None:
        res = render_chunked(script, out_p, args=args, settings=settings, start=start, end=end, jobs=jobs,
                             segment_frames=segment_frames, overwrite=overwrite, progress=progress)
    else:
        res = render(script, out_p, args=args, settings=settings, start=start, end=end, overwrite=overwrite,
                     progress=progress)
    report.seconds_render = time.perf_counter() - t1
    report.output_frames = res.frames
    report.output_size = f"{res.info.width}x{res.info.height}"
    report.output_fps = f"{res.info.fps}"
    atomic_write(txt_p, report.text())
    atomic_write(json_p, json.dumps(report.as_json(), indent=1) + "\n")
    return report
