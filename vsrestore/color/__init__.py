"""vsrestore.color: colour black-and-white film (chroma only, temporally stabilised, reference-steerable).

Public API: :func:`colorize`, :class:`ColorOut`; :class:`ColorArch` names the architectures recognised.
"""

from .api import colorize
from .options import ColorArch, ColorOut

__all__ = ["ColorArch", "ColorOut", "colorize"]
