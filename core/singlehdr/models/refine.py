"""Refinement-Net: jointly polish the hallucinated HDR using all earlier stages.

Source: Liu et al., CVPR 2020, Sec. 3.4 (and the authors' TF release): the
U-Net of Dequantization-Net (see :mod:`.unet`) on concat[A, B, C] (9 channels:
hallucinated, linearized, dequantized), deepest block 128 wide instead of 256,
output conv without activation, residual on A and a final ReLU:
out = relu(A + unet([A, B, C])).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .unet import UNet, UNetConfig


@dataclass(frozen=True)
class RefinementConfig:
    """Widths of Refinement-Net; the default is the authors' network."""

    unet: UNetConfig = field(default_factory=lambda: UNetConfig(9, (16, 32, 64, 128, 128), (7, 5, 3, 3, 3)))

    @classmethod
    def scaled(cls, width: float = 1.0) -> "RefinementConfig":
        return cls(cls().unet.scaled(width))


class RefinementNet(nn.Module):
    """forward(A, B, C), each (N, 3, H, W) -> (N, 3, H, W) refined linear HDR >= 0; H, W multiples of 16."""

    multiple = 16

    def __init__(self, config: RefinementConfig | None = None):
        super().__init__()
        self.config = config or RefinementConfig()
        self.unet = UNet(self.config.unet)

    def forward(self, hallucinated: torch.Tensor, linear: torch.Tensor, dequantized: torch.Tensor) -> torch.Tensor:
        x = torch.cat([hallucinated, linear, dequantized], dim=1)
        return torch.relu(hallucinated + self.unet(x))
