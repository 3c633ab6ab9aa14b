"""Hallucination-Net: fill in the clipped highlights of the linearized image.

Source: Liu et al., CVPR 2020, Sec. 3.3, and the authors' TF release, itself
derived from HDRCNN (Eilertsen et al., SIGGRAPH Asia 2017):

* input B (linear, in [0, 1]): x255, RGB -> BGR, minus the VGG mean
  (103.939, 116.779, 123.68) (Simonyan & Zisserman, ICLR 2015);
* encoder: the 13 VGG16 convs (3x3 SAME + ReLU), 2x2 max-pool SAME after each
  stage; then h6: conv3x3 512 + BN + ReLU (at 1/32 resolution);
* decoder h1..h5: nearest x2, reflect pad 1, conv3x3 VALID + ReLU, BN, ReLU
  (widths 512, 512, 256, 128, 64);
* skips: before each decoder block h2..h6 the features are concatenated with
  the encoder's pre-pool features (beforepool5..1) times 1/255 and fused by a
  1x1 conv (initialised as an element-wise add);
* h7: conv1x1 -> 3, BN, ReLU, then fused with the input B by a 1x1 conv 6 -> 3
  (HDRCNN's 255 x input scaled back by 1/255: RGB in [0, 1], not the BGR
  mean-subtracted tensor);
* BN: TensorLayer, eps 1e-5;
* output blend (linear domain, not HDRCNN's exp/log): alpha = clip((max_c B -
  1 + 0.12) / 0.12, 0, 1); A = B + alpha * relu(net(B)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .tf_ops import BN_EPS_TL, max_pool_same, pad_reflect, resize_nearest_x2
from .unet import scale_width

VGG_MEAN_BGR = (103.939, 116.779, 123.68)
#: Highlight mask threshold: alpha ramps from 0 at max_c(B) = 1 - 0.12 to 1 at 1.
MASK_THRESHOLD = 0.12


@dataclass(frozen=True)
class HallucinationConfig:
    """Widths of Hallucination-Net; the default is the authors' network.

    vgg: (width, number of convs) of the five VGG16 stages; bottleneck: h6 width;
    decoder: widths of h1..h5 (h_i's output must equal the width of the skip
    it is fused with: beforepool5..1).
    """

    vgg: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
    bottleneck: int = 512
    decoder: tuple[int, int, int, int, int] = (512, 512, 256, 128, 64)

    @classmethod
    def scaled(cls, width: float = 1.0) -> "HallucinationConfig":
        d = cls()
        return cls(
            tuple((scale_width(c, width), n) for c, n in d.vgg),
            scale_width(d.bottleneck, width),
            tuple(scale_width(c, width) for c in d.decoder),  # type: ignore[arg-type]
        )


def highlight_mask(linear: torch.Tensor, threshold: float = MASK_THRESHOLD) -> torch.Tensor:
    """alpha = clip((max_c(x) - 1 + t) / t, 0, 1): (N, C, H, W) -> (N, 1, H, W)."""
    peak = linear.amax(dim=1, keepdim=True)
    return torch.clamp((peak - 1.0 + threshold) / threshold, 0.0, 1.0)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS_TL)


class VGGEncoder(nn.Module):
    """VGG16 convs + h6: (N, 3, H, W) BGR mean-subtracted -> (h6 (N, C6, H/32, W/32), [beforepool1..5])."""

    def __init__(self, config: HallucinationConfig):
        super().__init__()
        stages = []
        cin = 3
        for width, n in config.vgg:
            convs = []
            for _ in range(n):
                convs.append(nn.Conv2d(cin, width, 3, padding=1))
                cin = width
            stages.append(nn.ModuleList(convs))
        self.stages = nn.ModuleList(stages)
        self.conv6 = nn.Conv2d(cin, config.bottleneck, 3, padding=1)
        self.bn6 = _bn(config.bottleneck)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for stage in self.stages:
            for conv in stage:  # type: ignore[attr-defined]
                x = torch.relu(conv(x))
            skips.append(x)
            x = max_pool_same(x, 2, 2)
        return torch.relu(self.bn6(self.conv6(x))), skips


class UpConv(nn.Module):
    """Resize-conv: nearest x2, reflect pad 1, conv3x3 VALID + ReLU, BN, ReLU: (N, Cin, H, W) -> (N, Cout, 2H, 2W)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3)
        self.bn = _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(pad_reflect(resize_nearest_x2(x), 1)))
        return torch.relu(self.bn(x))


class Decoder(nn.Module):
    """h1..h7 with skip fusions: (h6, skips, x RGB [0, 1]) -> (N, 3, H, W) (before the final ReLU)."""

    def __init__(self, config: HallucinationConfig):
        super().__init__()
        skip_widths = [w for w, _ in config.vgg]  # beforepool1..5
        ups, fuses = [], []
        cin = config.bottleneck
        for i, cout in enumerate(config.decoder):
            ups.append(UpConv(cin, cout))
            skip = skip_widths[4 - i]
            fuses.append(nn.Conv2d(cout + skip, cout, 1))
            cin = cout
        self.up = nn.ModuleList(ups)
        self.conv7 = nn.Conv2d(cin, 3, 1)
        self.bn7 = _bn(3)
        fuses.append(nn.Conv2d(6, 3, 1))
        self.fuse = nn.ModuleList(fuses)  # fuse.0..5 = TF h2..h7

    def forward(self, h: torch.Tensor, skips: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        for i, up in enumerate(self.up):
            h = up(h)
            h = self.fuse[i](torch.cat([h, skips[4 - i] * (1.0 / 255.0)], dim=1))
        h = torch.relu(self.bn7(self.conv7(h)))
        return self.fuse[5](torch.cat([h, x], dim=1))


class HallucinationNet(nn.Module):
    """forward(B): (N, 3, H, W) linear in [0, 1] -> A (N, 3, H, W) >= B, with the 0.12 mask blend.

    H, W must be multiples of 32.
    """

    multiple = 32

    def __init__(self, config: HallucinationConfig | None = None):
        super().__init__()
        self.config = config or HallucinationConfig()
        self.encoder = VGGEncoder(self.config)
        self.decoder = Decoder(self.config)
        self.vgg_mean_bgr: torch.Tensor
        self.register_buffer("vgg_mean_bgr", torch.tensor(VGG_MEAN_BGR).view(1, 3, 1, 1), persistent=False)

    def residual(self, linear: torch.Tensor) -> torch.Tensor:
        """The network output before ReLU and mask: (N, 3, H, W) -> (N, 3, H, W)."""
        bgr = linear.flip(1) * 255.0 - self.vgg_mean_bgr.to(linear.dtype)
        h, skips = self.encoder(bgr)
        return self.decoder(h, skips, linear)

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return linear + highlight_mask(linear) * torch.relu(self.residual(linear))
