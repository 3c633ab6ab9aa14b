"""ReconstructOptions: the one frozen dataclass every caller passes."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import SingleHDRError

METHODS_NETWORK = ("singlehdr",)
METHODS_CLASSICAL = ("inverse-srgb", "akyuz", "kovaleski")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
INPUT_KINDS = ("auto", "photo", "equirect")
RESIZE_MODES = ("pad", "reference")
EXPOSURE_MODES = ("relative", "absolute", "median")
LINEARIZATIONS = ("model", "learned", "srgb", "gated")
HIGHLIGHTS = ("model", "network", "colour")


@dataclass(frozen=True)
class ReconstructOptions:
    """How to reconstruct.  All fields have safe defaults.

    method: "singlehdr" (the networks) or a training-free operator
        ("inverse-srgb", "akyuz", "kovaleski").
    model: path to a .safetensors model; None = the shipped default model.
    device: "auto" picks cuda, then mps, then cpu; "cuda:N" picks GPU N.
    precision: "auto" = bf16 autocast on CUDA when supported, fp32 elsewhere.
    tile: tile edge in pixels for the convolutional nets; None = chosen from
        free memory, 0 = never tile.
    tile_overlap: overlap between tiles in pixels (blended smoothly).
    input_kind: "equirect" wraps horizontally so the 360 seam stays
        continuous; "auto" treats 2:1 images as equirect.
    resize_mode: "pad" (ours: pad to the nets' multiple) or "reference"
        (the authors' bicubic resize to a multiple of 64, for comparisons).
    exposure: "relative" (LDR white = 1.0), "absolute" (EXIF EV100 -> cd/m^2),
        or "median" (scale so the median luminance equals exposure_target).
    exposure_target: the target for "median" mode.
    colorspace: output colour space key (see singlehdr.io.colorspace).
    linearization: how the input is linearised: "model" (what the model file
        says; the shipped default: the sRGB prior), "learned" (the paper's
        Linearization-Net curve per image), "srgb" (the exact inverse sRGB
        curve), "gated" (learned only when trained and confident, else sRGB).
    highlights: "model" (what the model file says; the shipped default:
        colour), "network" (the network's output as is) or "colour"
        (luminance from the network, hue from the unclipped rim).
    """

    method: str = "singlehdr"
    model: str | None = None
    device: str = "auto"
    precision: str = "auto"
    tile: int | None = None
    tile_overlap: int = 64
    input_kind: str = "auto"
    resize_mode: str = "pad"
    exposure: str = "relative"
    exposure_target: float | None = None
    colorspace: str = "lin_rec709"
    linearization: str = "model"
    highlights: str = "model"

    def __post_init__(self) -> None:
        def check(name: str, value: Any, allowed: tuple[str, ...]) -> None:
            if value not in allowed:
                raise SingleHDRError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")

        check("method", self.method, METHODS_NETWORK + METHODS_CLASSICAL)
        if not (isinstance(self.device, str) and re.fullmatch(r"cuda:\d+", self.device)):  # cuda:N = one GPU of several
            check("device", self.device, DEVICES)
        check("precision", self.precision, PRECISIONS)
        check("input kind", self.input_kind, INPUT_KINDS)
        check("resize mode", self.resize_mode, RESIZE_MODES)
        check("exposure mode", self.exposure, EXPOSURE_MODES)
        check("linearization", self.linearization, LINEARIZATIONS)
        check("highlights", self.highlights, HIGHLIGHTS)
        if self.tile is not None and (self.tile < 0 or (0 < self.tile < 128)):
            raise SingleHDRError(f"tile size must be 0 (off) or at least 128 pixels, got {self.tile}")
        if self.tile_overlap < 0:
            raise SingleHDRError(f"tile overlap must be >= 0, got {self.tile_overlap}")
        # None = the default target (0.18, see singlehdr.exposure.exposure_scale)
        if self.exposure == "median" and self.exposure_target is not None and not self.exposure_target > 0:
            raise SingleHDRError("exposure mode 'median' needs a positive exposure target")
        from .io.colorspace import COLORSPACES

        check("colour space", self.colorspace, tuple(COLORSPACES))

    def replace(self, **changes: Any) -> "ReconstructOptions":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
