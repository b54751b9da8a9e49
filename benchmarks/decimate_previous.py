"""Another version of the decimator on the decimation benchmark's reporting set (e.g. the previous one).

Two steps, since the two versions cannot be imported in one process:

    .venv/bin/python benchmarks/decimate_previous.py export /tmp/cases.json
    git worktree add /tmp/old adf0699
    PYTHONPATH=/tmp/old .venv/bin/python benchmarks/decimate_previous.py run /tmp/cases.json /tmp/old.json

``export`` renders (or finds) the reporting set's files and writes their truth; ``run`` analyses each file with
whichever ``vsrestore`` is first on the path and writes the accuracy and the share of frames kept per case.
"""

from __future__ import annotations

import json
import sys


def export(path: str) -> None:
    from vsrestore.testing import decimate_sets as sets
    from vsrestore.testing.casegen import build_case

    out = []
    for spec in sets.reporting_set():
        case = build_case(spec, sets.source_frames, sets.CACHE / "cases")
        out.append({"name": f"reporting {spec.seed}", "path": str(case.path), "fps": spec.fps,
                    "film": case.cadence.film, "none": spec.kind == "none", "source": spec.source})
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


def run(cases: str, path: str) -> None:
    import vapoursynth as vs

    import vsrestore
    from vsrestore.core.source import load_source
    from vsrestore.decimate import analyze
    from vsrestore.testing.filmgen import accuracy

    print(f"vsrestore from {vsrestore.__file__}", file=sys.stderr)
    res = []
    with open(cases, encoding="utf-8") as fh:
        items = json.load(fh)
    for c in items:
        clip = vs.core.std.AssumeFPS(load_source(c["path"]), fpsnum=c["fps"], fpsden=1)
        an = analyze(clip, sidecar=False, progress=False)
        res.append({**{k: c[k] for k in ("name", "none", "source")}, "acc": accuracy(an.kept, c["film"]),
                    "kept": len(an.kept) / len(c["film"])})
        print(c["name"], f"{res[-1]['acc']:.3f}", f"{res[-1]['kept']:.3f}", flush=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(res, fh)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "export":
        export(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
