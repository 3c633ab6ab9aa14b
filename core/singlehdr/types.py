"""Data that crosses module borders: plain float32 numpy plus metadata.

Naming rule of the house: ``ldr_srgb`` is display-referred, sRGB-encoded in
[0, 1]; ``hdr_linear`` is scene-linear relative radiance (LDR white ~ 1.0
unless an exposure calibration says otherwise).  Arrays are (H, W, 3) float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LDRImage:
    """An 8/16-bit photo or plate as read from disk (EXIF orientation applied).

    pixels: (H, W, 3) float32 in [0, 1], display-referred (sRGB-encoded unless
        ``transfer`` says otherwise).
    alpha: (H, W) float32 in [0, 1] or None; carried through untouched.
    bit_depth: bits per channel of the source (8 or 16).
    transfer: "srgb" (default for 8-bit photos) or "linear".
    exif: exposure-related EXIF (ExposureTime, FNumber, ISO, ExposureBias,
        FocalLength, FocalLengthIn35mmFilm, Make, Model, ...) as plain values.
    xmp: selected XMP fields (for example GPano:* of 360 photos).
    path: where it came from, if a file.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    transfer: str = "srgb"
    exif: dict[str, Any] = field(default_factory=dict)
    xmp: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.pixels.shape[0]), int(self.pixels.shape[1])

    @classmethod
    def from_array(cls, ldr_srgb: np.ndarray, **kw: Any) -> "LDRImage":
        """Wrap an (H, W, 3|4) array; integers are scaled by their dtype max."""
        from .errors import SingleHDRError

        a = np.asarray(ldr_srgb)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
            raise SingleHDRError(f"expected an (H, W, 3) or (H, W, 4) image array, got shape {a.shape}")
        bit_depth = kw.pop("bit_depth", None)
        if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            if a.dtype not in (np.uint8, np.uint16):
                raise SingleHDRError(
                    f"integer images must be uint8 or uint16, got {a.dtype}; pass floats in [0, 1] instead"
                )
            bits = 8 if a.dtype == np.uint8 else 16
            a = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
            bit_depth = bit_depth or bits
        a = a.astype(np.float32, copy=False)
        if not np.all(np.isfinite(a)):
            raise SingleHDRError("input image contains NaN or Inf values")
        alpha = None
        if a.shape[2] == 4:
            alpha = np.ascontiguousarray(a[..., 3])
            a = a[..., :3]
        return cls(pixels=np.ascontiguousarray(np.clip(a, 0.0, 1.0)), alpha=alpha, bit_depth=bit_depth or 8, **kw)


@dataclass
class HDRResult:
    """What :func:`singlehdr.reconstruct` returns.

    hdr_linear: (H, W, 3) float32 scene-linear, in ``colorspace``.
    alpha: (H, W) float32 or None (the input's alpha, carried through).
    colorspace: one of :data:`singlehdr.io.colorspace.COLORSPACES` keys.
    scale: the exposure scale applied on top of the relative reconstruction
        (1.0 = relative, LDR white ~ 1.0).
    metadata: provenance and facts: method, model id, source EXIF, timings,
        calibration mode.  Written into EXR headers by the writers.
    """

    hdr_linear: np.ndarray
    alpha: np.ndarray | None = None
    colorspace: str = "lin_rec709"
    scale: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)
