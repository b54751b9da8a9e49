"""Where torch runs: device, precision and CPU threads, as a small typed dataclass."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["Backend", "OpenVINO", "cuda_visible"]


@dataclass(frozen=True)
class Backend:
    """Device settings for a torch node.

    :param device: ``"cuda"``, ``"cuda:1"``, ``"cpu"``; None picks CUDA when available, else the CPU.
    :param fp16: run the model in half precision; None means yes on CUDA, no on the CPU (CPU fp16 is slow).
    :param threads: CPU threads torch may use for one forward; None means all cores (os.cpu_count()).
        The bridge runs one forward at a time per node (see :class:`~vsrestore.core.bridge.TorchRunner`),
        so the forward itself may use every core.
    """

    device: str | None = None
    fp16: bool | None = None
    threads: int | None = None

    def torch_device(self) -> torch.device:
        import torch  # here, not at import: building a graph need not load torch

        if self.device is not None:
            dev = torch.device(self.device)
            if dev.type == "cuda" and not torch.cuda.is_available():
                raise ValueError(
                    f"Backend: device={self.device!r} was asked for but torch sees no CUDA GPU here "
                    f"(torch {torch.__version__}); use device='cpu' or leave device=None to pick automatically"
                )
            return dev
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def dtype(self) -> torch.dtype:
        import torch

        dev = self.torch_device()
        half = self.fp16 if self.fp16 is not None else dev.type == "cuda"
        return torch.float16 if half else torch.float32

    def cpu_threads(self) -> int:
        if self.threads is not None:
            if self.threads < 1:
                raise ValueError(f"Backend: threads={self.threads} must be at least 1")
            return self.threads
        return max(1, os.cpu_count() or 1)


def cuda_visible() -> bool:
    """Whether a CUDA GPU can be used, decided without importing torch: torch's own answer when it is already
    imported, else whether NVIDIA's driver is loaded (``/proc/driver/nvidia/version``)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return bool(torch.cuda.is_available())
    return Path("/proc/driver/nvidia/version").is_file()


@dataclass(frozen=True)
class OpenVINO:
    """Run an ONNX network on the CPU with OpenVINO, through vs-mlrt's ``ov`` plugin (the PyPI wheel
    ``vapoursynth-mlrt-ov``), like vs-mlrt's ``Backend.OV_CPU``.

    :param bf16: let OpenVINO compute in bfloat16 where the CPU has it (AMX / AVX512-BF16: about 2x faster again,
        but outputs differ by up to ~1e-2 on a 0..1 scale); default False: float32, equal to eager torch within
        1e-6.
    :param num_streams: inference streams (frames in flight in OpenVINO at once); 1 keeps memory low.
    :param threads: OpenVINO's CPU threads; None: all cores.
    """

    bf16: bool = False
    num_streams: int = 1
    threads: int | None = None

    @staticmethod
    def available() -> bool:
        """Whether the ``ov`` plugin is loaded in this VapourSynth core."""
        import vapoursynth as vs

        return hasattr(vs.core, "ov")

    def config(self) -> dict[str, str | int]:
        """The OpenVINO configuration handed to ``core.ov.Model`` (its ``config`` function returns it)."""
        if self.num_streams < 1:
            raise ValueError(f"OpenVINO: num_streams={self.num_streams} must be at least 1")
        cfg: dict[str, str | int] = {"INFERENCE_PRECISION_HINT": "bf16" if self.bf16 else "f32"}
        if self.threads is not None:
            if self.threads < 1:
                raise ValueError(f"OpenVINO: threads={self.threads} must be at least 1")
            cfg["INFERENCE_NUM_THREADS"] = self.threads
        return cfg
