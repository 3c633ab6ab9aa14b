"""singlehdr.io: reading LDR photos, reading and writing HDR images.

Public API::

    read_ldr(path, *, max_pixels=200e6) -> LDRImage
    read_hdr(path, *, max_pixels=200e6) -> (hdr_linear (H, W, 3) float32, meta)
    write_hdr(path, hdr_linear, *, alpha=None, half=True, compression="zip",
              colorspace="lin_rec709", attributes=None, overwrite=False, inputs=()) -> Path
    write_ldr(path, ldr_srgb_or_uint8, *, overwrite=False, quality=95) -> Path
    write_result(path, result: HDRResult, **kw) -> Path   (EXR/HDR with provenance)

All writers are atomic (temp file + os.replace), refuse an existing output
unless ``overwrite`` and always refuse a path listed in ``inputs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from .ldr import DEFAULT_MAX_PIXELS, check_format, read_ldr, write_ldr

HDR_WRITE_EXTENSIONS = (".exr", ".hdr")


def read_hdr(path: str | PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS,
             allow_nonfinite: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an EXR or Radiance .hdr file.

    Returns (hdr_linear (H, W, 3) float32, meta).  meta has format, width,
    height, channels, pixel_type, compression, chromaticities, colorspace,
    alpha ((H, W) float32 or None), attributes (header attributes) and
    "path".  NaN/Inf pixels raise SingleHDRError unless ``allow_nonfinite``.
    """
    import warnings

    p = Path(path)
    fmt = check_format(p, ("exr", "radiance"))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # damaged data: Inf/NaN are reported below
        warnings.simplefilter("ignore")
        if fmt == "exr":
            from .exr import read_exr

            hdr, meta = read_exr(p, max_pixels=max_pixels)
        else:
            from .radiance import read_radiance

            hdr, meta = read_radiance(p, max_pixels=max_pixels)
    if not allow_nonfinite:
        bad = ~np.isfinite(hdr)
        if bad.any():
            n = int(bad.any(axis=2).sum())
            raise SingleHDRError(f"{p.name} has {n} pixels with NaN or Inf values; clamp or fix them (e.g. in Nuke) first")
    meta["path"] = str(p)
    return hdr, meta


def write_hdr(
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
    """Write an HDR image; the suffix picks the format (.exr or .hdr).

    hdr_linear: (H, W, 3) float, scene-linear in ``colorspace``.  For .hdr
    the alpha, ``half`` and ``compression`` are ignored (RGBE, RLE) and
    negative values become 0.  Returns the path.
    """
    from .atomic import check_output_path

    p = check_output_path(path, overwrite=overwrite, inputs=inputs)  # an input is refused before anything else
    ext = p.suffix.lower()
    if ext == ".exr":
        from .exr import write_exr

        return write_exr(p, hdr_linear, alpha=alpha, half=half, compression=compression, colorspace=colorspace,
                         attributes=attributes, overwrite=overwrite, inputs=inputs)
    if ext == ".hdr":
        from .radiance import write_radiance

        return write_radiance(p, hdr_linear, colorspace=colorspace, attributes=attributes, overwrite=overwrite,
                              inputs=inputs)
    raise SingleHDRError(f"cannot write HDR as {ext or 'an extension-less file'}; use .exr or .hdr")


def provenance_attributes(result: Any) -> dict[str, Any]:
    """EXR header attributes (``singlehdr:*``) for an :class:`HDRResult`.

    Keys: singlehdr:version, :method, :model_id, :exposure_mode,
    :exposure_scale, :input_kind, :source, :device, :colorspace, for
    brackets :response (asked), :response_used (what "auto" chose) and
    :response_scores (JSON), plus the source EXIF exposure fields as
    singlehdr:exif:<Tag>.
    """
    from ..version import __version__

    meta = dict(getattr(result, "metadata", {}) or {})
    out: dict[str, Any] = {"singlehdr:version": meta.get("singlehdr_version", __version__)}
    for key in ("method", "model_id", "exposure_mode", "input_kind", "source", "device", "response", "response_used"):
        if meta.get(key) is not None:
            out[f"singlehdr:{key}"] = str(meta[key])
    if meta.get("response_scores"):
        import json

        out["singlehdr:response_scores"] = json.dumps(meta["response_scores"], sort_keys=True)
    scale = getattr(result, "scale", None)
    out["singlehdr:exposure_scale"] = float(scale if scale is not None else meta.get("exposure_scale", 1.0))
    out["singlehdr:colorspace"] = str(getattr(result, "colorspace", "lin_rec709"))
    for key, val in (meta.get("source_exif") or {}).items():
        if isinstance(val, (int, float, str)) and key not in ("ISO", "ExposureBias"):
            out[f"singlehdr:exif:{key}"] = val
    return out


def write_result(path: str | PathLike[str], result: Any, **kw: Any) -> Path:
    """Write an :class:`HDRResult` (pixels, alpha, colour space, provenance)."""
    attrs = provenance_attributes(result)
    attrs.update(kw.pop("attributes", None) or {})
    return write_hdr(path, result.hdr_linear, alpha=result.alpha, colorspace=result.colorspace, attributes=attrs, **kw)


__all__ = [
    "read_ldr",
    "read_hdr",
    "write_hdr",
    "write_ldr",
    "write_result",
    "provenance_attributes",
    "DEFAULT_MAX_PIXELS",
    "HDR_WRITE_EXTENSIONS",
]
