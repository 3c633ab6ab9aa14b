"""Tone mapping HDR to displayable sRGB previews, and exposure brackets.

Sources:
- luminance: :func:`singlehdr.colour.luminance` (ITU-R BT.709-6 weights);
- "reinhard": the global operator L_d = L / (1 + L) of Reinhard, Stark,
  Shirley, Ferwerda, "Photographic Tone Reproduction for Digital Images",
  SIGGRAPH 2002, eq. (3), applied to luminance with the colour ratios kept;
- "clip": exposure, clip to [0, 1] (what a camera/monitor shows);
- sRGB encoding: IEC 61966-2-1 (singlehdr.colour.linear_to_srgb).
"""

from __future__ import annotations

import numpy as np

from ..colour import linear_to_srgb, luminance
from ..errors import SingleHDRError

OPERATORS = ("reinhard", "clip")

def check_hdr(hdr_linear: np.ndarray) -> np.ndarray:
    """Validate (H, W, 3) finite float; returns a float32 array."""
    a = np.asarray(hdr_linear, dtype=np.float32)
    if a.ndim != 3 or a.shape[2] != 3:
        raise SingleHDRError(f"expected an (H, W, 3) HDR image, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise SingleHDRError("HDR image contains NaN or Inf values")
    return a


def expose(hdr_linear: np.ndarray, exposure: float = 0.0) -> np.ndarray:
    """Scale by 2^exposure (EV stops).  (H, W, 3) -> (H, W, 3) float32, negatives -> 0."""
    a = check_hdr(hdr_linear)
    return np.maximum(a * np.float32(2.0 ** float(exposure)), 0.0).astype(np.float32)


def tonemap(hdr_linear: np.ndarray, exposure: float = 0.0, operator: str = "reinhard") -> np.ndarray:
    """HDR linear (H, W, 3) -> ldr_srgb (H, W, 3) float32 in [0, 1].

    exposure: EV stops applied first (x 2^exposure).
    operator: "reinhard" (L/(1+L) on luminance, colour ratios kept, then
        clipped) or "clip" (plain clip: the exposure as a camera shows it).
    Example: operator "clip", exposure 0: linear 0.2140 -> sRGB 0.5 (approx.);
    operator "reinhard": linear grey 1.0 -> 0.5 -> sRGB 0.7354.
    """
    if operator not in OPERATORS:
        raise SingleHDRError(f"unknown tone-map operator {operator!r}; choose one of: {', '.join(OPERATORS)}")
    a = expose(hdr_linear, exposure)
    if operator == "reinhard":
        lum = luminance(a)
        ratio = np.where(lum > 0, 1.0 / (1.0 + lum), 1.0).astype(np.float32)
        a = a * ratio[..., None]
    return linear_to_srgb(np.clip(a, 0.0, 1.0))


def exposure_brackets(hdr_linear: np.ndarray, stops=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> list[tuple[float, np.ndarray]]:
    """[(ev, ldr_srgb (H, W, 3) float32)] with operator "clip" at each EV."""
    return [(float(ev), tonemap(hdr_linear, ev, "clip")) for ev in stops]


def auto_exposure(hdr_linear: np.ndarray, key: float = 0.18) -> float:
    """EV that maps the log-average luminance to ``key`` (Reinhard 2002, eqs. 1-2).

    Returns log2(key / exp(mean(log(1e-6 + Y)))).
    """
    lum = luminance(check_hdr(hdr_linear))
    log_avg = float(np.exp(np.mean(np.log(1e-6 + np.maximum(lum, 0.0)))))
    return float(np.log2(key / max(log_avg, 1e-6)))
