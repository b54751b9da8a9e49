"""Where torch runs: device, precision and CPU threads, as a small typed dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["Backend"]


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
