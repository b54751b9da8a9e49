"""DDColor (Kang et al. 2023) in plain PyTorch, with the published checkpoints' exact state-dict layout.

Modules: :mod:`.convnext` (the encoder), :mod:`.decoder` (pixel and colour decoders), :mod:`.net` (the whole
net, its sizes and the layout check), :mod:`.lab` (Lab <-> sRGB), :mod:`.colorizer` (luma in, chroma out).
"""

from .colorizer import DDColorColorizer
from .net import IGNORED_KEYS, DDColorKind, DDColorNet, build_ddcolor, ddcolor_layout_errors

__all__ = ["IGNORED_KEYS", "DDColorColorizer", "DDColorKind", "DDColorNet", "build_ddcolor", "ddcolor_layout_errors"]
