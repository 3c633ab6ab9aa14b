"""Cross (joint) bilateral filtering on a bilateral grid.

The bilateral grid of Chen, Paris & Durand, "Real-time edge-aware image
processing with the bilateral grid", ACM TOG 26(3), 2007 (after Paris &
Durand, "A fast approximation of the bilateral filter using a signal
processing approach", ECCV 2006): splat the values into a 3-D grid over
(y, x, guide) sampled at (sigma_s, sigma_s, sigma_r), blur the grid with a
unit Gaussian per axis, divide by the blurred weights and slice it back with
trilinear interpolation.  This is the filter Kovaleski & Oliveira use for
their brightness-enhancement map.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def cross_bilateral(values: np.ndarray, guide: np.ndarray, sigma_s: float, sigma_r: float) -> np.ndarray:
    """Edge-aware smoothing of ``values`` with edges taken from ``guide``.

    values: (H, W) float, the signal to smooth.
    guide: (H, W) float in [0, 1], the image whose edges stop the smoothing.
    sigma_s: spatial standard deviation in pixels (> 0).
    sigma_r: range standard deviation in guide units (> 0).
    Returns (H, W) float32.  A constant ``values`` is returned unchanged.
    """
    v = np.asarray(values, dtype=np.float64)
    g = np.clip(np.asarray(guide, dtype=np.float64), 0.0, 1.0)
    if v.shape != g.shape or v.ndim != 2:
        raise ValueError(f"values and guide must be the same (H, W) shape, got {v.shape} and {g.shape}")
    h, w = v.shape
    ss = max(float(sigma_s), 1e-3)
    sr = max(float(sigma_r), 1e-4)
    pad = 2  # cells of border so the blur does not wrap into the data
    gy = int(np.ceil((h - 1) / ss)) + 1 + 2 * pad
    gx = int(np.ceil((w - 1) / ss)) + 1 + 2 * pad
    gz = int(np.ceil(1.0 / sr)) + 1 + 2 * pad
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy = yy / ss + pad
    cx = xx / ss + pad
    cz = g / sr + pad
    iy, ix, iz = (np.rint(c).astype(np.int64) for c in (cy, cx, cz))
    flat = (iy * gx + ix) * gz + iz
    num = np.bincount(flat.ravel(), weights=v.ravel(), minlength=gy * gx * gz).reshape(gy, gx, gz)
    den = np.bincount(flat.ravel(), minlength=gy * gx * gz).astype(np.float64).reshape(gy, gx, gz)
    num = ndimage.gaussian_filter(num, sigma=1.0, mode="constant", truncate=3.0)
    den = ndimage.gaussian_filter(den, sigma=1.0, mode="constant", truncate=3.0)
    coords = np.stack([cy.ravel(), cx.ravel(), cz.ravel()])
    n = ndimage.map_coordinates(num, coords, order=1, mode="nearest")
    d = ndimage.map_coordinates(den, coords, order=1, mode="nearest")
    out = n / np.maximum(d, 1e-12)
    return out.reshape(h, w).astype(np.float32)
