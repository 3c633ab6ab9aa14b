"""Exposure calibration: the scale that turns relative radiance into a chosen unit.

Bottom layer: imports only singlehdr.errors, .types and .colour (used by
reconstruct, envmap, the shot lock and the brackets merge alike).

The networks (and the classical operators) return *relative* linear radiance
with the LDR white point at about 1.0.  :func:`exposure_scale` returns the one
multiplier that :func:`singlehdr.reconstruct` applies on top of that:

``relative``
    1.0.  A pixel value of 1.0 is the camera's clipping (LDR white) level.

``absolute``
    cd/m^2 (nits) from the photo's EXIF exposure settings.  The exposure value
    at ISO 100 is (ISO 2720:1974; ISO 12232):

        EV100 = log2(N^2 / t) - log2(S / 100)

    with N the f-number (FNumber), t the exposure time in seconds
    (ExposureTime) and S the ISO speed (ISO / ISOSpeedRatings /
    PhotographicSensitivity).  The reflected-light meter equation of ISO 2720,
    N^2 / t = L * S / K with calibration constant K = 12.5 cd s / m^2, gives
    the average scene luminance the camera exposed for:

        L_avg = K * N^2 / (t * S) = 2^EV100 * K / 100 = 2^EV100 / 8   [cd/m^2]

    and the camera renders that metered average as linear middle grey, 0.18
    of the clipping level.  So a linear pixel value v maps to

        L(v) = v * L_avg / 0.18 = v * 2^EV100 * 12.5 / (100 * 0.18)
             = v * 0.6944 * 2^EV100   [cd/m^2]

    i.e. ``scale = 2^EV100 * 12.5 / 18``: pixel 0.18 <-> L_avg, pixel 1.0
    (LDR white) <-> 5.56 * L_avg.  Example: f/8, 1/125 s, ISO 100 (EV100 =
    log2(8000) = 12.97) gives scale 8000 * 12.5 / 18 = 5556 cd/m^2 per unit.
    Exposure compensation (ExposureBias) needs no term: its effect is already
    in the N, t, S the camera used.  (The saturation-based convention of
    ISO 12232 with lens factor q = 0.65, L_sat = 78 / (q S) * N^2 / t =
    1.2 * 2^EV100, would map pixel 1.0 to 1.2 * 2^EV100, 1.73x brighter than
    this; we use the metering convention above, see Lagarde & de Rousiers,
    "Moving Frostbite to PBR", 2014, sec. 5.1, for both.)

``median``
    Scale so that the median Rec.709 luminance (:func:`singlehdr.colour.luminance`,
    ITU-R BT.709 weights) of the pixels equals ``target`` (pixels with an
    input alpha below 0.5 are ignored).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from .colour import LUMA_709, luminance
from .errors import SingleHDRError
from .types import LDRImage

#: Reflected-light meter calibration constant (ISO 2720), cd s / m^2.
METER_K = 12.5
#: Linear value the camera renders the metered average at.
MIDDLE_GREY = 0.18

_ISO_KEYS = ("ISO", "ISOSpeedRatings", "PhotographicSensitivity", "ISOSpeed", "RecommendedExposureIndex")


def _as_float(value: Any) -> float | None:
    """An EXIF value (number, 'a/b' string, (num, den) tuple, list) as a float, or None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            # (numerator, denominator) rational as some EXIF readers return it
            return float(value[0]) / float(value[1]) if value[1] else None
        return _as_float(value[0]) if value else None
    try:
        if isinstance(value, bytes):
            value = value.decode("ascii", "ignore")
        if isinstance(value, str):
            return float(Fraction(value.strip()))
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def exif_exposure(exif: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(FNumber N, ExposureTime t [s], ISO S) read from an EXIF dict; None where missing/invalid."""
    n = _as_float(exif.get("FNumber"))
    if n is None and exif.get("ApertureValue") is not None:  # APEX Av = 2 log2 N
        av = _as_float(exif.get("ApertureValue"))
        n = math.sqrt(2.0**av) if av is not None else None
    t = _as_float(exif.get("ExposureTime"))
    if t is None and exif.get("ShutterSpeedValue") is not None:  # APEX Tv = -log2 t
        tv = _as_float(exif.get("ShutterSpeedValue"))
        t = 2.0 ** (-tv) if tv is not None else None
    s = None
    for key in _ISO_KEYS:
        s = _as_float(exif.get(key))
        if s:
            break
    ok = lambda v: v if (v is not None and math.isfinite(v) and v > 0) else None  # noqa: E731
    return ok(n), ok(t), ok(s)


def ev100(f_number: float, exposure_time: float, iso: float) -> float:
    """EV100 = log2(N^2 / t) - log2(S / 100)  (ISO 2720 / APEX, referred to ISO 100)."""
    return math.log2(f_number * f_number / exposure_time) - math.log2(iso / 100.0)


def absolute_scale(f_number: float, exposure_time: float, iso: float) -> float:
    """cd/m^2 per linear unit: 2^EV100 * K / (100 * 0.18), K = 12.5 (see module doc)."""
    return 2.0 ** ev100(f_number, exposure_time, iso) * METER_K / (100.0 * MIDDLE_GREY)


def median_scale(hdr_linear: np.ndarray, target: float, alpha: np.ndarray | None = None) -> float:
    """Scale s so that median(Y(s * hdr)) == target; alpha < 0.5 pixels ignored."""
    y = luminance(hdr_linear)
    if alpha is not None and np.shape(alpha) == y.shape:
        y = y[np.asarray(alpha) >= 0.5]
    y = y[np.isfinite(y)].ravel()
    med = float(np.median(y)) if y.size else 0.0
    if not med > 0:
        raise SingleHDRError("cannot calibrate to a median: the image's median luminance is zero (black image); use --exposure relative")
    return float(target) / med


def exposure_scale(hdr_linear: np.ndarray, ldr: LDRImage, mode: str = "relative", target: float | None = None) -> float:
    """The multiplier to apply to a relative reconstruction.

    hdr_linear: (H, W, 3) float32 relative linear radiance (LDR white ~ 1.0).
    ldr: the source :class:`LDRImage` (its ``exif`` for "absolute", ``alpha``
        for "median").
    mode: "relative" -> 1.0; "absolute" -> 2^EV100 * 12.5 / 18 cd/m^2 per
        unit (module doc); "median" -> target / median luminance.
    target: for "median" (default 0.18); ignored otherwise.
    """
    if mode == "relative":
        return 1.0
    if mode == "absolute":
        n, t, s = exif_exposure(ldr.exif or {})
        missing = [name for name, v in (("FNumber", n), ("ExposureTime", t), ("ISO", s)) if v is None]
        if missing:
            raise SingleHDRError(
                f"absolute exposure needs EXIF {', '.join(missing)} but the image lacks "
                f"{'it' if len(missing) == 1 else 'them'}; use --exposure median (or relative) instead"
            )
        return absolute_scale(n, t, s)  # type: ignore[arg-type]
    if mode == "median":
        tgt = 0.18 if target is None else float(target)
        if not tgt > 0:
            raise SingleHDRError("exposure mode 'median' needs a positive target")
        return median_scale(hdr_linear, tgt, ldr.alpha)
    raise SingleHDRError(f"unknown exposure mode {mode!r}; choose one of: relative, absolute, median")


__all__ = ["METER_K", "MIDDLE_GREY", "LUMA_709", "luminance", "exif_exposure", "ev100", "absolute_scale", "median_scale",
           "exposure_scale"]
