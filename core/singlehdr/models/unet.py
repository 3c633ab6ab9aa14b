"""The small U-Net shared by Dequantization-Net and Refinement-Net.

Source: Liu et al., "Single-Image HDR Reconstruction by Learning to Reverse the
Camera Pipeline", CVPR 2020, Sec. 3.1 / 3.4 and the authors' TF release (a
Super-SloMo-style U-Net): every conv 'same' + bias + LeakyReLU(0.1); two input
convs; four down blocks (avg-pool 2x2, two convs); four up blocks (TF1 legacy
bilinear x2, conv3x3, concat [upsampled, skip], conv3x3); a 3-channel output
conv whose use (tanh residual or plain residual) each network decides.

TF variable order (``conv2d``, ``conv2d_1`` .. ``conv2d_18``) is the module
order here: stem.0, stem.1, down.{0..3}.conv{1,2}, up.{0..3}.conv{1,2}, head.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .tf_ops import resize_bilinear_x2_tf1

LEAKY_SLOPE = 0.1


def scale_width(channels: int, width: float) -> int:
    """A channel count times a width multiplier, rounded, at least 1."""
    return max(1, int(round(channels * width)))


@dataclass(frozen=True)
class UNetConfig:
    """Widths of the U-Net.

    in_channels: input channels (3 for Dequantization-Net, 9 for Refinement-Net).
    widths: (stem, down1, down2, down3, down4); the up blocks use widths[3..0].
    kernels: conv kernel of (stem, down1..down4); up convs are 3x3.
    """

    in_channels: int = 3
    widths: tuple[int, int, int, int, int] = (16, 32, 64, 128, 256)
    kernels: tuple[int, int, int, int, int] = (7, 5, 3, 3, 3)

    def scaled(self, width: float) -> "UNetConfig":
        return UNetConfig(self.in_channels, tuple(scale_width(c, width) for c in self.widths), self.kernels)  # type: ignore[arg-type]


def _conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    # Stride 1 with an odd kernel: TF 'SAME' is the symmetric k // 2.
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=True)


class DownBlock(nn.Module):
    """avg-pool 2x2 (VALID), conv + LReLU, conv + LReLU: (N, Cin, H, W) -> (N, Cout, H/2, W/2)."""

    def __init__(self, cin: int, cout: int, k: int):
        super().__init__()
        self.conv1 = _conv(cin, cout, k)
        self.conv2 = _conv(cout, cout, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(x, 2)
        x = F.leaky_relu(self.conv1(x), LEAKY_SLOPE)
        return F.leaky_relu(self.conv2(x), LEAKY_SLOPE)


class UpBlock(nn.Module):
    """TF1 bilinear x2, conv3x3 + LReLU, concat [x, skip], conv3x3 + LReLU:
    (N, Cin, H, W), skip (N, Cout, 2H, 2W) -> (N, Cout, 2H, 2W)."""

    def __init__(self, cin: int, cout: int, cskip: int):
        super().__init__()
        self.conv1 = _conv(cin, cout, 3)
        self.conv2 = _conv(cout + cskip, cout, 3)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(resize_bilinear_x2_tf1(x)), LEAKY_SLOPE)
        return F.leaky_relu(self.conv2(torch.cat([x, skip], dim=1)), LEAKY_SLOPE)


class UNet(nn.Module):
    """U-Net body and output conv: (N, in_channels, H, W) -> (N, 3, H, W), no output activation.

    H, W must be multiples of 16 (four 2x2 poolings).
    """

    multiple = 16

    def __init__(self, config: UNetConfig):
        super().__init__()
        w, k = config.widths, config.kernels
        self.stem = nn.ModuleList([_conv(config.in_channels, w[0], k[0]), _conv(w[0], w[0], k[0])])
        self.down = nn.ModuleList([DownBlock(w[i], w[i + 1], k[i + 1]) for i in range(4)])
        up = []
        cin = w[4]
        for i in range(4):
            cout = w[3 - i]
            up.append(UpBlock(cin, cout, w[3 - i]))
            cin = cout
        self.up = nn.ModuleList(up)
        self.head = _conv(cin, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.stem[0](x), LEAKY_SLOPE)
        x = F.leaky_relu(self.stem[1](x), LEAKY_SLOPE)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the deepest output is not a skip
        for block in self.up:
            x = block(x, skips.pop())
        return self.head(x)
