"""Colour facts shared by every layer (bottom layer: imports nothing from singlehdr).

- Luminance: ITU-R BT.709-6, item 3.3: Y = 0.2126 R + 0.7152 G + 0.0722 B
  (linear Rec.709 / sRGB primaries).  :data:`REC709_Y` is the one place these
  weights are written; :data:`LUMA_709` is the float32 array of them.
- sRGB transfer curve: IEC 61966-2-1:1999, piecewise: linear segment 12.92*x
  below 0.0031308, else 1.055*x^(1/2.4) - 0.055 (decode: x/12.92 below 0.04045).
- Half floats: IEEE 754 binary16, largest finite value 65504 (:data:`HALF_MAX`);
  an EXR is written as half unless a value would not fit (:func:`fits_half`).
"""

from __future__ import annotations

import numpy as np

#: BT.709 luminance weights (R, G, B), as Python floats (float64 exact).
REC709_Y = (0.2126, 0.7152, 0.0722)
#: The same weights as a float32 array (``rgb @ LUMA_709``).
LUMA_709 = np.array(REC709_Y, dtype=np.float32)
#: Largest finite IEEE 754 binary16 (half) value.
HALF_MAX = 65504.0


def luminance(rgb_linear: np.ndarray) -> np.ndarray:
    """(..., >=3) linear Rec.709 -> (...) float32 relative luminance Y (BT.709); extra channels ignored."""
    return np.asarray(rgb_linear, dtype=np.float32)[..., :3] @ LUMA_709


def fits_half(values: np.ndarray) -> bool:
    """True when every |value| is within the half-float range (so a half EXR does not clip)."""
    return float(np.max(np.abs(values))) <= HALF_MAX


def srgb_to_linear(ldr_srgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded [0, 1] -> linear [0, 1] (IEC 61966-2-1).  float32 out."""
    x = np.clip(np.asarray(ldr_srgb, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear [0, 1] -> sRGB-encoded [0, 1] (IEC 61966-2-1), clipped.  float32 out."""
    x = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)


__all__ = ["REC709_Y", "LUMA_709", "HALF_MAX", "luminance", "fits_half", "srgb_to_linear", "linear_to_srgb"]
