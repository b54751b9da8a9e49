"""RIFE 4.x (Practical-RIFE ``flownet.pkl``) as an interpolation engine: architecture, loader, node."""

from .arch import IFNet, RifeSpec
from .loader import RIFE_INFO, load_rife
from .settings import Padding, RifeSettings
from .versions import SCALES, SPECS, detect_spec

__all__ = ["RIFE_INFO", "SCALES", "SPECS", "IFNet", "Padding", "RifeSettings", "RifeSpec", "detect_spec", "load_rife"]
