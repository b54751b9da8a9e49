"""DDColor's decoder, with the layout of its checkpoints (keys under ``decoder.``).

Written from the paper (Kang et al. 2023, "DDColor: Towards Photo-Realistic Image Colorization via Dual
Decoders") and DDColor's ``basicsr/archs/ddcolor_arch.py`` and ``ddcolor_arch_utils/{unet,transformer_utils,
position_encoding}.py``:

* the pixel decoder ``layers.0-2``: three fastai-style U-Net blocks (``UnetBlockWide``: spectral-normed 1x1
  conv to 4x channels + BatchNorm, ReLU, pixel shuffle x2, blur; BatchNorm on the encoder skip; ReLU of the
  concatenation; spectral-normed 3x3 conv + ReLU + BatchNorm), 512, 512 and 256 channels at 1/16, 1/8 and
  1/4 of the input; then ``last_shuf``, a spectral-normed 1x1 conv (with bias) to 16x channels, ReLU, pixel
  shuffle x4 and blur, giving 256 channels at full size;
* the colour decoder ``color_decoder``: 100 learned colour queries refined by 9 transformer layers (cross-
  attention to one of the three pixel-decoder scales in turn, with sine position encodings and a learned
  level embedding, then self-attention, then a 2048-wide FFN; post-norm), a LayerNorm and a 3-layer MLP; the
  colour embeddings dotted with the full-size features give one map per query.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..deoldify import ShuffleUp, sn_conv, sn_conv_bn

__all__ = ["DDColorDecoder", "MultiScaleColorDecoder", "sine_position"]

HIDDEN = 256
HEADS = 8
FFN = 2048


class UpBlock(nn.Module):
    """DDColor's ``UnetBlockWide``: upsample ``up`` x2 to ``n_out``, BN the skip, ReLU(concat), 3x3 conv."""

    def __init__(self, up_c: int, skip_c: int, n_out: int) -> None:
        super().__init__()
        self.shuf = ShuffleUp(up_c, n_out)
        self.bn = nn.BatchNorm2d(skip_c)
        self.conv = sn_conv_bn(n_out + skip_c, n_out)

    def forward(self, up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(F.relu(torch.cat([self.shuf(up), self.bn(skip)], 1)))


class ShuffleUp4(nn.Module):
    """``last_shuf``: spectral-normed 1x1 conv (bias) to 16c, ReLU, pixel shuffle x4, replication pad, 2x2 mean."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = sn_conv(c, c * 16, ks=1, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pixel_shuffle(F.relu(self.conv(x)), 4)
        return F.avg_pool2d(F.pad(x, (1, 0, 1, 0), mode="replicate"), 2, stride=1)


def sine_position(h: int, w: int, like: torch.Tensor, feats: int = HIDDEN // 2) -> torch.Tensor:
    """DETR's normalised sine position encoding of an (h, w) grid: (2 * feats, h, w), y half first.

    Channel 2k of each half is sin(p / 10000^(2k/feats)), channel 2k+1 is cos of the same; p runs 1..n scaled to
    (0, 2 pi].
    """
    eps = 1e-6
    ys = torch.arange(1, h + 1, device=like.device, dtype=torch.float32) / (h + eps) * (2 * math.pi)
    xs = torch.arange(1, w + 1, device=like.device, dtype=torch.float32) / (w + eps) * (2 * math.pi)
    k = torch.arange(feats, device=like.device, dtype=torch.float32)
    dim_t = 10000.0 ** (2 * torch.div(k, 2, rounding_mode="floor") / feats)

    def enc(p: torch.Tensor) -> torch.Tensor:  # (n,) -> (feats, n)
        a = p[:, None] / dim_t
        return torch.stack((a[:, 0::2].sin(), a[:, 1::2].cos()), dim=2).flatten(1).t()

    py = enc(ys)[:, :, None].expand(feats, h, w)
    px = enc(xs)[:, None, :].expand(feats, h, w)
    return torch.cat([py, px], 0).to(like.dtype)


class CrossAttentionLayer(nn.Module):
    """Queries attend to image tokens: norm(q + attn(q + q_pos, mem + pos, mem))."""

    def __init__(self) -> None:
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(HIDDEN, HEADS)
        self.norm = nn.LayerNorm(HIDDEN)

    def forward(self, q: torch.Tensor, mem: torch.Tensor, pos: torch.Tensor, q_pos: torch.Tensor) -> torch.Tensor:
        out = self.multihead_attn(q + q_pos, mem + pos, mem, need_weights=False)[0]
        return self.norm(q + out)


class SelfAttentionLayer(nn.Module):
    """Queries attend to each other: norm(q + attn(q + q_pos, q + q_pos, q))."""

    def __init__(self) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(HIDDEN, HEADS)
        self.norm = nn.LayerNorm(HIDDEN)

    def forward(self, q: torch.Tensor, q_pos: torch.Tensor) -> torch.Tensor:
        qk = q + q_pos
        return self.norm(q + self.self_attn(qk, qk, q, need_weights=False)[0])


class FFNLayer(nn.Module):
    """norm(x + linear2(relu(linear1(x))))."""

    def __init__(self) -> None:
        super().__init__()
        self.linear1 = nn.Linear(HIDDEN, FFN)
        self.linear2 = nn.Linear(FFN, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.linear2(F.relu(self.linear1(x))))


class MLP(nn.Module):
    """Three linear layers 256 -> 256 -> 256 -> 256, ReLU between (keys ``layers.0-2``)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(HIDDEN, HIDDEN) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return x


class MultiScaleColorDecoder(nn.Module):
    """Colour queries refined against multi-scale features; returns (N, queries, H, W) maps."""

    def __init__(self, in_channels: tuple[int, ...], num_queries: int, dec_layers: int) -> None:
        super().__init__()
        self.transformer_self_attention_layers = nn.ModuleList(SelfAttentionLayer() for _ in range(dec_layers))
        self.transformer_cross_attention_layers = nn.ModuleList(CrossAttentionLayer() for _ in range(dec_layers))
        self.transformer_ffn_layers = nn.ModuleList(FFNLayer() for _ in range(dec_layers))
        self.decoder_norm = nn.LayerNorm(HIDDEN)
        self.query_feat = nn.Embedding(num_queries, HIDDEN)
        self.query_embed = nn.Embedding(num_queries, HIDDEN)
        self.level_embed = nn.Embedding(len(in_channels), HIDDEN)
        self.input_proj = nn.ModuleList(nn.Conv2d(c, HIDDEN, 1) for c in in_channels)
        self.color_embed = MLP()

    def forward(self, scales: list[torch.Tensor], img_features: torch.Tensor) -> torch.Tensor:
        srcs, poss = [], []
        for i, x in enumerate(scales):  # tokens as (HW, N, C)
            n, _, h, w = x.shape
            poss.append(sine_position(h, w, x).flatten(1).t()[:, None, :])
            src = self.input_proj[i](x).flatten(2) + self.level_embed.weight[i][None, :, None]
            srcs.append(src.permute(2, 0, 1))
        n = scales[0].shape[0]
        q_pos = self.query_embed.weight[:, None, :].expand(-1, n, -1)
        q = self.query_feat.weight[:, None, :].expand(-1, n, -1)
        for i in range(len(self.transformer_ffn_layers)):
            lvl = i % len(srcs)
            q = self.transformer_cross_attention_layers[i](q, srcs[lvl], poss[lvl], q_pos)
            q = self.transformer_self_attention_layers[i](q, q_pos)
            q = self.transformer_ffn_layers[i](q)
        emb = self.color_embed(self.decoder_norm(q).transpose(0, 1))  # (N, Q, C)
        return torch.einsum("bqc,bchw->bqhw", emb, img_features)


class DDColorDecoder(nn.Module):
    """Pixel decoder + colour decoder: encoder features (1/4 .. 1/32) -> (N, queries, H, W)."""

    def __init__(self, dims: tuple[int, int, int, int], num_queries: int, dec_layers: int, nf: int = 512) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            UpBlock(dims[3], dims[2], nf), UpBlock(nf, dims[1], nf), UpBlock(nf, dims[0], nf // 2)
        )
        self.last_shuf = ShuffleUp4(nf // 2)
        self.color_decoder = MultiScaleColorDecoder((nf, nf, nf // 2), num_queries, dec_layers)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        out0 = self.layers[0](feats[3], feats[2])
        out1 = self.layers[1](out0, feats[1])
        out2 = self.layers[2](out1, feats[0])
        return self.color_decoder([out0, out1, out2], self.last_shuf(out2))
