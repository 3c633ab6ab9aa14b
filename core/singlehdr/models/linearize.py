"""Linearization-Net: estimate the inverse camera response g and apply it.

Source: Liu et al., CVPR 2020, Sec. 3.2, and the authors' TF release:

* input features (102 channels at full resolution, in this order): the image
  (3); Sobel edges (6: R_dy, R_dx, G_dy, G_dx, B_dy, B_dx; ``tf.image.sobel_edges``);
  soft histograms relu(1 - |x - i/K| K), i = 0..K, for K = 4, 8, 16 (bin-major,
  RGB inside each bin: 15 + 27 + 51 channels);
* ``crf_feature_net``: ResNet-50 (He et al., CVPR 2016, Caffe variant) up to res3b:
  conv1 7x7/2 (with bias) + BN + ReLU, max-pool 3x3/2 SAME, bottlenecks res2a
  (projection), res2b, res2c (64/64/256), res3a (stride 2 on branch1 and
  branch2a, projection), res3b (128/128/512); BN from TF-slim (eps 1e-3, scale);
  then a global spatial mean (512-d);
* ``ae_invcrf_decode_net/dense``: 512 -> 11 weights w of the inverse EMoR basis
  (Grossberg & Nayar, TPAMI 2004; ``invemor.txt``): g = g0 + sum_k w_k hinv_k,
  sampled at 1024 points;
* monotone fix: d = diff(g); d += relu(-min d); d /= sum d; g = [0, cumsum d],
  so g(0) = 0, g(1) = 1 and g is non-decreasing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .tf_ops import BN_EPS_SLIM, conv2d_same, max_pool_same, sobel_edges_tf
from .unet import scale_width


@dataclass(frozen=True)
class LinearizationConfig:
    """Widths of Linearization-Net; the default is the authors' network.

    stem: conv1 width; stage2/stage3: (bottleneck width, output width);
    histogram_bins: the K of each soft histogram; n_basis: inverse-EMoR weights.
    """

    stem: int = 64
    stage2: tuple[int, int] = (64, 256)
    stage3: tuple[int, int] = (128, 512)
    histogram_bins: tuple[int, ...] = (4, 8, 16)
    n_basis: int = 11

    @classmethod
    def scaled(cls, width: float = 1.0) -> "LinearizationConfig":
        d = cls()
        return cls(
            scale_width(d.stem, width),
            (scale_width(d.stage2[0], width), scale_width(d.stage2[1], width)),
            (scale_width(d.stage3[0], width), scale_width(d.stage3[1], width)),
            d.histogram_bins,
            d.n_basis,
        )

    @property
    def feature_channels(self) -> int:
        return 3 + 6 + sum(3 * (k + 1) for k in self.histogram_bins)


def soft_histogram(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Per-pixel soft histogram: (N, C, H, W) -> (N, C (bins + 1), H, W).

    Channel b * C + c holds relu(1 - |x_c - b / bins| * bins), b = 0..bins
    (a triangle of width 2/bins around each bin centre; bin-major order).
    Bin centres are Python floats, so a traced model is device-independent.
    """
    return torch.cat([torch.relu(1.0 - (x - b / bins).abs() * bins) for b in range(bins + 1)], dim=1)


def crf_features(x: torch.Tensor, bins: tuple[int, ...] = (4, 8, 16)) -> torch.Tensor:
    """Linearization-Net input features: (N, 3, H, W) -> (N, 9 + sum 3 (K + 1), H, W) (102 for 4, 8, 16)."""
    return torch.cat([x, sobel_edges_tf(x)] + [soft_histogram(x, k) for k in bins], dim=1)


def monotone_crf(g: torch.Tensor) -> torch.Tensor:
    """Make sampled curves non-decreasing from 0 to 1: (N, S) -> (N, S).

    Source: the authors' ``_increase``: d = g[1:] - g[:-1]; d += relu(-min d);
    d /= sum d; g = concat([0], cumsum d).
    """
    d = g[:, 1:] - g[:, :-1]
    d = d + torch.relu(-d.min(dim=1, keepdim=True).values)
    d = d / d.sum(dim=1, keepdim=True)
    return F.pad(torch.cumsum(d, dim=1), (1, 0))


def apply_inverse_crf(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Apply one sampled inverse CRF per image to all channels: linear = g(x).

    x: (N, C, H, W) in [0, 1]; g: (N, S) samples of g on [0, 1] (S = 1024).
    Each value is looked up at (S - 1) x, clipped to [0, S - 1], with linear
    interpolation between neighbouring samples (authors' ``apply_rf``).
    Computed in float32; returns x's dtype and shape.
    """
    s = int(g.shape[1])
    pos = (x.float().flatten(1) * (s - 1)).clamp(0.0, float(s - 1))
    i0 = pos.floor().clamp(max=float(s - 2))
    w = pos - i0
    i0 = i0.long()
    g = g.float()
    y0 = torch.gather(g, 1, i0)
    y1 = torch.gather(g, 1, i0 + 1)
    return (y0 + (y1 - y0) * w).view_as(x).to(x.dtype)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS_SLIM)


class Bottleneck(nn.Module):
    """ResNet bottleneck (Caffe ResNet-50: stride on the first 1x1):
    relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1 x)))))) + shortcut x).
    (N, Cin, H, W) -> (N, Cout, ceil(H/s), ceil(W/s)).  Convs have no bias."""

    def __init__(self, cin: int, mid: int, cout: int, stride: int = 1, project: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1, stride=stride, bias=False)
        self.bn1 = _bn(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, bias=False)
        self.bn2 = _bn(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = _bn(cout)
        self.proj: nn.Conv2d | None = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if project else None
        self.proj_bn: nn.BatchNorm2d | None = _bn(cout) if project else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        shortcut = x if self.proj is None or self.proj_bn is None else self.proj_bn(self.proj(x))
        return torch.relu(y + shortcut)


class CRFFeatureNet(nn.Module):
    """ResNet-50 to res3b: (N, Cin, H, W) -> (N, stage3 width, ceil(H/8), ceil(W/8))."""

    def __init__(self, in_channels: int, config: LinearizationConfig):
        super().__init__()
        c = config
        self.conv1 = nn.Conv2d(in_channels, c.stem, 7, stride=2, bias=True)
        self.bn1 = _bn(c.stem)
        self.res2a = Bottleneck(c.stem, c.stage2[0], c.stage2[1], 1, project=True)
        self.res2b = Bottleneck(c.stage2[1], c.stage2[0], c.stage2[1])
        self.res2c = Bottleneck(c.stage2[1], c.stage2[0], c.stage2[1])
        self.res3a = Bottleneck(c.stage2[1], c.stage3[0], c.stage3[1], 2, project=True)
        self.res3b = Bottleneck(c.stage3[1], c.stage3[0], c.stage3[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(conv2d_same(x, self.conv1.weight, self.conv1.bias, stride=2)))
        x = max_pool_same(x, 3, 2)
        for block in (self.res2a, self.res2b, self.res2c, self.res3a, self.res3b):
            x = block(x)
        return x


def _invemor_basis(n_basis: int) -> tuple[torch.Tensor, torch.Tensor]:
    from ..camera.emor import load_invemor

    inv = load_invemor()
    g0 = torch.from_numpy(np.asarray(inv["g0"], dtype=np.float32).copy())
    hinv = torch.from_numpy(np.asarray(inv["hinv"][:n_basis], dtype=np.float32).copy())
    return g0, hinv


class LinearizationNet(nn.Module):
    """(N, 3, H, W) dequantized LDR in [0, 1] -> (N, 1024) float32 monotone inverse CRF, g(0)=0, g(1)=1.

    Any H, W >= 8 works (global pooling); the pipeline uses multiples of 32.
    The inverse-EMoR basis is a non-persistent buffer (read from invemor.txt,
    not stored in weight files).
    """

    multiple = 8

    def __init__(self, config: LinearizationConfig | None = None):
        super().__init__()
        self.config = config or LinearizationConfig()
        self.backbone = CRFFeatureNet(self.config.feature_channels, self.config)
        self.head = nn.Linear(self.config.stage3[1], self.config.n_basis)
        g0, hinv = _invemor_basis(self.config.n_basis)
        self.g0: torch.Tensor
        self.hinv: torch.Tensor
        self.register_buffer("g0", g0, persistent=False)
        self.register_buffer("hinv", hinv, persistent=False)

    def basis_weights(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, n_basis) inverse-EMoR weights w."""
        f = self.backbone(crf_features(x, self.config.histogram_bins))
        return self.head(f.mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.basis_weights(x).float()
        # an elementwise product and sum, not a matmul, so autocast keeps the curve in float32
        g = self.g0.unsqueeze(0) + (w.unsqueeze(2) * self.hinv.unsqueeze(0)).sum(dim=1)
        return monotone_crf(g)
