"""vsrestore.interpolate: smooth motion from the film's own cadence to a standard rate, aware of cuts.

See :func:`interpolate`.
"""

from .api import Engine, FallbackReason, interpolate
from .mvflow import MVSettings
from .rife.settings import RifeSettings
from .scenecut import CutSettings
from .timing import make_schedule, parse_rate

__all__ = ["CutSettings", "Engine", "FallbackReason", "MVSettings", "RifeSettings", "interpolate", "make_schedule",
           "parse_rate"]
