"""The training losses of Liu et al., CVPR 2020 (../shared/REFERENCE.md, "Losses").

All take (N, C, H, W) tensors and return a scalar tensor.

- Deq: L2(C, LDR before quantisation).
- Lin: L2(g(LDR), clip(H t)) + 0.1 L2(g, g_true).
- Hal: with T(x) = log(1 + 10 x) / log(11):
  L1(T(A), T(H t)) + 0.001 VGG-perceptual(T(A), T(H t)) + 0.1 TV(T(A)).
- Joint: L1(T(mean-normalised output), T(H)).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import SingleHDRError

LIN_CRF_WEIGHT = 0.1
HAL_PERCEPTUAL_WEIGHT = 0.001
HAL_TV_WEIGHT = 0.1


def mu_tonemap(x: torch.Tensor, mu: float = 10.0) -> torch.Tensor:
    """T(x) = log(1 + mu x) / log(1 + mu), mu = 10 (Liu et al. 2020).  x >= 0
    (clamped); T(1) = 1, T(0) = 0, T(0.1) = log(2)/log(11) = 0.28906."""
    return torch.log1p(mu * x.clamp_min(0.0)) / math.log1p(mu)


def l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    return F.mse_loss(a, b)


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    return F.l1_loss(a, b)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic TV: mean |x[.., i+1, j] - x[.., i, j]| + mean |x[.., i, j+1] - x[.., i, j]|.
    (N, C, H, W) -> scalar.  (Per-pixel means, so the weight 0.1 does not
    depend on the crop size.)"""
    zero = x.new_zeros(())
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().mean() if x.shape[-2] > 1 else zero
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().mean() if x.shape[-1] > 1 else zero
    return dy + dx


def deq_loss(dequantized: torch.Tensor, ldr_prequant: torch.Tensor) -> torch.Tensor:
    """Dequantization-Net: L2 to the LDR before 8-bit quantisation."""
    return l2(dequantized, ldr_prequant)


def lin_loss(
    linear: torch.Tensor, linear_target: torch.Tensor, inverse_crf: torch.Tensor, inverse_crf_true: torch.Tensor, log_weight: float = 0.0
) -> torch.Tensor:
    """Linearization-Net: L2(g(LDR), clip(H t)) + 0.1 L2(g, g_true); g, g_true (N, 1024).

    log_weight > 0 adds ``log_weight`` * :func:`log_curve_loss` (ours, not in
    the paper; 0 = the paper's loss)."""
    loss = l2(linear, linear_target) + LIN_CRF_WEIGHT * l2(inverse_crf, inverse_crf_true)
    if log_weight > 0:
        loss = loss + log_weight * log_curve_loss(inverse_crf, inverse_crf_true)
    return loss


#: Offset of the log in :func:`log_curve_loss` (about a quarter of one 8-bit step of linear light).
LOG_CURVE_EPS = 1e-3


def log_curve_loss(inverse_crf: torch.Tensor, inverse_crf_true: torch.Tensor, eps: float = LOG_CURVE_EPS) -> torch.Tensor:
    """L2(log(g + eps), log(g_true + eps)) over the curve samples: (N, S), (N, S) -> scalar.

    Ours (not in Liu et al. 2020): the paper's L2 on g barely sees the dark end
    of the curve, where a small absolute error is a large relative one; this
    term weighs errors relatively, as log-domain metrics (log-PSNR, PU21) do.
    """
    return l2(torch.log(inverse_crf.clamp_min(0.0) + eps), torch.log(inverse_crf_true.clamp_min(0.0) + eps))


class VGG16Features(nn.Module):
    """VGG16's convolutions up to pool3 (Simonyan & Zisserman 2015), with
    the usual ``features.<i>`` parameter names (conv indices 0, 2, 5, 7, 10,
    12, 14), so an ImageNet VGG16 state dict loads directly.  Returns the
    pool1, pool2, pool3 feature maps."""

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")
    #: ImageNet RGB mean/std the weights expect.
    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU(inplace=False)]
                c = int(v)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        outs = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.MaxPool2d):
                outs.append(x)
        return outs


def load_vgg16(path: str | Path) -> VGG16Features:
    """Load ImageNet VGG16 weights (``features.*`` keys; .safetensors, or a
    torch state dict read with weights_only=True) into :class:`VGG16Features`.
    Keys beyond pool3 are ignored.  Raises SingleHDRError when unusable."""
    path = Path(path)
    if not path.is_file():
        raise SingleHDRError(f"VGG16 weights file {path} not found; pass --vgg-weights with an ImageNet VGG16 state dict")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw: Any = load_file(str(path))
        else:
            raw = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any decode failure is the user's file
        raise SingleHDRError(f"cannot read VGG16 weights {path}: {exc}") from None
    sd = raw["state_dict"] if isinstance(raw, dict) and "state_dict" in raw else raw
    if not isinstance(sd, dict):
        raise SingleHDRError(f"{path} does not hold a state dict; pass a VGG16 state dict file")
    net = VGG16Features()
    want = net.state_dict()
    sub = {k: v for k, v in sd.items() if k in want}
    missing = [k for k in want if k not in sub]
    if missing:
        raise SingleHDRError(f"{path} is not a VGG16 state dict (missing {missing[0]}); use torchvision-style 'features.N.weight' keys")
    net.load_state_dict(sub)
    return net.eval()


def perceptual_loss(vgg: VGG16Features, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean over pool1..pool3 of the L2 between VGG16 features of a and b
    (inputs already tone-mapped by T, in [0, ~1])."""
    fa, fb = vgg(a), vgg(b)
    return torch.stack([l2(x, y) for x, y in zip(fa, fb)]).mean()


def hal_loss(hallucinated: torch.Tensor, exposed: torch.Tensor, vgg: VGG16Features | None = None) -> torch.Tensor:
    """Hallucination-Net: L1(T(A), T(H t)) + 0.001 VGG(T(A), T(H t)) + 0.1 TV(T(A)).
    The perceptual term is skipped when ``vgg`` is None (no weights given)."""
    ta, tb = mu_tonemap(hallucinated), mu_tonemap(exposed)
    loss = l1(ta, tb) + HAL_TV_WEIGHT * total_variation(ta)
    if vgg is not None:
        loss = loss + HAL_PERCEPTUAL_WEIGHT * perceptual_loss(vgg, ta, tb)
    return loss


def mean_normalise(output: torch.Tensor, reference: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Scale each image of ``output`` so its mean equals ``reference``'s:
    out * mean(ref) / mean(out), per image (N, C, H, W)."""
    m_out = output.mean(dim=(1, 2, 3), keepdim=True)
    m_ref = reference.mean(dim=(1, 2, 3), keepdim=True)
    return output * (m_ref / m_out.clamp_min(eps))


def joint_loss(output: torch.Tensor, hdr: torch.Tensor) -> torch.Tensor:
    """Joint fine-tuning: L1(T(mean-normalised output), T(H)); the output's
    unknown exposure is removed by matching its mean to H's (0.5)."""
    return l1(mu_tonemap(mean_normalise(output, hdr)), mu_tonemap(hdr))
