"""Camera RAW and DNG files read with rawpy (LibRaw): linear sensor data, never a tone curve.

    from singlehdr.io.raw import read_raw
    raw = read_raw("IMG_0001.dng")
    raw.hdr_linear   # (H, W, 3) float32 linear Rec.709 / sRGB primaries, white balanced
    raw.clip         # (H, W) bool: where any sensor channel reached its clip point

LibRaw (through ``rawpy.postprocess``) subtracts the black level per
channel, scales by the white level, applies the file's white balance
(as-shot multipliers) and its colour matrix to linear sRGB primaries and
demosaics; we ask for gamma (1, 1), no auto-brightening and 16-bit output,
so values are linear: 1.0 = sensor saturation of the least-amplified channel.
The clip mask comes from the mosaic itself: a photosite at or above its
channel's white level (LibRaw's per-channel level when the file has one),
dilated by one pixel for the demosaic's reach.

rawpy is an optional extra: ``pip install 'singlehdr[raw]'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError

#: File extensions taken as camera RAW (LibRaw reads many more; these route to it).
RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
                  ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mef", ".mos", ".mrw", ".raw", ".rwl")
#: A photosite within this many DN of its white level counts as clipped.
CLIP_MARGIN_DN = 2


def is_raw_path(path: str | PathLike[str]) -> bool:
    """True for a file name LibRaw should read (by extension)."""
    return Path(path).suffix.lower() in RAW_EXTENSIONS


@dataclass
class RawImage:
    """A RAW file as linear HDR.

    hdr_linear: (H, W, 3) float32, linear, sRGB/Rec.709 primaries, white balanced;
    clip: (H, W) bool, sensor clipping; black_level: per CFA channel (DN);
    white_level: per CFA channel (DN); wb_multipliers: the as-shot
    multipliers applied (normalised to min 1); exif: exposure facts LibRaw
    reports (ExposureTime, FNumber, ISO, FocalLength) where known.
    """

    hdr_linear: np.ndarray
    clip: np.ndarray
    black_level: list[float]
    white_level: list[float]
    wb_multipliers: list[float]
    exif: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def _rawpy():  # -> module
    try:
        import rawpy
    except ImportError:
        raise SingleHDRError("reading camera RAW / DNG needs rawpy; install it with: pip install 'singlehdr[raw]'") from None
    return rawpy


def _exif(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    other = getattr(raw, "other", None)  # rawpy >= 0.28 (LibRaw imgother), when present
    if other is not None:
        for src, key in (("shutter_speed", "ExposureTime"), ("aperture", "FNumber"), ("iso_speed", "ISO"), ("focal_length", "FocalLength")):
            v = getattr(other, src, None)
            if v is not None and float(v) > 0:
                out[key] = float(v)
    return out


def _orient(a: np.ndarray, flip: int) -> np.ndarray:
    # LibRaw's sizes.flip: 0 none, 3 180 deg, 5 90 deg CCW, 6 90 deg CW
    if flip == 3:
        return a[::-1, ::-1]
    if flip == 5:
        return np.rot90(a, 1)
    if flip == 6:
        return np.rot90(a, -1)
    return a


def read_raw(path: str | PathLike[str], *, max_pixels: int | None = None, half_size: bool = False) -> RawImage:
    """Read a camera RAW / DNG as linear HDR with its clip mask.  See :class:`RawImage`.

    half_size: LibRaw's half-size mode: each 2x2 Bayer quad becomes one RGB
    pixel (no demosaic, no interpolation error; half the width and height),
    the clip mask is then any saturated photosite of the quad.

    Raises SingleHDRError (one line) when rawpy is missing, the file is
    missing / empty, or LibRaw cannot read it.
    """
    from ..io.ldr import DEFAULT_MAX_PIXELS

    rawpy = _rawpy()
    p = Path(path)
    if not p.is_file():
        raise SingleHDRError(f"{p} does not exist or is not a file")
    if p.stat().st_size == 0:
        raise SingleHDRError(f"{p.name} is empty (0 bytes)")
    cap = max_pixels or DEFAULT_MAX_PIXELS
    try:
        raw = rawpy.imread(str(p))
    except Exception as exc:  # LibRawFileUnsupportedError, LibRawIOError, ...
        kind = type(exc).__name__.replace("LibRaw", "").replace("Error", "").lower() or "read"
        raise SingleHDRError(f"cannot read {p.name} as camera RAW: LibRaw says {kind} ({exc}); "
                             f"convert it to DNG with Adobe DNG Converter or pass a JPEG/TIFF") from None
    try:
        with raw:
            sizes = raw.sizes
            if sizes.width * sizes.height > cap:
                raise SingleHDRError(f"{p.name} is {sizes.width}x{sizes.height}, above the {cap / 1e6:.0f} MP limit; raise --max-pixels")
            mosaic = np.asarray(raw.raw_image_visible)
            black = [float(v) for v in raw.black_level_per_channel]
            wl = getattr(raw, "camera_white_level_per_channel", None)
            white = [float(v) for v in wl] if wl is not None else [float(raw.white_level)] * 4
            if mosaic.ndim == 2:
                colors = np.asarray(raw.raw_colors_visible)
                # raw_colors indexes 0..3 (R, G, B, G2); levels are per those indices
                lvl = np.asarray(white, dtype=np.float64)[np.clip(colors, 0, 3)]
                sat = mosaic.astype(np.float64) >= lvl - CLIP_MARGIN_DN
            else:
                sat = np.any(mosaic.astype(np.float64) >= float(raw.white_level) - CLIP_MARGIN_DN, axis=-1)
            wb = [float(v) for v in raw.camera_whitebalance]
            rgb = raw.postprocess(
                gamma=(1, 1), no_auto_bright=True, output_bps=16, use_camera_wb=True, use_auto_wb=False,
                output_color=rawpy.ColorSpace.sRGB, highlight_mode=rawpy.HighlightMode.Clip, user_flip=0,
                half_size=bool(half_size),
            )
            flip = int(sizes.flip)
            exif = _exif(raw)
    except SingleHDRError:
        raise
    except Exception as exc:
        raise SingleHDRError(f"cannot decode {p.name}: LibRaw failed ({type(exc).__name__}: {exc}); the file may be truncated") from None
    hdr = np.asarray(rgb, dtype=np.float32) / 65535.0
    if half_size and sat.ndim == 2:
        hh, ww = sat.shape[0] // 2 * 2, sat.shape[1] // 2 * 2
        sat = sat[:hh, :ww].reshape(hh // 2, 2, ww // 2, 2).any(axis=(1, 3))
    if sat.shape != hdr.shape[:2]:
        # LibRaw may crop a few margin pixels: align the masks by their top-left corner
        hh, ww = hdr.shape[:2]
        pad = np.zeros((max(hh, sat.shape[0]), max(ww, sat.shape[1])), bool)
        pad[: sat.shape[0], : sat.shape[1]] = sat
        sat = pad[:hh, :ww]
    import cv2

    reach = 1 if half_size else 3  # the demosaic spreads a clipped photosite to its neighbours
    clip = cv2.dilate(sat.astype(np.uint8), np.ones((reach, reach), np.uint8)).astype(bool) | np.any(hdr >= 0.999, axis=-1)
    hdr, clip = _orient(hdr, flip), _orient(clip, flip)
    live = [v for v in wb[:3] if v > 0]
    mults = [v / min(live) if v > 0 and live else 1.0 for v in wb]
    return RawImage(hdr_linear=np.ascontiguousarray(hdr), clip=np.ascontiguousarray(clip), black_level=black,
                    white_level=white, wb_multipliers=mults, exif=exif, path=p)
