"""Finding and loading model weights, safely, with no network.

One place resolves what a user passes as ``model=`` to a file:

1. an existing file path: used as it is;
2. an existing directory: the loader's expected file names are looked for inside it;
3. a bare name (``"ColorizeVideo_gen"`` or ``"ColorizeVideo_gen.pth"``): looked for in every directory of
   ``$VSRESTORE_MODEL_DIR`` (``os.pathsep``-separated), then among the defaults that ship inside the package
   (``vsrestore/models/``), with or without the extensions ``.pth .pt .pkl .safetensors``.

Nothing is ever downloaded. When nothing is found, :class:`WeightsError` names what was asked, every place
looked at, the expected file and architecture, and where people obtain it.

State dicts are loaded with ``torch.load(weights_only=True)`` (no arbitrary code from pickles); the few
harmless globals some published checkpoints need (``slice``, ``collections.OrderedDict``) are allowed
explicitly. Common wrappers (``{"params_ema": ...}``, ``{"state_dict": ...}``, ``{"model": ...}``; the order is the
loader's ``ModelInfo.wrappers``) and
``module.`` prefixes from DataParallel are removed.
"""

from __future__ import annotations

import collections
import os
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import vapoursynth as vs

if TYPE_CHECKING:
    import torch

__all__ = ["MODEL_DIR_ENV", "PACKAGE_MODEL_DIR", "ModelInfo", "WeightsError", "load_state_dict", "resolve_weights"]

MODEL_DIR_ENV = "VSRESTORE_MODEL_DIR"
PACKAGE_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
_EXTS = ("", ".pth", ".pt", ".pkl", ".safetensors")
_WRAPPERS = ("params_ema", "params", "state_dict", "model", "net_g", "generator")


class WeightsError(vs.Error):
    """Model weights are missing, unreadable, or not of the expected architecture."""


@dataclass(frozen=True)
class ModelInfo:
    """What a loader expects, for lookups and for error messages.

    :param arch: the architecture in words (``"DeOldify video generator (ResNet-101 U-Net)"``).
    :param filenames: the file names under which the weights are published.
    :param source: where people obtain the file (a project page, in words and address).
    :param wrappers: the keys a wrapped checkpoint may hold its weights under; the first one present wins.
    """

    arch: str
    filenames: tuple[str, ...] = ()
    source: str = "the model's publisher"
    wrappers: tuple[str, ...] = _WRAPPERS

    def describe(self) -> str:
        files = ", ".join(self.filenames) if self.filenames else "(any name)"
        return f"expected a {self.arch} checkpoint ({files}); obtain it from {self.source}"


def _search_dirs() -> list[Path]:
    dirs = [Path(p).expanduser() for p in os.environ.get(MODEL_DIR_ENV, "").split(os.pathsep) if p.strip()]
    dirs.append(PACKAGE_MODEL_DIR)
    return dirs


def _candidates(name: str) -> Iterable[str]:
    for ext in _EXTS:
        yield name + ext


def resolve_weights(spec: str | os.PathLike[str] | None, info: ModelInfo, *, default: str | None = None) -> Path:
    """Turn a user's ``model=`` value into an existing weights file (see the module doc for the order).

    :param spec: a path, a directory, a bare name, or None for ``default``.
    :param info: what the loader expects, for the directory lookup and for the error.
    :param default: the name used when ``spec`` is None (usually a file shipped in ``vsrestore/models``).
    :raises WeightsError: nothing found; the message lists the places looked at.
    """
    if spec is None:
        if default is None:
            raise WeightsError(f"no model given and no default exists: {info.describe()}")
        spec = default
    text = os.fspath(spec)
    looked: list[str] = []
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        for fname in info.filenames:
            if (path / fname).is_file():
                return path / fname
        looked.append(f"{path}/{{{','.join(info.filenames)}}}")
    elif os.sep in text or (os.altsep and os.altsep in text) or path.is_absolute():
        looked.append(str(path))
    else:
        for d in _search_dirs():
            for cand in _candidates(text):
                if (d / cand).is_file():
                    return d / cand
            looked.append(str(d / text) + "[.pth|.pt|.pkl|.safetensors]")
    env_note = "" if os.environ.get(MODEL_DIR_ENV) else f" (${MODEL_DIR_ENV} is not set)"
    raise WeightsError(
        f"model weights {text!r} not found; looked at: {'; '.join(looked)}{env_note}. {info.describe()}. "
        f"Pass model='/path/to/file' or put the file in ${MODEL_DIR_ENV}. vsrestore never downloads weights."
    )


def _unwrap(obj: object, wrappers: tuple[str, ...] = _WRAPPERS) -> dict[str, torch.Tensor]:
    import torch

    for _ in range(3):
        if isinstance(obj, Mapping) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
            inner = next((obj[k] for k in wrappers if k in obj and isinstance(obj[k], Mapping)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, Mapping):
        raise TypeError(type(obj).__name__)
    sd = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd


def load_state_dict(path: str | os.PathLike[str], info: ModelInfo) -> dict[str, torch.Tensor]:
    """Load a checkpoint's tensors safely onto the CPU.

    :raises WeightsError: the file cannot be read as a plain state dict; the message names the file, the
        expected architecture and where to obtain it.
    """
    import torch  # here: resolving a path must not import torch

    p = Path(path)
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(p), device="cpu"))
        with torch.serialization.safe_globals([slice, collections.OrderedDict]):
            obj = torch.load(p, map_location="cpu", weights_only=True)
        sd = _unwrap(obj, info.wrappers)
    except FileNotFoundError as e:
        raise WeightsError(f"model weights file {p} does not exist; {info.describe()}") from e
    except ImportError as e:
        raise WeightsError(f"{p} is a .safetensors file but the 'safetensors' package is not installed") from e
    except (pickle.UnpicklingError, RuntimeError, TypeError, EOFError, ValueError, OSError) as e:
        raise WeightsError(
            f"model weights file {p} could not be loaded as a plain state dict ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); {info.describe()}"
        ) from e
    if not sd:
        raise WeightsError(f"model weights file {p} holds no tensors; {info.describe()}")
    return sd
