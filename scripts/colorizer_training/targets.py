"""What the net sees and learns: the old-film degradation of its input luma, the soft bin targets and
their class-rebalancing weights, and the chroma PSNR every choice is judged by."""

from __future__ import annotations

import numpy as np


def degrade_luma(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Old-film look on (B, H, W) luma 0..1, strengths drawn per batch."""
    from vsrestore.testing.degrade import FilmLook, film_look

    look = FilmLook(
        contrast=float(rng.uniform(0.6, 1.1)),
        black=float(rng.uniform(0.0, 0.08)),
        blur=float(rng.uniform(0.0, 1.0)),
        vignette=float(rng.uniform(0.0, 0.3)),
        flicker=float(rng.uniform(0.0, 0.1)),
        grain=float(rng.uniform(0.0, 0.04)),
        dust=float(rng.uniform(0.0, 2e-4)),
        scratches=float(rng.uniform(0.0, 0.3)),
        weave=0.0,
    )
    out = film_look(y, rng, look)
    gamma = float(rng.uniform(0.8, 1.25))
    return np.power(np.clip(out, 0, 1), gamma).astype(np.float32)


def soft_targets(cbcr, centers, sigma: float = 0.03):  # type: ignore[no-untyped-def]
    """(B, 2, h, w) chroma -> (B, Q, h, w) Gaussian soft assignment to the bins (in effect the nearest few)."""
    import torch

    d2 = ((cbcr[:, None] - centers[None, :, :, None, None]) ** 2).sum(2)  # B,Q,h,w
    return torch.softmax(-d2 / (2 * sigma**2), 1)


def chroma_psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    mse = float(np.mean((pred - truth) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def class_weights(tr: np.ndarray, centers):  # type: ignore[no-untyped-def]
    """Rebalancing weights w_q = 1 / ((1 - lambda) p_q + lambda / Q), lambda 0.5, with E_p[w] = 1."""
    import torch

    sub = torch.from_numpy(tr[:, 1:, ::4, ::4].copy())
    hist = soft_targets(sub, centers).sum((0, 2, 3))
    prior = hist / hist.sum()
    lam, q = 0.5, centers.shape[0]
    wts = 1.0 / ((1 - lam) * prior + lam / q)
    return wts / (prior * wts).sum()
