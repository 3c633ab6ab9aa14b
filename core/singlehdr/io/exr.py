"""OpenEXR read/write with the official ``OpenEXR`` 3.x Python bindings.

Writes single-part scanline RGB or RGBA images, half or float, with a chosen
compression, the standard ``chromaticities`` attribute (OpenEXR technical
introduction, "Standard Attributes") for the colour space, and custom string
/ float attributes for provenance (``singlehdr:*``).

Reads any single-part (or the first part of a multi-part) scanline/tiled EXR
with R, G, B (optionally A) channels, luminance/chroma Y, RY, BY channels, or
a luminance-only Y channel, into float32 (H, W, 3) plus a metadata dict.
Primaries that are none of ours are converted to lin_rec709; deep images are
refused.  OpenEXR's own messages are captured (:mod:`.native`) and folded
into the one-line error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..colour import HALF_MAX  # noqa: F401 - the half range (writers and callers import it from here)
from ..errors import SingleHDRError
from .atomic import atomic_output
from .colorspace import COLORSPACES, get_colorspace


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
    from .native import captured

    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        cap = None
        try:
            with captured("OpenEXR") as cap:
                OpenEXR.File(header, channels).write(str(tmp))
        except (RuntimeError, ValueError, TypeError) as exc:
            detail = (cap.first_line() if cap is not None else "") or " ".join(str(exc).split())
            raise SingleHDRError(f"cannot write EXR {path}: {detail}") from None
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


def _library_error(p: Path, what: str, exc: BaseException, cap: Any) -> SingleHDRError:
    """One line for a failed OpenEXR call: the library's own message (captured) beats
    the binding's exception text (which says "file has 0 parts" for most damage)."""
    detail = cap.first_line() if cap is not None else ""
    if not detail:
        detail = " ".join(str(exc).split())[:200]
    return SingleHDRError(f"cannot read EXR {p.name}: {what} ({detail})")


def read_exr_header(path: str | PathLike[str]) -> dict[str, Any]:
    """Read only the header: dict with width, height, channels, compression, ... .

    Deep (deepscanline/deeptile) images are refused in one line: they hold a
    variable number of samples per pixel, not an image.
    """
    import OpenEXR

    from .native import captured

    p = Path(path)
    cap = None
    try:
        with captured("OpenEXR") as cap:
            f = OpenEXR.File(str(p), header_only=True)
            header = f.header()
    except Exception as exc:
        raise _library_error(p, "not a valid or complete OpenEXR file", exc, cap) from None
    kind = str(_plain(header.get("type", "")) or "").lower()
    if "deep" in kind:
        raise SingleHDRError(f"{p.name} is a deep OpenEXR image ({kind}); flatten it (e.g. Nuke DeepToImage) and save a plain RGB EXR")
    try:
        (x0, y0), (x1, y1) = (np.asarray(v).tolist() for v in header["dataWindow"])
    except (KeyError, TypeError, ValueError):
        raise SingleHDRError(f"cannot read EXR {p.name}: no valid dataWindow in the header") from None
    w, h = int(x1 - x0 + 1), int(y1 - y0 + 1)
    if w < 1 or h < 1:
        raise SingleHDRError(f"{p.name} has no pixels (data window {w}x{h})")
    try:
        names = [getattr(c, "name", str(c)) for c in header.get("channels", [])]
    except (UnicodeDecodeError, TypeError, ValueError) as exc:
        raise SingleHDRError(f"cannot read EXR {p.name}: corrupt channel list ({exc})") from None
    return {"width": w, "height": h, "channels": names, "header": header}


def _find(chans: Mapping[str, Any], names: list[str], letter: str) -> str | None:
    for n in (letter, letter.lower()):
        if n in chans:
            return n
    for n in names:  # a layer such as "beauty.R"
        if n.split(".")[-1] in (letter, letter.lower()):
            return n
    return None


def _sampling(ch: Any) -> tuple[int, int]:
    return int(getattr(ch, "xSampling", 1) or 1), int(getattr(ch, "ySampling", 1) or 1)


def _pixels(p: Path, ch: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    """A channel's pixels as float32 of ``shape``; one-line refusal for odd data."""
    try:
        a = np.asarray(ch.pixels)
        if a.dtype == object or a.shape != shape:
            raise ValueError(f"shape {a.shape}")
        return a.astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise SingleHDRError(f"cannot read EXR {p.name}: channel {name} has unexpected data ({exc}); re-export it as plain RGB") from None


def _to_working_space(p: Path, rgb: np.ndarray, chroma: Any) -> tuple[np.ndarray, str, list[float] | None]:
    """Pixels with chromaticities that are none of ours -> lin_rec709 (Bradford to D65)."""
    from .exr_yc import rgb_to_xyz_matrix

    try:
        src = rgb_to_xyz_matrix(chroma)
        dst = rgb_to_xyz_matrix(COLORSPACES["lin_rec709"].chromaticities)
    except ValueError as exc:
        vals = ", ".join(f"{v:g}" for v in np.asarray(chroma, dtype=np.float64).ravel()[:8])
        raise SingleHDRError(f"{p.name} declares unusable chromaticities ({vals}): {exc}; fix the header or re-export with Rec.709 primaries") from None
    bradford = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    w_src = src @ np.ones(3)
    w_dst = dst @ np.ones(3)
    cone = np.diag((bradford @ w_dst) / (bradford @ w_src))
    with np.errstate(all="ignore"):
        m = np.linalg.inv(dst) @ np.linalg.inv(bradford) @ cone @ bradford @ src
        if not np.all(np.isfinite(m)) or np.abs(m).max() > 1e4:  # primaries far outside the spectral locus
            vals = ", ".join(f"{v:g}" for v in np.asarray(chroma, dtype=np.float64).ravel()[:8])
            raise SingleHDRError(f"{p.name} declares unusable chromaticities ({vals}); fix the header or re-export with Rec.709 primaries")
        out = (rgb.reshape(-1, 3).astype(np.float64) @ m.T).astype(np.float32).reshape(rgb.shape)
    return out, "lin_rec709", [float(v) for v in np.asarray(chroma, dtype=np.float64).ravel()]


def read_exr(path: str | PathLike[str], *, max_pixels: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an EXR into (hdr_linear (H, W, 3) float32, meta): see :func:`_read_exr`."""
    try:
        return _read_exr(path, max_pixels=max_pixels)
    except (UnicodeDecodeError, KeyError, IndexError, AttributeError, TypeError) as exc:  # a damaged header the binding let through
        raise SingleHDRError(f"cannot read EXR {Path(path).name}: corrupt header ({type(exc).__name__}: {exc})") from None


def _read_exr(path: str | PathLike[str], *, max_pixels: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an EXR into (hdr_linear (H, W, 3) float32, meta).

    meta keys: format ("exr"), width, height, channels (names), pixel_type
    ("half"|"float"|"uint"), compression (short name), chromaticities,
    colorspace (from ``singlehdr:colorspace`` or matched chromaticities),
    alpha ((H, W) float32 or None), attributes (all other header attributes
    as plain values), converted_from_chromaticities (set when the file's
    primaries were none of ours: the pixels were converted to lin_rec709).

    Channels: R, G, B (optionally A, also inside a layer such as beauty.R);
    else luminance/chroma Y, RY, BY (converted to RGB as OpenEXR's RGBA
    interface does, see :mod:`.exr_yc`); else Y or a single channel (grey).
    Raises SingleHDRError for unreadable or deep files, > max_pixels, no
    usable channel, or degenerate chromaticities.
    """
    import OpenEXR

    from .native import captured

    p = Path(path)
    info = read_exr_header(p)
    w, h = info["width"], info["height"]
    if max_pixels is not None and w * h > max_pixels:
        raise SingleHDRError(
            f"{p.name} is {w}x{h} = {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit; raise --max-pixels to read it"
        )
    cap = None
    try:
        with captured("OpenEXR") as cap:
            f = OpenEXR.File(str(p), separate_channels=True)
            chans = f.channels()
            header = f.header()
    except Exception as exc:
        raise _library_error(p, "truncated or corrupt file", exc, cap) from None
    if not chans:
        detail = cap.first_line() if cap is not None else ""
        raise SingleHDRError(f"cannot read EXR {p.name}: truncated or corrupt file ({detail or 'no pixel data'})")
    order = {"R": 0, "G": 1, "B": 2, "A": 3}
    names = sorted(chans, key=lambda n: (order.get(n.split(".")[-1].upper(), 4), n))
    rn, gn, bn, an = (_find(chans, names, c) for c in "RGBA")
    yn, ryn, byn = _find(chans, names, "Y"), _find(chans, names, "RY"), _find(chans, names, "BY")
    chroma = header.get("chromaticities")
    full = (h, w)
    for n in (rn, gn, bn, an, yn):
        if n and _sampling(chans[n]) != (1, 1):
            raise SingleHDRError(f"{p.name}: channel {n} is subsampled {_sampling(chans[n])}; only RY/BY may be; re-export it")
    if rn and gn and bn:
        rgb = np.stack([_pixels(p, chans[n], n, full) for n in (rn, gn, bn)], axis=-1)
        used = chans[rn]
    elif yn and ryn and byn:
        from .exr_yc import yc_to_rgb

        half_shape = ((h + 1) // 2, (w + 1) // 2)
        for n in (ryn, byn):
            if _sampling(chans[n]) != (2, 2):
                raise SingleHDRError(f"{p.name}: chroma channel {n} is sampled {_sampling(chans[n])}, not 2x2 as OpenEXR's luminance/chroma images are; re-export as RGB")
        ry, by = (_pixels(p, chans[n], n, half_shape) for n in (ryn, byn))
        try:
            rgb = yc_to_rgb(_pixels(p, chans[yn], yn, full), ry, by, chroma)
        except ValueError as exc:
            raise SingleHDRError(f"{p.name} declares unusable chromaticities ({exc}); fix the header or re-export as RGB") from None
        used = chans[yn]
    elif yn or len(names) == 1:
        used = chans[yn or names[0]]
        if _sampling(used) != (1, 1):
            raise SingleHDRError(f"{p.name}: its only channel is subsampled {_sampling(used)}; re-export it")
        grey = _pixels(p, used, yn or names[0], full)
        rgb = np.repeat(grey[..., None], 3, axis=2)
    else:
        raise SingleHDRError(f"{p.name} has no R, G, B (or Y) channels (it has: {', '.join(names)}); export an RGB EXR")
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    alpha = _pixels(p, chans[an], an, full) if an else None
    pixel_type = {"HALF": "half", "FLOAT": "float", "UINT": "uint"}.get(str(getattr(used.type(), "name", "")), "unknown")
    attrs = {
        k: _plain(v)
        for k, v in header.items()
        if k not in ("channels", "compression", "dataWindow", "displayWindow", "chromaticities")
    }
    cs = header.get(ATTR_PREFIX + "colorspace")
    if not isinstance(cs, str) or cs not in COLORSPACES:
        cs = _colorspace_from_chromaticities(chroma)
    converted = None
    if cs is None:
        if chroma is not None:
            rgb, cs, converted = _to_working_space(p, rgb, chroma)
        else:
            cs = "lin_rec709"  # the OpenEXR default primaries (Rec.709, D65) when none are declared
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
        "converted_from_chromaticities": converted,
    }
    return rgb, meta
