"""The composed SingleHDR pipeline: Dequantization -> Linearization -> Hallucination (-> Refinement).

Source: Liu et al., CVPR 2020, Fig. 2 / Sec. 3: the networks reverse the camera
pipeline in reverse order of image formation:
C = Deq(ldr); g = Lin(C); B = g(C); A = Hal(B) (with the 0.12 highlight mask);
and, for the jointly fine-tuned model, out = Ref(A, B, C).  The three-stage
form (``refine=False``) returns A.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from .dequantize import DequantizationConfig, DequantizationNet
from .hallucinate import HallucinationConfig, HallucinationNet
from .linearize import LinearizationConfig, LinearizationNet, apply_inverse_crf
from .refine import RefinementConfig, RefinementNet


@dataclass(frozen=True)
class SingleHDRConfig:
    """The whole model.  width: channel multiplier of every sub-network (1.0 = the
    authors' shapes); refine: include Refinement-Net (the joint model)."""

    width: float = 1.0
    refine: bool = True

    @classmethod
    def full(cls) -> "SingleHDRConfig":
        """The authors' joint model (deq + lin + hal + ref at full width)."""
        return cls(1.0, True)

    @classmethod
    def small(cls) -> "SingleHDRConfig":
        """A x0.25-width variant built from the same code (fast, for CPUs and tests)."""
        return cls(0.25, True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SingleHDRConfig":
        return cls(width=float(d.get("width", 1.0)), refine=bool(d.get("refine", True)))

    def dequantization(self) -> DequantizationConfig:
        return DequantizationConfig.scaled(self.width)

    def linearization(self) -> LinearizationConfig:
        return LinearizationConfig.scaled(self.width)

    def hallucination(self) -> HallucinationConfig:
        return HallucinationConfig.scaled(self.width)

    def refinement(self) -> RefinementConfig:
        return RefinementConfig.scaled(self.width)


class SingleHDRModel(nn.Module):
    """LDR (N, 3, H, W) sRGB-ish in [0, 1] -> linear HDR (N, 3, H, W) >= 0, LDR white at about 1.

    H and W must be multiples of :attr:`multiple` (32: five 2x2 poolings in
    Hallucination-Net); pad or resize before calling (see singlehdr.infer).
    """

    multiple = 32

    def __init__(self, config: SingleHDRConfig | None = None):
        super().__init__()
        self.config = config or SingleHDRConfig()
        self.dequantize = DequantizationNet(self.config.dequantization())
        self.linearize = LinearizationNet(self.config.linearization())
        self.hallucinate = HallucinationNet(self.config.hallucination())
        self.refine = RefinementNet(self.config.refinement()) if self.config.refine else None

    def estimate_inverse_crf(self, ldr: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, 1024) monotone inverse CRF g (Deq then Lin)."""
        return self.linearize(self.dequantize(ldr))

    def stages(self, ldr: torch.Tensor, inverse_crf: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Every intermediate: "dequantized" C, "inverse_crf" g (N, 1024), "linear" B,
        "hallucinated" A and, when refining, "refined".  ``inverse_crf`` replaces the
        estimate from this input (e.g. one estimated on a downscaled whole image when tiling)."""
        c = self.dequantize(ldr)
        g = self.linearize(c) if inverse_crf is None else inverse_crf
        b = apply_inverse_crf(c, g)
        a = self.hallucinate(b)
        out = {"dequantized": c, "inverse_crf": g, "linear": b, "hallucinated": a}
        if self.refine is not None:
            out["refined"] = self.refine(a, b, c)
        return out

    def forward(self, ldr: torch.Tensor, inverse_crf: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, 3, H, W) linear HDR >= 0."""
        c = self.dequantize(ldr)
        g = self.linearize(c) if inverse_crf is None else inverse_crf
        b = apply_inverse_crf(c, g)
        a = self.hallucinate(b)
        if self.refine is None:
            return a
        return self.refine(a, b, c)
