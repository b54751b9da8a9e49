"""The embedded default colorizer: a compact U-Net that classifies each pixel's chroma into quantised bins.

Input: luma (N, 1, H, W) in 0..1 at the working size (any H, W; padded inside to a multiple of 8).
Output of :meth:`TinyColorNet.forward`: chroma (N, 2, H, W) as (Cb, Cr) in -0.5..0.5 (BT.709 matrix), the
annealed mean of the predicted distribution over ``bin_centers`` (temperature ``temperature``; lower is more
colourful). Classification over bins with class rebalancing avoids the grey/sepia "average colour" that a plain
regression loss gives. Rebalancing makes the net learn ``w_q * p(q | x)`` (w_q: the class weights); the buffer
``bin_bias`` = ``-log w_q`` undoes that at decoding, so the decoded colour is the mean of the calibrated
posterior (set by ``scripts/train_colorizer.py``). Bins, bias and temperature are buffers: they travel in the
state dict.

Checkpoints with a regression head (``reg.*``, the current default) output ``reg_mix`` x the head's chroma,
trained with a squared error (the PSNR-optimal estimate: unsure pixels go neutral instead of a confident wrong
hue), + (1 - ``reg_mix``) x the decoded bin distribution; ``reg_mix`` is a buffer chosen on validation photos.
The result is scaled by the buffer ``chroma_gain``; with the buffer ``multiscale`` set, :meth:`forward` averages
passes at 0.75, 1 and 1.25 x the working size (both chosen on the same held-out data; 1 and 0 in checkpoints
made before they existed).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TinyColorEnsemble", "TinyColorNet", "chroma_bins", "hue_agreement", "multiscale_chroma"]


def chroma_bins(step: float = 0.05, limit: float = 0.3) -> torch.Tensor:
    """A (Q, 2) grid of (Cb, Cr) bin centres with spacing ``step`` inside a disc of radius ``limit``*sqrt2."""
    k = int(round(limit / step))
    v = torch.arange(-k, k + 1, dtype=torch.float32) * step
    cb, cr = torch.meshgrid(v, v, indexing="ij")
    grid = torch.stack([cb.flatten(), cr.flatten()], 1)
    return grid[(grid**2).sum(1) <= (limit * 1.05) ** 2]


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class TinyColorNet(nn.Module):
    """Compact U-Net colorizer (about 0.8 M parameters); see the module doc for inputs and outputs."""

    multiple = 8
    bin_centers: torch.Tensor
    temperature: torch.Tensor
    bin_bias: torch.Tensor
    reg_mix: torch.Tensor
    chroma_gain: torch.Tensor
    multiscale: torch.Tensor
    scales = (0.75, 1.0, 1.25)  # working-size factors averaged when ``multiscale`` is set

    def __init__(
        self,
        widths: tuple[int, int, int, int] = (16, 32, 64, 128),
        bins: torch.Tensor | None = None,
        regression: bool = True,
    ):
        super().__init__()
        c0, c1, c2, c3 = widths
        centers = chroma_bins() if bins is None else bins
        self.register_buffer("bin_centers", centers.clone())
        self.register_buffer("temperature", torch.tensor(0.5))
        self.register_buffer("bin_bias", torch.zeros(centers.shape[0]))
        # global scale of the output chroma, chosen on held-out footage by the training script (1 = none)
        self.register_buffer("chroma_gain", torch.tensor(1.0))
        # 1: average the predictions at ``scales`` x the working size (where they disagree the average goes
        # neutral, which is where a single pass would paint a confident wrong hue); chosen like the gain
        self.register_buffer("multiscale", torch.tensor(0.0))
        self.enc0 = nn.Sequential(_block(1, c0), _block(c0, c0))
        self.enc1 = nn.Sequential(_block(c0, c1, 2), _block(c1, c1))
        self.enc2 = nn.Sequential(_block(c1, c2, 2), _block(c2, c2))
        self.enc3 = nn.Sequential(
            _block(c2, c3, 2), _block(c3, c3), _block(c3, c3, dilation=2), _block(c3, c3, dilation=4)
        )
        self.glob = nn.Sequential(nn.Linear(c3, c3), nn.ReLU(inplace=True))
        self.dec2 = nn.Sequential(_block(c3 + c2, c2), _block(c2, c2))
        self.dec1 = nn.Sequential(_block(c2 + c1, c1), _block(c1, c1))
        self.head = nn.Conv2d(c1, centers.shape[0], 1)
        # regression head: (Cb, Cr) trained with a squared error, so where the net is unsure it goes neutral
        self.reg = nn.Conv2d(c1, 2, 1) if regression else None
        if self.reg is not None:
            for prm in self.reg.parameters():
                nn.init.zeros_(prm)  # starts neutral (flat grey)
            self.register_buffer("reg_mix", torch.tensor(1.0))

    def features(self, y: torch.Tensor) -> torch.Tensor:
        """Decoder features (N, c1, H/2, W/2) for luma (N, 1, H, W) with H, W multiples of 8."""
        x = (y - 0.5) * 2.0
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        g = self.glob(e3.mean((2, 3)))[:, :, None, None]
        e3 = e3 + g
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False), e2], 1))
        up = F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False)
        return self.dec1(torch.cat([up, e1], 1))

    def logits(self, y: torch.Tensor) -> torch.Tensor:
        """Bin logits (N, Q, H/2, W/2) for luma (N, 1, H, W) with H, W multiples of 8."""
        return self.head(self.features(y))

    def heads(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(bin logits (N, Q, H/2, W/2), regressed chroma (N, 2, H/2, W/2) or None without that head)."""
        d1 = self.features(y)
        return self.head(d1), (self.reg(d1) if self.reg is not None else None)

    def predict(self, y: torch.Tensor) -> torch.Tensor:
        """Chroma (N, 2, H/2, W/2) for luma with H, W multiples of 8: ``reg_mix`` x the regressed chroma +
        (1 - ``reg_mix``) x the decoded bin distribution (only the latter for a net without a regression head)."""
        logits, reg = self.heads(y)
        gain = float(self.chroma_gain)
        if reg is None:
            return gain * self.decode(logits)
        mix = float(self.reg_mix)
        if mix >= 1.0:
            return gain * reg
        return gain * (mix * reg + (1.0 - mix) * self.decode(logits))

    def decode(self, logits: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """Annealed mean (N, 2, h, w) of the bin distribution (temperature None = the stored one)."""
        t = float(self.temperature) if temperature is None else temperature
        corrected = logits.float() + self.bin_bias.float()[None, :, None, None]
        p = torch.softmax(corrected / max(t, 1e-3), 1)
        return torch.einsum("nqhw,qc->nchw", p, self.bin_centers.float()).to(logits.dtype)

    def forward_single(self, y: torch.Tensor) -> torch.Tensor:
        """Chroma (N, 2, H, W) for luma (N, 1, H, W) of any size, one pass at that size."""
        return self._at_size(self.predict, y)

    def decodings(self, y: torch.Tensor, temperatures: tuple[float, ...]) -> torch.Tensor:
        """(N, 2 + 2 x len(temperatures), H, W) for luma (N, 1, H, W) of any size, one pass: the regression
        head's chroma (zeros without that head), then the bin distribution decoded at each of ``temperatures``,
        all before ``chroma_gain``. Any ``reg_mix`` / temperature pair's chroma is the blend of two of them
        (resizing is linear), which is how ``scripts/train_colorizer.py ensemble --search-decoding`` tries
        many decodings from one pass."""

        def parts(x: torch.Tensor) -> torch.Tensor:
            logits, reg = self.heads(x)
            dec = [self.decode(logits, t) for t in temperatures]
            return torch.cat([torch.zeros_like(dec[0]) if reg is None else reg, *dec], 1)

        return self._at_size(parts, y)

    def _at_size(self, fn: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        """``fn`` (padded luma -> half-size maps) run on ``y`` padded to a multiple of 8, resized to full
        size and cropped back to ``y``'s."""
        h, w = y.shape[-2:]
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(y, (0, pw, 0, ph), mode="replicate") if ph or pw else y
        c = F.interpolate(fn(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return c[..., :h, :w]

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if float(self.multiscale) < 0.5:
            return self.forward_single(y)
        return multiscale_chroma(self.forward_single, y, self.scales)


def multiscale_chroma(
    single: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, scales: tuple[float, ...]
) -> torch.Tensor:
    """Mean of ``single`` (luma (N, 1, h, w) -> maps (N, C, h, w), chroma: C = 2) run on ``y`` resized by each
    of ``scales``, each result resized back to ``y``'s size."""
    h, w = y.shape[-2:]
    acc: torch.Tensor | None = None
    for s in scales:
        if s == 1.0:
            out = single(y)
        else:
            size = (max(8, round(h * s)), max(8, round(w * s)))
            if s < 1:
                ys = F.interpolate(y, size=size, mode="area")
            else:
                ys = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
            out = F.interpolate(single(ys), size=(h, w), mode="bilinear", align_corners=False)
        acc = out if acc is None else acc + out
    assert acc is not None, "multiscale_chroma needs at least one scale"
    return acc / len(scales)


class TinyColorEnsemble(nn.Module):
    """Several :class:`TinyColorNet` trained on different data, their chroma averaged (the current default).

    Each member decodes with its own temperature and ``reg_mix`` (its ``chroma_gain`` is 1 in a saved
    ensemble); where the members disagree the mean goes towards neutral, which is where a single net paints a
    confident wrong hue. With the buffer ``agreement`` set, the mean is also scaled, per pixel, by the members'
    agreement on the hue: the cosine of the angle between their (Cb, Cr) vectors, clipped at 0 (the mean over
    pairs for more than two members), so opposite guesses (sky blue against brown) give grey rather than a
    faint wrong colour. The other buffers apply to the result: ``multiscale`` (each member runs at 0.75, 1 and
    1.25 x the working size when set), ``flip`` (each member's chroma is the mean of its passes on the picture
    and on its mirror image, mirrored back, before the agreement is measured: twice the passes; off in the
    shipped file and in files made before it existed) and ``chroma_gain``. They are chosen on held-out data by
    ``scripts/train_colorizer.py ensemble`` (``flip`` only with ``--try-flip``). State dict keys:
    ``members.<i>.<member key>`` plus those buffers.
    """

    multiple = TinyColorNet.multiple
    chroma_gain: torch.Tensor
    multiscale: torch.Tensor
    agreement: torch.Tensor
    flip: torch.Tensor

    def __init__(self, members: list[TinyColorNet]):
        super().__init__()
        if not members:
            raise ValueError("TinyColorEnsemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.register_buffer("chroma_gain", torch.tensor(1.0))
        self.register_buffer("multiscale", torch.tensor(1.0))
        self.register_buffer("agreement", torch.tensor(0.0))
        self.register_buffer("flip", torch.tensor(0.0))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        scales = TinyColorNet.scales if float(self.multiscale) >= 0.5 else (1.0,)
        members: list[TinyColorNet] = list(self.members)  # type: ignore[arg-type]
        if float(self.flip) >= 0.5:  # the picture and its mirror image in one batch
            n = y.shape[0]
            both = [multiscale_chroma(m.forward_single, torch.cat([y, y.flip(-1)]), scales) for m in members]
            outs = [0.5 * (o[:n] + o[n:].flip(-1)) for o in both]
        else:
            outs = [multiscale_chroma(m.forward_single, y, scales) for m in members]
        mean = torch.stack(outs).mean(0)
        if float(self.agreement) >= 0.5 and len(outs) > 1:
            mean = mean * hue_agreement(outs)
        return float(self.chroma_gain) * mean


def hue_agreement(chroma: list[torch.Tensor]) -> torch.Tensor:
    """(N, 1, H, W) in 0..1: the cosine between the (Cb, Cr) vectors of each pair of ``chroma`` (each
    (N, 2, H, W)), clipped at 0, averaged over the pairs (1 where the hues agree, 0 where they are opposite).
    Computed in float32 (squared chroma norms underflow in fp16), returned in the input's dtype."""
    c32 = [c.float() for c in chroma]
    total = torch.zeros_like(c32[0][:, :1])
    pairs = 0
    for i, a in enumerate(c32):
        for b in c32[i + 1 :]:
            dot = (a * b).sum(1, keepdim=True)
            norm = ((a * a).sum(1, keepdim=True) * (b * b).sum(1, keepdim=True)).sqrt().clamp(min=1e-12)
            total += (dot / norm).clamp(min=0.0)
            pairs += 1
    return (total / pairs).to(chroma[0].dtype)
