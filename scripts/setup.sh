#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with vsrestore (editable), its plugins, test tools and Ray
# (the 'cluster' extra, so the --cluster tests run too).
# Everything comes from PyPI; nothing else is downloaded. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(bash scripts/find_python312.sh)
echo "setup: using $py"
if [ ! -x .venv/bin/python ]; then "$py" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,cluster]'
# vspipe needs to know which Python runs scripts: write VapourSynth's runtime configuration for this venv.
.venv/bin/vapoursynth config >/dev/null
.venv/bin/python -c "import vapoursynth as vs, vsrestore; print('setup: VapourSynth', vs.__version__, '- vsrestore', vsrestore.__version__, 'ready')"
