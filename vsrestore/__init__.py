"""vsrestore: VapourSynth filters that restore old black-and-white film.

Every public function returns a VapourSynth node (a clip), so a whole restoration is one ``.vpy`` script:

* :func:`decimate` keeps each film frame once at the film's own cadence (learned repeat template);
  :func:`analyze` gives its decisions for review.
* :func:`normalize`, :func:`deflicker`, :func:`despot`, :func:`denoise`, :func:`sharpen`, :func:`upscale`,
  :func:`regrain` clean and enhance; :func:`enhance` chains them with sensible defaults.
* :func:`colorize` predicts chroma for the luma (the luma is kept bit-exact), stable over time.
* :func:`interpolate` makes motion smooth at 24/25/30/48/60 fps, never across cuts.
* :func:`torch_node` runs any torch model as a node (tiling, CUDA/fp16, thread-safe); :class:`Backend` picks
  the device. :func:`load_source` opens a file frame-accurately; :func:`sample_path` is the bundled sample.
"""

from .color import ColorMerge, ColorOut, colorize
from .core.backend import Backend
from .core.bridge import TorchRunner, torch_node
from .core.source import load_source, sample_path
from .core.weights import WeightsError
from .decimate import Analysis, Pick, analyze, decimate
from .enhance import UpscaleMethod, deflicker, denoise, despot, enhance, normalize, regrain, sharpen, upscale
from .interpolate import Engine, interpolate

__all__ = [
    "Analysis",
    "Backend",
    "ColorMerge",
    "ColorOut",
    "Engine",
    "Pick",
    "TorchRunner",
    "UpscaleMethod",
    "WeightsError",
    "analyze",
    "colorize",
    "decimate",
    "deflicker",
    "denoise",
    "despot",
    "enhance",
    "interpolate",
    "load_source",
    "normalize",
    "regrain",
    "sample_path",
    "sharpen",
    "torch_node",
    "upscale",
]
__version__ = "0.1.0"
