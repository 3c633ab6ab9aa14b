"""Image statistics for summaries and ``singlehdr info``.

Luminance: ITU-R BT.709 weights (see :func:`singlehdr.preview.tonemap.luminance`).
Dynamic range in stops: log2(max / min) of the *positive* luminances; the
robust variant uses the 0.1 and 99.9 percentiles instead (less sensitive to
single noisy pixels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tonemap import luminance


def hdr_stats(hdr_linear: np.ndarray) -> dict[str, Any]:
    """(H, W, 3) -> dict: width, height, min/median/max luminance, peak channel,
    dynamic_range_stops, robust_range_stops, negative_fraction, nonfinite (count)."""
    a = np.asarray(hdr_linear, dtype=np.float32)
    finite = np.isfinite(a).all(axis=2)
    lum = luminance(np.where(finite[..., None], a, 0.0))
    pos = lum[(lum > 0) & finite]
    out: dict[str, Any] = {
        "width": int(a.shape[1]),
        "height": int(a.shape[0]),
        "min_luminance": float(lum.min()),
        "median_luminance": float(np.median(lum)),
        "max_luminance": float(lum.max()),
        "peak": float(np.max(np.where(finite[..., None], a, -np.inf))) if finite.any() else float("nan"),
        "negative_fraction": float(np.mean((a < 0).any(axis=2))),
        "nonfinite": int((~finite).sum()),
    }
    if pos.size:
        out["dynamic_range_stops"] = float(np.log2(pos.max() / pos.min()))
        lo, hi = np.percentile(pos, [0.1, 99.9])
        out["robust_range_stops"] = float(np.log2(hi / lo)) if lo > 0 else out["dynamic_range_stops"]
    else:
        out["dynamic_range_stops"] = 0.0
        out["robust_range_stops"] = 0.0
    return out


def clipped_fraction(ldr_srgb: np.ndarray, bit_depth: int = 8) -> float:
    """Fraction of pixels with any channel at the top code value (>= (2^bits - 1.5) / (2^bits - 1))."""
    top = float(2 ** int(bit_depth) - 1)
    a = np.asarray(ldr_srgb, dtype=np.float32)
    return float(np.mean((a >= (top - 0.5) / top).any(axis=2)))
