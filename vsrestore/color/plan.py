"""What ``colorize`` needs to know of a model to build its graph, without loading it when that can wait.

The shipped default's layout is known (vsrestore's compact net: any working size, padded to a multiple of 8), so
its weights are loaded, and torch imported, at the first frame (once, by the runner; see
:class:`vsrestore.core.bridge.TorchRunner` ``lazy``). Any other model is loaded here, now, as before: its
architecture (hence its working size and whether it needs a square) comes from its state dict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .options import ColorArch

if TYPE_CHECKING:
    from torch import nn

__all__ = ["DEFAULT_RENDER_SIZE", "ColorizerPlan", "plan_colorizer"]

#: the default model's working size (short side, pixels) and padding multiple
DEFAULT_RENDER_SIZE = 128
_DEFAULT_MULTIPLE = 8


@dataclass(frozen=True)
class ColorizerPlan:
    """A colorizer as the graph needs it: ``model`` is the module, or a function of no arguments that loads it
    (at the first frame); ``render_size``, ``multiple`` and ``square`` as in
    :class:`~vsrestore.color.loader.LoadedColorizer`."""

    model: Any
    arch: ColorArch
    render_size: int
    multiple: int
    square: bool


def plan_colorizer(model: str | os.PathLike[str] | None, render_size: int | None) -> ColorizerPlan:
    """The plan for ``model=`` (None: the shipped default, loaded later; anything else: loaded now).

    :raises ValueError: ``render_size`` below 16.
    :raises WeightsError: (a model other than the default) missing file, unknown architecture, or a state dict
        that does not fit.
    """
    if model is not None:
        from .loader import load_colorizer

        got = load_colorizer(model, render_size)
        return ColorizerPlan(got.module, got.arch, got.render_size, got.multiple, got.square)
    size = DEFAULT_RENDER_SIZE if render_size is None else int(render_size)
    if size < 16:
        raise ValueError(
            f"vsrestore.colorize: render_size={size} is too small; use at least 16 (default {DEFAULT_RENDER_SIZE})"
        )

    def load() -> nn.Module:
        from .loader import load_colorizer

        got = load_colorizer(None, size)
        if got.arch != ColorArch.DEFAULT or got.multiple != _DEFAULT_MULTIPLE or got.square:
            raise ValueError(f"vsrestore.colorize: the default model found ({got.path}) is a {got.arch.value} "
                             f"model, not vsrestore's default layout; pass model= explicitly")
        return got.module

    return ColorizerPlan(load, ColorArch.DEFAULT, size, _DEFAULT_MULTIPLE, False)
