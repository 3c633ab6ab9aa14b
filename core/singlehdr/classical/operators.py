"""Training-free inverse tone-mapping (expansion) operators.

Each operator maps a display-referred sRGB image ``ldr_srgb`` (H, W, 3)
float32 in [0, 1] to a scene-linear Rec.709 ``hdr_linear`` (H, W, 3) float32
>= 0 in the house's relative units (LDR diffuse white = 1.0).  Each documents
its white level: what an input pixel of (1, 1, 1) becomes.
"""

from __future__ import annotations

import numpy as np

from ..colour import luminance, srgb_to_linear
from .bilateral import cross_bilateral

def _scale_luminance(rgb_linear: np.ndarray, lum: np.ndarray, new_lum: np.ndarray) -> np.ndarray:
    """Replace luminance, keeping chromaticity: rgb * new_lum / lum (0 where lum == 0)."""
    ratio = np.where(lum > 0, new_lum / np.maximum(lum, 1e-12), 0.0).astype(np.float32)
    return (rgb_linear * ratio[..., None]).astype(np.float32)


def inverse_srgb(ldr_srgb: np.ndarray) -> np.ndarray:
    """The LDR image as is, linearised by the inverse sRGB EOTF (IEC 61966-2-1:1999).

    (H, W, 3) -> (H, W, 3) float32.  White level: 1.0 (input 1.0 -> 1.0,
    input 0.5 -> 0.21404).  No highlight is expanded: the baseline every
    reconstruction must beat.
    """
    return srgb_to_linear(ldr_srgb)


def akyuz(ldr_srgb: np.ndarray, *, peak: float = 10.0, gamma: float = 1.0) -> np.ndarray:
    """Akyuz et al.'s global expansion.

    Source: A. O. Akyuz, R. Fleming, B. E. Riecke, E. Reinhard, H. H. Bulthoff,
    "Do HDR displays support LDR content? A psychophysical evaluation",
    ACM TOG 26(3) (SIGGRAPH 2007), eq. 1:
        L_hdr = k * ((L - L_min) / (L_max - L_min)) ** gamma
    with L the pixel luminance of the (linearised) LDR image, L_min / L_max
    its extremes, k the display's peak.  The paper found plain linear scaling
    (gamma = 1) preferred, our default.  We linearise with the inverse sRGB
    curve, compute Rec.709 luminance, apply the formula and rescale RGB by
    L_hdr / L so chromaticity is kept.

    peak: k, in relative units; default 10 = the paper's HDR display
        (3000 cd/m^2) over a ~300 cd/m^2 LDR display white.
    White level: the brightest pixel maps to ``peak`` (an input with white
    (1, 1, 1) in it: that white -> (peak, peak, peak)); the darkest to 0.
    A constant image (L_max == L_min) is normalised by L_max alone.
    (H, W, 3) -> (H, W, 3) float32 >= 0.
    """
    rgb = srgb_to_linear(ldr_srgb)
    lum = luminance(rgb)
    lmin, lmax = float(lum.min()), float(lum.max())
    if lmax <= 0.0:
        return np.zeros_like(rgb)
    if lmax - lmin > 1e-6:
        norm = (lum - lmin) / (lmax - lmin)
    else:
        norm = lum / lmax
    new_lum = np.float32(peak) * np.power(np.clip(norm, 0.0, 1.0), np.float32(gamma))
    return np.maximum(_scale_luminance(rgb, lum, new_lum.astype(np.float32)), 0.0)


def kovaleski_bef(
    ldr_srgb: np.ndarray,
    *,
    threshold: float = 230.0 / 255.0,
    sigma_s: float | None = None,
    sigma_r: float = 25.0 / 255.0,
) -> np.ndarray:
    """Kovaleski & Oliveira's brightness-enhancement map in [0, 1].

    Source: R. P. Kovaleski, M. M. Oliveira, "High-quality reverse tone
    mapping for a wide range of exposures", SIBGRAPI 2014: a binary map of
    saturated pixels (any channel above ``threshold``, 230/255 in the paper)
    is smoothed by a cross bilateral filter (bilateral grid) guided by the
    image's luminance, sigma_s = 150 px for HD content, sigma_r = 25/255.
    We guide with the Rec.709-weighted luminance of the sRGB-encoded values
    (the paper's 8-bit domain) and scale sigma_s with image size:
    150 px at 1920 px wide, i.e. sigma_s = 150 / 1920 * max(H, W).
    (H, W, 3) -> (H, W) float32 in [0, 1].
    """
    x = np.clip(np.asarray(ldr_srgb, dtype=np.float32), 0.0, 1.0)
    mask = (x.max(axis=2) > threshold).astype(np.float32)
    if not mask.any():
        return np.zeros(mask.shape, np.float32)
    if mask.all():
        return np.ones(mask.shape, np.float32)
    if sigma_s is None:
        sigma_s = 150.0 / 1920.0 * max(x.shape[0], x.shape[1])
    guide = luminance(x)
    return np.clip(cross_bilateral(mask, guide, max(float(sigma_s), 1.0), sigma_r), 0.0, 1.0)


def kovaleski(
    ldr_srgb: np.ndarray,
    *,
    max_boost: float = 4.0,
    threshold: float = 230.0 / 255.0,
    sigma_s: float | None = None,
    sigma_r: float = 25.0 / 255.0,
) -> np.ndarray:
    """Kovaleski & Oliveira's reverse tone mapping (SIBGRAPI 2014).

    hdr = linearise(ldr) * (1 + (max_boost - 1) * E), E = :func:`kovaleski_bef`.
    The paper expands luminance linearly to the display range and multiplies
    it by the brightness-enhancement function whose maximum is 4 (1 + 3 E, as
    also in Banterle's HDR Toolbox ``KovaleskiOliveiraEO``); our display
    range is the relative [0, 1] (black 0, LDR white 1), so multiplying RGB
    by the scalar map keeps chromaticity.
    White level: 1.0 for isolated unsaturated pixels; inside large saturated
    regions up to ``max_boost`` (a fully saturated image -> 4.0 everywhere).
    (H, W, 3) -> (H, W, 3) float32 >= 0.
    """
    rgb = srgb_to_linear(ldr_srgb)
    bef = kovaleski_bef(ldr_srgb, threshold=threshold, sigma_s=sigma_s, sigma_r=sigma_r)
    gain = 1.0 + (np.float32(max_boost) - 1.0) * bef
    return np.maximum(rgb * gain[..., None].astype(np.float32), 0.0).astype(np.float32)
