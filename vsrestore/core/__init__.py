"""Shared core of vsrestore: clip checks, plane <-> array moves, the torch node bridge, weights, sources."""

from .backend import Backend
from .bridge import TorchRunner, torch_node
from .checks import check_clip
from .planes import frame_to_array, frame_to_tensor, write_array
from .source import load_source, sample_path
from .weights import WeightsError, load_state_dict, resolve_weights

__all__ = [
    "Backend",
    "TorchRunner",
    "WeightsError",
    "check_clip",
    "frame_to_array",
    "frame_to_tensor",
    "load_source",
    "load_state_dict",
    "resolve_weights",
    "sample_path",
    "tiled_forward",
    "torch_node",
    "write_array",
]


def __getattr__(name: str) -> object:
    """``tiled_forward`` on first use (its module imports torch, which a graph that runs no model never needs)."""
    if name == "tiled_forward":
        from .tiling import tiled_forward

        return tiled_forward
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
