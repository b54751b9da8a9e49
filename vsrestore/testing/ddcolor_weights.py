"""Random DDColor weights that behave like trained ones, for tests and benchmarks (nothing is downloaded)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vsrestore.color.models.ddcolor import DDColorKind, build_ddcolor

__all__ = ["random_state_dict"]


def random_state_dict(seed: int, kind: DDColorKind = DDColorKind.TINY, iterations: int = 15) -> (
    dict[str, torch.Tensor]
):
    """A state dict of random weights of ``kind`` whose spectral-norm vectors (``weight_u``/``weight_v``) are the
    weights' real leading singular vectors (``iterations`` power steps), as in a trained file, so activations stay
    finite."""
    torch.manual_seed(seed)
    sd = build_ddcolor(kind).state_dict()
    for k in [k for k in sd if k.endswith("weight_orig")]:
        w, p = sd[k].flatten(1), k[: -len("orig")]
        v = F.normalize(torch.randn(w.shape[1]), dim=0)
        for _ in range(iterations):
            u = F.normalize(w @ v, dim=0)
            v = F.normalize(w.t() @ u, dim=0)
        sd[p + "u"], sd[p + "v"] = u, v
    return sd
