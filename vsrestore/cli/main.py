"""``vsrestore`` command: each subcommand lives in its own module with ``register(subparsers)``.

A module's ``register`` adds its parser and sets ``func`` (a callable taking the parsed args and returning an
exit code) with ``parser.set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import vapoursynth as vs

from vsrestore.render.render import RenderError

SUBCOMMANDS = (
    "vsrestore.cli.restore",
    "vsrestore.cli.render",
    "vsrestore.cli.info",
    "vsrestore.cli.compare",
    "vsrestore.cli.preview",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, vs.Error, FileNotFoundError, FileExistsError, RenderError) as e:
        print(f"vsrestore {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vsrestore {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
