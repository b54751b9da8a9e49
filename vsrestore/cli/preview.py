"""``vsrestore preview SCRIPT``: open a script in vspreview (the optional ``preview`` extra)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("preview", help="open a .vpy in vspreview (pip install -e '.[preview]')")
    p.add_argument("script", type=Path)
    p.add_argument("-a", "--arg", action="append", metavar="KEY=VALUE", help="value passed to the script")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.script.is_file():
        raise ValueError(f"script {str(args.script)!r} does not exist")
    if importlib.util.find_spec("vspreview") is None:
        raise ValueError(
            "vspreview is not installed; install it with: .venv/bin/pip install -e '.[preview]' "
            "(or review without a GUI: vsrestore compare SCRIPT.vpy --frames 10,100)"
        )
    cmd = [sys.executable, "-m", "vspreview", str(args.script)]
    for item in args.arg or []:
        cmd += ["--arg", item]
    return subprocess.call(cmd)
