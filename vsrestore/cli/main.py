"""``vsrestore`` command: each subcommand lives in its own module with ``register(subparsers)``.

A module's ``register`` adds its parser and sets ``func`` (a callable taking the parsed args and returning an
exit code) with ``parser.set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import sys
from collections.abc import Sequence
from types import FrameType

import vapoursynth as vs

from vsrestore.render.render import RenderError

SUBCOMMANDS = (
    "vsrestore.cli.restore",
    "vsrestore.cli.render",
    "vsrestore.cli.info",
    "vsrestore.cli.compare",
    "vsrestore.cli.preview",
    "vsrestore.cli.keyframes",
    "vsrestore.decimate.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vsrestore", description="Restore old black-and-white film with VapourSynth filters."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in SUBCOMMANDS:
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name == mod:
                continue
            raise
        module.register(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a shutting-down system): handled like Ctrl-C, so the same clean-up runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


_API_PREFIX = re.compile(r"^vsrestore(?:\.\w+)+: ")


def _cli_message(error: BaseException) -> str:
    """The error as a command-line user reads it: without the Python function's name that the library puts in
    front (``vsrestore.load_source: ``), which names nothing they typed."""
    return _API_PREFIX.sub("", str(error), count=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; every expected failure is one line on stderr and exit code 1 (130 for Ctrl-C, 143
    for SIGTERM), with nothing half-written left behind."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # SIGTERM stops like Ctrl-C; SIGINT stops even when started ignored (a shell's background job inherits
    # SIG_IGN, so `kill -INT PID` used to be ignored and the render ran to its end)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread (called from a thread in a test or an embedding program)
        previous = {}
    try:
        return int(args.func(args) or 0)
    except (ValueError, vs.Error, OSError, RenderError) as e:
        print(f"vsrestore {args.command}: error: {_cli_message(e)}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"vsrestore {args.command}: terminated (SIGTERM); nothing half-written was left", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"vsrestore {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
