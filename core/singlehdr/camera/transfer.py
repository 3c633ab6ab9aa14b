"""Standard transfer functions (display encodings), numpy and torch alike.

sRGB: IEC 61966-2-1:1999, piecewise: linear segment 12.92*x below 0.0031308,
else 1.055*x^(1/2.4) - 0.055.
"""

from __future__ import annotations

import numpy as np


def srgb_to_linear(ldr_srgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded [0, 1] -> linear [0, 1] (IEC 61966-2-1).  float32 out."""
    x = np.clip(np.asarray(ldr_srgb, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear [0, 1] -> sRGB-encoded [0, 1] (IEC 61966-2-1), clipped.  float32 out."""
    x = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)
