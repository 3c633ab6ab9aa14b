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

Half precision: with the authors' weights the encoder's activations reach
~2e6 on a bright sky (VGG's x255 input) and h6's BatchNorm variance ~4e11,
past float16's 65504: an fp16 run gives NaN or garbage highlights.
:func:`fold_for_half` makes an inference copy that computes the same function
(to float rounding) in float16's range; the engine (``--precision fp16``)
and the TorchScript export (Nuke's *Optimize for Speed and Memory* runs the
module in half) use it.
"""

from __future__ import annotations

import copy
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

        #: what the encoder's skips are multiplied by (1/255: HDRCNN's; 1 in :func:`fold_for_half`'s copy, whose
        #: encoder computes in units of 1/255 already)
        self.skip_scale = 1.0 / 255.0

    def forward(self, h: torch.Tensor, skips: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        for i, up in enumerate(self.up):
            h = up(h)
            h = self.fuse[i](torch.cat([h, skips[4 - i] * self.skip_scale], dim=1))
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
        #: the encoder's activations are these times the authors' (1; :data:`HALF_ENCODER_SCALE` in
        #: :func:`fold_for_half`'s copy)
        self.encoder_scale = 1.0

    def residual(self, linear: torch.Tensor) -> torch.Tensor:
        """The network output before ReLU and mask: (N, 3, H, W) -> (N, 3, H, W)."""
        if self.encoder_scale == 1.0:
            bgr = linear.flip(1) * 255.0 - self.vgg_mean_bgr.to(linear.dtype)
        else:
            s = self.encoder_scale
            bgr = linear.flip(1) * (255.0 * s) - self.vgg_mean_bgr.to(linear.dtype) * s
        h, skips = self.encoder(bgr)
        return self.decoder(h, skips, linear)

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return linear + highlight_mask(linear) * torch.relu(self.residual(linear))


# ----------------------------------------------------------------------------- half precision

#: :func:`fold_for_half`: the encoder computes in units of 1/255 of the authors' (its input in [0, 1] instead of
#: x255: activations up to ~1e4 instead of ~2e6 on a bright sky), the decoder's up-convolutions in units of 1/16.
HALF_ENCODER_SCALE = 1.0 / 255.0
HALF_UPCONV_SCALE = 1.0 / 16.0


class ChannelAffine(nn.Module):
    """x * scale + shift per channel: an inference-mode BatchNorm2d folded in float64 (:func:`fold_for_half`).

    Its constants are small where the BatchNorm's statistics are not (h6's running variance reaches ~4e11, which a
    module converted to half precision would turn into inf)."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.scale: torch.Tensor
        self.shift: torch.Tensor
        self.register_buffer("scale", scale.detach().float().reshape(1, -1, 1, 1).clone())
        self.register_buffer("shift", shift.detach().float().reshape(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


def _folded_bn(bn: nn.BatchNorm2d, input_scale: float = 1.0) -> ChannelAffine:
    """``bn`` in inference mode as a :class:`ChannelAffine` for inputs ``input_scale`` times the ones it saw."""
    n = bn.num_features
    var = bn.running_var.double() if bn.running_var is not None else torch.ones(n, dtype=torch.float64)
    mean = bn.running_mean.double() if bn.running_mean is not None else torch.zeros(n, dtype=torch.float64)
    w = bn.weight.double() if bn.weight is not None else torch.ones(n, dtype=torch.float64)
    b = bn.bias.double() if bn.bias is not None else torch.zeros(n, dtype=torch.float64)
    a = w / torch.sqrt(var + bn.eps)
    return ChannelAffine(a / input_scale, b - mean * a)


def _scale_conv(conv: nn.Conv2d, weight: float, bias: float) -> None:
    with torch.no_grad():
        conv.weight.mul_(weight)
        if conv.bias is not None:
            conv.bias.mul_(bias)


def fold_for_half(net: HallucinationNet) -> HallucinationNet:
    """An inference copy of ``net`` that computes the same function (to float rounding: ~1e-6 relative in fp32) with
    its activations and constants inside float16's range (module doc).

    Convolutions, ReLU and max-pooling are positively homogeneous once a convolution's bias is scaled with its
    input, so the encoder runs on activations :data:`HALF_ENCODER_SCALE` times the authors' (biases scaled; the
    skips it hands the decoder then need no 1/255), each BatchNorm becomes a :class:`ChannelAffine` (folded in
    float64 for the scale of its input), and the decoder's up-convolutions run :data:`HALF_UPCONV_SCALE` times
    smaller.  ``net`` itself is not changed; the copy is in eval mode and is not for training."""
    half = copy.deepcopy(net).eval()
    s, k = HALF_ENCODER_SCALE, HALF_UPCONV_SCALE
    for stage in half.encoder.stages:
        for conv in stage:  # type: ignore[attr-defined]
            _scale_conv(conv, 1.0, s)
    _scale_conv(half.encoder.conv6, 1.0, s)
    setattr(half.encoder, "bn6", _folded_bn(net.encoder.bn6, s))
    for up_half, up in zip(half.decoder.up, net.decoder.up):
        _scale_conv(up_half.conv, k, k)  # type: ignore[union-attr, arg-type]
        setattr(up_half, "bn", _folded_bn(up.bn, k))  # type: ignore[union-attr, arg-type]
    setattr(half.decoder, "bn7", _folded_bn(net.decoder.bn7))
    half.encoder_scale = s
    half.decoder.skip_scale = (1.0 / 255.0) / s
    for p in half.parameters():
        p.requires_grad_(False)
    return half


def half_safe(model: nn.Module) -> nn.Module:
    """``model`` (a :class:`HallucinationNet` or a pipeline with one as ``.hallucinate``) with its Hallucination-Net
    replaced by :func:`fold_for_half`'s copy; the other sub-networks are shared, not copied.  Anything else is
    returned as is."""
    if isinstance(model, HallucinationNet):
        return fold_for_half(model)
    hal = getattr(model, "hallucinate", None)
    if not isinstance(hal, HallucinationNet):
        return model
    out = copy.copy(model)
    out._modules = dict(model._modules)  # the copy's own module table: the original keeps its Hallucination-Net
    out._modules["hallucinate"] = fold_for_half(hal)
    return out
