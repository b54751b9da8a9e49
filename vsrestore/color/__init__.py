"""vsrestore.color: colour black-and-white film (chroma only, temporally stabilised, reference-steerable).

Public API: :func:`colorize`, :class:`ColorOut`, :class:`ColorMerge` (how ``model=[a, b]`` merges);
:class:`ColorArch` names the architectures recognised (vsrestore's default, DeOldify, DDColor).
"""

from .api import colorize
from .options import ColorArch, ColorMerge, ColorOut

__all__ = ["ColorArch", "ColorMerge", "ColorOut", "colorize"]
