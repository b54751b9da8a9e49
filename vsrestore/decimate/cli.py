"""``vsrestore analyze INPUT [-o REPORT_DIR] [--overrides FILE]``: the decimator's review report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vsrestore.core.source import load_source
from vsrestore.decimate.decide import analyze
from vsrestore.decimate.report import summary_lines, unsure_lines, write_report

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``analyze`` subcommand."""
    p = sub.add_parser(
        "analyze",
        help="find repeated frames of a film transfer; write a report, a timeline plot and an override file",
        description="Analyse a film transfer: detected film rate, repeat template, decisions by confidence. "
        "Writes report.txt, report.json, timeline.png and overrides.txt (edit it and pass it back with "
        "--overrides, or to decimate(..., overrides=FILE)).",
    )
    p.add_argument("input", type=Path, help="media file or .vpy script")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="report folder (default: INPUT's name + '.decimate' next to it)")
    p.add_argument("--overrides", type=Path, default=None, help="override file to honour")
    p.add_argument("--sidecar", type=Path, default=None,
                   help="analysis cache file (default: in the vsrestore cache folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the analysis and write the report; returns the exit code."""
    clip = load_source(args.input)
    an = analyze(clip, overrides=args.overrides, sidecar=args.sidecar, progress=not args.quiet)
    out = args.output or args.input.with_name(args.input.name + ".decimate")
    paths = write_report(an, out, args.input.name)
    for line in summary_lines(an, args.input.name)[:6] + unsure_lines(an):
        print(line)
    for k, p in paths.items():
        print(f"{k}: {p}", file=sys.stdout)
    return 0
