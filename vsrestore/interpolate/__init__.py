"""vsrestore.interpolate: smooth motion from the film's own cadence to a standard rate, aware of cuts.

See :func:`interpolate`.
"""

from typing import TYPE_CHECKING, Any

from .api import Engine, FallbackReason, interpolate
from .mvflow import MVSettings
from .scenecut import CutSettings
from .timing import make_schedule, parse_rate

if TYPE_CHECKING:
    from .rife.settings import RifeSettings

__all__ = ["CutSettings", "Engine", "FallbackReason", "MVSettings", "RifeSettings", "interpolate", "make_schedule",
           "parse_rate"]


def __getattr__(name: str) -> Any:
    """``RifeSettings`` on first use: its module imports torch, which a graph without RIFE never needs."""
    if name == "RifeSettings":
        from .rife.settings import RifeSettings

        return RifeSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
