"""Training-free expansion operators: a fast baseline and a fallback.

``expand(method, ldr_srgb, **params) -> hdr_linear`` with method one of
:data:`METHODS`: ``"inverse-srgb"`` (the LDR linearised, white 1.0),
``"akyuz"`` (Akyuz et al. 2007, brightest pixel -> ``peak`` = 10),
``"kovaleski"`` (Kovaleski & Oliveira 2014, saturated regions up to 4x).
See :mod:`singlehdr.classical.operators` for formulas and sources.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import SingleHDRError
from .operators import akyuz, inverse_srgb, kovaleski, kovaleski_bef, luminance

METHODS: dict[str, Callable[..., np.ndarray]] = {
    "inverse-srgb": inverse_srgb,
    "akyuz": akyuz,
    "kovaleski": kovaleski,
}


def expand(method: str, ldr_srgb: np.ndarray, **params: Any) -> np.ndarray:
    """Expand an sRGB LDR image to linear HDR with a training-free operator.

    method: "inverse-srgb", "akyuz" or "kovaleski".
    ldr_srgb: (H, W, 3) float in [0, 1] (values outside are clipped; integer
        arrays are scaled by their dtype max).
    params: operator keywords (akyuz: peak, gamma; kovaleski: max_boost,
        threshold, sigma_s, sigma_r).
    Returns hdr_linear (H, W, 3) float32 >= 0, linear Rec.709.
    """
    if method not in METHODS:
        raise SingleHDRError(f"unknown classical method {method!r}; choose one of: {', '.join(METHODS)}")
    a = np.asarray(ldr_srgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise SingleHDRError(f"expected an (H, W, 3) image array, got shape {a.shape}")
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    a = np.clip(a.astype(np.float32, copy=False), 0.0, 1.0)
    if not np.all(np.isfinite(a)):
        raise SingleHDRError("input image contains NaN or Inf values")
    try:
        out = METHODS[method](a, **params)
    except TypeError as exc:
        raise SingleHDRError(f"bad parameter for classical method {method!r}: {exc}") from None
    return np.ascontiguousarray(out, dtype=np.float32)


__all__ = ["expand", "METHODS", "inverse_srgb", "akyuz", "kovaleski", "kovaleski_bef", "luminance"]
