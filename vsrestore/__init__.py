"""vsrestore: VapourSynth filters that restore old black-and-white film.

The public API is a handful of functions, each returning a VapourSynth node:

* :func:`torch_node` runs any torch model as a node (tiling, CUDA/fp16, thread-safe); :class:`Backend` picks
  the device.
* :func:`load_source` opens a file frame-accurately; :func:`sample_path` is the bundled sample.
"""

from .core.backend import Backend
from .core.bridge import TorchRunner, torch_node
from .core.source import load_source, sample_path
from .core.weights import WeightsError

__all__ = ["Backend", "TorchRunner", "WeightsError", "load_source", "sample_path", "torch_node"]
__version__ = "0.1.0"
