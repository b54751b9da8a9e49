#!/usr/bin/env bash
# Prints the path of a Python 3.12 interpreter, or explains on stderr why none was found (exit 1).
# VapourSynth R81's wheel is cp312 abi3: it needs 3.12 or newer, and vsrestore is tested on 3.12.
set -u
check() { "$@" -c 'import sys; assert sys.version_info[:2] == (3, 12); print(sys.executable)' 2>/dev/null; }
if [ -n "${PYTHON312:-}" ] && check "$PYTHON312"; then exit 0; fi
for cand in python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
  if command -v "$cand" >/dev/null 2>&1 && check "$cand"; then exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | sort -rV); do
    if check env PYENV_VERSION="$v" python3.12; then exit 0; fi
    root=$(pyenv root 2>/dev/null)
    if [ -x "$root/versions/$v/bin/python3.12" ] && check "$root/versions/$v/bin/python3.12"; then exit 0; fi
  done
fi
for p in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /opt/python*/bin/python3.12; do
  if [ -x "$p" ] && check "$p"; then exit 0; fi
done
cat >&2 <<'MSG'
No Python 3.12 interpreter found. vsrestore needs Python 3.12 (VapourSynth R81 ships as a cp312 wheel).
Install one (Debian/Ubuntu: apt-get install python3.12 python3.12-venv; or pyenv install 3.12), or point
PYTHON312=/path/to/python3.12 at it, then run this again.
MSG
exit 1
