"""Scene-linear colour spaces for HDR output, converted with OpenColorIO.

The conversions use OpenColorIO's *built-in* ACES CG config (shipped inside
the PyOpenColorIO wheel, no download): "cg-config-latest" (OCIO >= 2.3).
Chromaticities (CIE 1931 xy of the R, G, B primaries and the white point)
are written into the EXR ``chromaticities`` header attribute so that readers
(Nuke, Blender, OIIO) know the primaries.

Sources:
- Rec.709 primaries / D65 white: ITU-R BT.709-6, table 1 item 1.3-1.4.
- Rec.2020 primaries / D65 white: ITU-R BT.2020-2, table 3.
- ACEScg (AP1) and ACES2065-1 (AP0), ACES white (x=0.32168, y=0.33767):
  SMPTE ST 2065-1:2012 and Academy S-2014-004 (ACEScg), section 4.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import SingleHDRError

# Built-in configs tried in order (the newest the installed OCIO knows first).
BUILTIN_CONFIGS = ("cg-config-latest", "studio-config-latest", "cg-config-v2.1.0_aces-v1.3_ocio-v2.3")


@dataclass(frozen=True)
class ColorSpace:
    """A scene-linear RGB colour space.

    key: our short name (used by options, CLI, EXR attribute "colorspace").
    ocio_name: the colour space name in OCIO's built-in ACES CG config.
    chromaticities: (rx, ry, gx, gy, bx, by, wx, wy), CIE 1931 xy.
    label: human name.
    """

    key: str
    ocio_name: str
    chromaticities: tuple[float, float, float, float, float, float, float, float]
    label: str


_D65 = (0.3127, 0.3290)
_ACES_WHITE = (0.32168, 0.33767)

COLORSPACES: dict[str, ColorSpace] = {
    "lin_rec709": ColorSpace(
        "lin_rec709", "Linear Rec.709 (sRGB)", (0.640, 0.330, 0.300, 0.600, 0.150, 0.060) + _D65, "Linear Rec.709 (sRGB)"
    ),
    "acescg": ColorSpace(
        "acescg", "ACEScg", (0.713, 0.293, 0.165, 0.830, 0.128, 0.044) + _ACES_WHITE, "ACEScg (AP1)"
    ),
    "aces2065_1": ColorSpace(
        "aces2065_1", "ACES2065-1", (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.0770) + _ACES_WHITE, "ACES2065-1 (AP0)"
    ),
    "lin_rec2020": ColorSpace(
        "lin_rec2020", "Linear Rec.2020", (0.708, 0.292, 0.170, 0.797, 0.131, 0.046) + _D65, "Linear Rec.2020"
    ),
}


def get_colorspace(key: str) -> ColorSpace:
    """The :class:`ColorSpace` for ``key``; SingleHDRError if unknown."""
    try:
        return COLORSPACES[key]
    except KeyError:
        raise SingleHDRError(f"unknown colour space {key!r}; choose one of: {', '.join(COLORSPACES)}") from None


@functools.lru_cache(maxsize=1)
def ocio_config():  # -> PyOpenColorIO.Config
    """OCIO's built-in ACES CG config (cached)."""
    import PyOpenColorIO as OCIO

    last: Exception | None = None
    for name in BUILTIN_CONFIGS:
        try:
            return OCIO.Config.CreateFromBuiltinConfig(name)
        except Exception as exc:  # an older OCIO without this config name
            last = exc
    raise SingleHDRError(f"OpenColorIO has no built-in ACES config ({last}); install opencolorio>=2.3")


@functools.lru_cache(maxsize=32)
def _processor(src: str, dst: str):  # -> PyOpenColorIO.CPUProcessor
    cfg = ocio_config()
    return cfg.getProcessor(get_colorspace(src).ocio_name, get_colorspace(dst).ocio_name).getDefaultCPUProcessor()


def conversion_matrix(src: str, dst: str) -> np.ndarray:
    """The 3x3 matrix M with rgb_dst = M @ rgb_src, measured through OCIO.

    Returns (3, 3) float64.  Column j is the image of the j-th unit primary.
    """
    eye = np.eye(3, dtype=np.float32).copy()
    _processor(src, dst).applyRGB(eye)  # rows are transformed unit vectors
    return eye.T.astype(np.float64)


def convert_linear(hdr_linear: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Convert scene-linear RGB from colour space ``src`` to ``dst``.

    hdr_linear: (H, W, 3) (or (..., 3)) float; returns float32 of the same
    shape, a new array.  Uses OCIO's built-in ACES CG config (a 3x3 matrix
    transform with Bradford/CAT02 white adaptation as defined by the config).
    """
    get_colorspace(src)
    get_colorspace(dst)
    a = np.asarray(hdr_linear, dtype=np.float32)
    if a.shape[-1] != 3:
        raise SingleHDRError(f"expected an (..., 3) RGB array, got shape {a.shape}")
    if src == dst:
        return a.copy()
    out = np.ascontiguousarray(a.reshape(-1, 3)).copy()
    _processor(src, dst).applyRGB(out)
    return out.reshape(a.shape)
