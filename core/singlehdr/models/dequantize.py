"""Dequantization-Net: remove 8-bit quantisation and JPEG artefacts from the LDR input.

Source: Liu et al., CVPR 2020, Sec. 3.1 (and the authors' TF release): a U-Net
(see :mod:`.unet`) with widths 16, 32, 64, 128, 256, kernels 7, 5, 3, 3, 3; the
output is a residual through tanh, clipped:  C = clip(x + tanh(unet(x)), 0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .unet import UNet, UNetConfig


@dataclass(frozen=True)
class DequantizationConfig:
    """Widths of Dequantization-Net; the default is the authors' network."""

    unet: UNetConfig = field(default_factory=lambda: UNetConfig(3, (16, 32, 64, 128, 256), (7, 5, 3, 3, 3)))

    @classmethod
    def scaled(cls, width: float = 1.0) -> "DequantizationConfig":
        return cls(cls().unet.scaled(width))


class DequantizationNet(nn.Module):
    """(N, 3, H, W) LDR in [0, 1] -> (N, 3, H, W) dequantized LDR C in [0, 1]; H, W multiples of 16."""

    multiple = 16

    def __init__(self, config: DequantizationConfig | None = None):
        super().__init__()
        self.config = config or DequantizationConfig()
        self.unet = UNet(self.config.unet)

    def forward(self, ldr: torch.Tensor) -> torch.Tensor:
        return torch.clamp(ldr + torch.tanh(self.unet(ldr)), 0.0, 1.0)
