"""Compare the interpolator's default with other ``MVSettings`` on the TUNING clips (issue 23 exploration).

For each tuning clip of ``benchmarks/interpolate.py`` (first ``frames`` frames) and each film rate (1/2, 2/3,
3/4 of 24 fps), prints the mean luma PSNR (dB) of the rebuilt dropped frames for the blend, the default and the
variant, then the means over all rows.

Run:  OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/compare_interp_settings.py 80 min_blksize=8 refine_thsad=200
(each ``key=value`` is an ``MVSettings`` field; values are Python literals; FRAMES 0: every frame of the clips).

``VSRESTORE_REPORTING=1`` runs the same comparison on the REPORTING clips instead: once per version, after the
variant was chosen on the tuning clips, never to choose one.
"""

from __future__ import annotations

import ast
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import vapoursynth as vs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the benchmark is a script, not a package

from interpolate import MODES, REPORTING, TUNING, as_clip, decode, psnr, thin  # noqa: E402

from vsrestore.interpolate import Engine, MVSettings, interpolate  # noqa: E402

core = vs.core


def compare(frames: int, variant: MVSettings, cache: Path) -> None:
    """Print, per tuning row and over all rows, blend / default / variant PSNR (dB)."""
    rows: list[dict[str, float]] = []
    clips = REPORTING if os.environ.get("VSRESTORE_REPORTING") == "1" else TUNING
    for name, seg in clips.items():
        arr = decode(seg, cache)[: frames or None]
        clip = as_clip(arr)
        for mode in MODES:
            kept, durs = thin(len(arr), mode)
            sub = core.std.Splice([clip[k] for k in kept])
            dropped = [k for k in range(kept[-1]) if k not in set(kept)]
            nodes = {"blend": interpolate(sub, 24, engine=Engine.BLEND, durations=durs),
                     "default": interpolate(sub, 24, durations=durs),
                     "variant": interpolate(sub, 24, durations=durs, mv_settings=variant)}
            res = {k: float(np.mean([psnr(arr[i], np.asarray(nd.get_frame(i)[0])) for i in dropped]))
                   for k, nd in nodes.items()}
            rows.append(res)
            print(f"{name} {mode}: blend {res['blend']:.3f} default {res['default']:.3f} variant "
                  f"{res['variant']:.3f} gain {res['variant'] - res['default']:+.3f}", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    print(f"mean: default {mean['default']:.3f} variant {mean['variant']:.3f} "
          f"gain {mean['variant'] - mean['default']:+.3f}")


def main() -> int:
    usage = "usage: compare_interp_settings.py FRAMES [FIELD=VALUE ...]   (e.g. 80 min_blksize=8)"
    if len(sys.argv) < 2 or not sys.argv[1].isdigit() or any("=" not in a for a in sys.argv[2:]):
        print(usage, file=sys.stderr)
        return 2
    try:
        fields = {k: ast.literal_eval(v) for k, v in (a.split("=", 1) for a in sys.argv[2:])}
        settings = MVSettings(**fields)
    except (ValueError, SyntaxError, TypeError) as e:
        print(f"compare_interp_settings.py: bad FIELD=VALUE ({e}); the fields are MVSettings's\n{usage}",
              file=sys.stderr)
        return 2
    core.num_threads = 2
    compare(int(sys.argv[1]), settings, Path(tempfile.gettempdir()) / "vsrestore_bench_interp")
    return 0


if __name__ == "__main__":
    sys.exit(main())
