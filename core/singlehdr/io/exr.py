"""OpenEXR read/write with the official ``OpenEXR`` 3.x Python bindings.

Writes single-part scanline RGB or RGBA images, half or float, with a chosen
compression, the standard ``chromaticities`` attribute (OpenEXR technical
introduction, "Standard Attributes") for the colour space, and custom string
/ float attributes for provenance (``singlehdr:*``).

Reads any single-part (or the first part of a multi-part) scanline/tiled EXR
with R, G, B (optionally A) channels, or a luminance-only Y channel, into
float32 (H, W, 3) plus a metadata dict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from .atomic import atomic_output
from .colorspace import COLORSPACES, get_colorspace

HALF_MAX = 65504.0  # largest finite IEEE 754 binary16 value

# Our short names -> OpenEXR Compression enum member names.
COMPRESSIONS = {
    "none": "NO_COMPRESSION",
    "rle": "RLE_COMPRESSION",
    "zips": "ZIPS_COMPRESSION",
    "zip": "ZIP_COMPRESSION",
    "piz": "PIZ_COMPRESSION",
    "pxr24": "PXR24_COMPRESSION",
    "b44": "B44_COMPRESSION",
    "b44a": "B44A_COMPRESSION",
    "dwaa": "DWAA_COMPRESSION",
    "dwab": "DWAB_COMPRESSION",
}
LOSSLESS_COMPRESSIONS = ("none", "rle", "zips", "zip", "piz")

ATTR_PREFIX = "singlehdr:"


def _compression_enum(name: str):
    import OpenEXR

    key = str(name).lower()
    if key not in COMPRESSIONS or not hasattr(OpenEXR, COMPRESSIONS[key]):
        raise SingleHDRError(f"unknown EXR compression {name!r}; choose one of: {', '.join(COMPRESSIONS)}")
    return getattr(OpenEXR, COMPRESSIONS[key])


def _compression_name(value: Any) -> str:
    text = str(getattr(value, "name", value))
    for key, enum_name in COMPRESSIONS.items():
        if text == enum_name:
            return key
    return text.lower().replace("_compression", "")


def _attribute_value(value: Any) -> Any:
    """A header-safe value: str, int or float; other things as JSON text."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, PathLike):
        return os.fspath(value)
    return json.dumps(value, default=str, sort_keys=True)


def check_hdr_array(hdr_linear: np.ndarray, alpha: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an (H, W, 3) HDR array (+ optional (H, W) alpha) for writing.

    Returns float32 C-contiguous copies-or-views.  NaN/Inf are refused.
    """
    a = np.asarray(hdr_linear)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise SingleHDRError(f"expected an (H, W, 3) HDR array to write, got shape {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise SingleHDRError("HDR image contains NaN or Inf values; refusing to write it")
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=np.float32)
        if alpha.ndim == 3 and alpha.shape[2] == 1:
            alpha = alpha[..., 0]
        if alpha.shape != a.shape[:2]:
            raise SingleHDRError(f"alpha shape {alpha.shape} does not match the image {a.shape[:2]}")
        alpha = np.ascontiguousarray(alpha)
    return a, alpha


def write_exr(
    path: str | PathLike[str],
    hdr_linear: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    half: bool = True,
    compression: str = "zip",
    colorspace: str = "lin_rec709",
    attributes: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Write an OpenEXR file atomically; returns the path.

    hdr_linear: (H, W, 3) float, scene-linear in ``colorspace``.
    alpha: (H, W) or None -> RGB or RGBA channels.
    half: 16-bit half (values clipped to +-65504, the half range) or 32-bit float.
    compression: one of COMPRESSIONS ("zip" default; "piz", "dwaa", "none", ...).
    colorspace: key of COLORSPACES; written as the ``chromaticities`` attribute
        and as the string attribute ``singlehdr:colorspace``.
    attributes: extra header attributes (str/int/float; others stored as JSON).
    """
    import OpenEXR

    rgb, alpha = check_hdr_array(hdr_linear, alpha)
    cs = get_colorspace(colorspace)
    header: dict[str, Any] = {
        "compression": _compression_enum(compression),
        "type": OpenEXR.scanlineimage,
        "chromaticities": tuple(float(v) for v in cs.chromaticities),
        ATTR_PREFIX + "colorspace": cs.key,
    }
    for key, value in (attributes or {}).items():
        if value is None or key in ("channels", "compression", "type", "dataWindow", "displayWindow", "chromaticities"):
            continue
        header[str(key)] = _attribute_value(value)
    dtype = np.float16 if half else np.float32
    if half:
        rgb = np.clip(rgb, -HALF_MAX, HALF_MAX)
    channels = {
        "R": np.ascontiguousarray(rgb[..., 0].astype(dtype)),
        "G": np.ascontiguousarray(rgb[..., 1].astype(dtype)),
        "B": np.ascontiguousarray(rgb[..., 2].astype(dtype)),
    }
    if alpha is not None:
        channels["A"] = np.ascontiguousarray(alpha.astype(dtype))
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        try:
            OpenEXR.File(header, channels).write(str(tmp))
        except (RuntimeError, ValueError, TypeError) as exc:
            raise SingleHDRError(f"cannot write EXR {path}: {exc}") from None
    return Path(path)


def _plain(value: Any) -> Any:
    """Header values as plain Python (lists, floats, strings)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if hasattr(value, "name") and type(value).__module__.startswith("OpenEXR"):
        return str(value.name)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _colorspace_from_chromaticities(chroma: Any) -> str | None:
    if chroma is None:
        return None
    c = np.asarray(chroma, dtype=np.float64).ravel()
    for key, cs in COLORSPACES.items():
        if c.shape == (8,) and np.allclose(c, cs.chromaticities, atol=2e-3):
            return key
    return None


def read_exr_header(path: str | PathLike[str]) -> dict[str, Any]:
    """Read only the header: dict with width, height, channels, compression, ... ."""
    import OpenEXR

    p = Path(path)
    try:
        f = OpenEXR.File(str(p), header_only=True)
        header = f.header()
    except Exception as exc:
        raise SingleHDRError(f"cannot read EXR {p}: not a valid or complete OpenEXR file ({exc})") from None
    (x0, y0), (x1, y1) = (np.asarray(v).tolist() for v in header["dataWindow"])
    chans = header.get("channels", [])
    return {
        "width": int(x1 - x0 + 1),
        "height": int(y1 - y0 + 1),
        "channels": [getattr(c, "name", str(c)) for c in chans],
        "header": header,
    }


def read_exr(path: str | PathLike[str], *, max_pixels: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an EXR into (hdr_linear (H, W, 3) float32, meta).

    meta keys: format ("exr"), width, height, channels (names), pixel_type
    ("half"|"float"|"uint"), compression (short name), chromaticities,
    colorspace (from ``singlehdr:colorspace`` or matched chromaticities, else
    None), alpha ((H, W) float32 or None), attributes (all other header
    attributes as plain values).
    Raises SingleHDRError for unreadable files, > max_pixels, no RGB/Y channel.
    """
    import OpenEXR

    p = Path(path)
    info = read_exr_header(p)
    w, h = info["width"], info["height"]
    if max_pixels is not None and w * h > max_pixels:
        raise SingleHDRError(
            f"{p.name} is {w}x{h} = {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit; raise --max-pixels to read it"
        )
    try:
        f = OpenEXR.File(str(p), separate_channels=True)
        chans = f.channels()
        header = f.header()
    except Exception as exc:
        raise SingleHDRError(f"cannot read EXR {p}: truncated or corrupt file ({exc})") from None
    if not chans:
        raise SingleHDRError(f"cannot read EXR {p}: truncated or corrupt file (no pixel data)")
    order = {"R": 0, "G": 1, "B": 2, "A": 3}
    names = sorted(chans, key=lambda n: (order.get(n.split(".")[-1].upper(), 4), n))

    def find(letter: str) -> str | None:
        for n in (letter, letter.lower()):
            if n in chans:
                return n
        for n in names:  # a layer such as "beauty.R"
            if n.split(".")[-1] in (letter, letter.lower()):
                return n
        return None

    rn, gn, bn, an, yn = find("R"), find("G"), find("B"), find("A"), find("Y")
    if rn and gn and bn:
        planes = [chans[rn].pixels, chans[gn].pixels, chans[bn].pixels]
        used = chans[rn]
    elif yn or len(names) == 1:
        used = chans[yn or names[0]]
        planes = [used.pixels] * 3
    else:
        raise SingleHDRError(f"{p.name} has no R, G, B (or Y) channels (it has: {', '.join(names)}); export an RGB EXR")
    rgb = np.stack([np.asarray(c, dtype=np.float32) for c in planes], axis=-1)
    alpha = np.asarray(chans[an].pixels, dtype=np.float32) if an else None
    pixel_type = {"HALF": "half", "FLOAT": "float", "UINT": "uint"}.get(str(getattr(used.type(), "name", "")), "unknown")
    attrs = {
        k: _plain(v)
        for k, v in header.items()
        if k not in ("channels", "compression", "dataWindow", "displayWindow", "chromaticities")
    }
    chroma = header.get("chromaticities")
    cs = header.get(ATTR_PREFIX + "colorspace")
    if cs not in COLORSPACES:
        cs = _colorspace_from_chromaticities(chroma)
    meta: dict[str, Any] = {
        "format": "exr",
        "width": int(rgb.shape[1]),
        "height": int(rgb.shape[0]),
        "channels": names,
        "pixel_type": pixel_type,
        "compression": _compression_name(header.get("compression")),
        "chromaticities": _plain(chroma) if chroma is not None else None,
        "colorspace": cs,
        "alpha": alpha,
        "attributes": attrs,
    }
    return rgb, meta
