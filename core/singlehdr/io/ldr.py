"""Reading and writing LDR photos and plates (8/16-bit, display-referred).

read_ldr: JPEG, PNG (8/16-bit), TIFF (8/16-bit), WebP, BMP, HEIC/HEIF (with
pillow-heif).  The format is sniffed from the first bytes and must match the
file extension.  Pixel size is checked from the header *before* decoding.
EXIF orientation is applied (EXIF 2.32, tag 0x0112 "Orientation"), exposure
EXIF and GPano XMP are kept as plain values.

8-bit data go through Pillow.  Pillow decodes 16-bit RGB PNG/TIFF as 8-bit,
so 16-bit files are decoded with OpenCV (``cv2``) or, failing that,
OpenImageIO; values are checked to stay 16-bit.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from ..types import LDRImage
from .atomic import atomic_output, check_output_path

DEFAULT_MAX_PIXELS = 200_000_000  # 200 MP; raise with --max-pixels
#: Smallest accepted image side: below it there is no photo to reconstruct.
MIN_SIDE = 4
#: Largest accepted ratio of the long side to the short side (a 360 strip is ~10:1).
#: The networks estimate the camera curve on a copy scaled to a fixed size, which
#: would have no rows left at extreme ratios (e.g. 8x20000).
MAX_ASPECT = 64


def check_image_shape(height: int, width: int, name: str = "the image") -> None:
    """SingleHDRError unless MIN_SIDE <= each side and long / short <= MAX_ASPECT.

    Checked by :func:`singlehdr.reconstruct` (so by every command and host that
    reconstructs); reading a tiny image for ``info`` stays possible.  (The
    maximum size in pixels is ``max_pixels``, checked by the readers.)"""
    h, w = int(height), int(width)
    if min(h, w) < MIN_SIDE:
        raise SingleHDRError(f"{name} is {w}x{h} pixels; images need at least {MIN_SIDE} pixels on each side")
    if max(h, w) > MAX_ASPECT * min(h, w):
        raise SingleHDRError(
            f"{name} is {w}x{h} pixels, a {max(h, w) / min(h, w):.0f}:1 strip; the widest accepted ratio is "
            f"{MAX_ASPECT}:1 - crop it or split it into pieces")

# Sniffed format -> extensions allowed for it.
LDR_EXTENSIONS = {
    "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "png": (".png",),
    "tiff": (".tif", ".tiff"),
    "webp": (".webp",),
    "bmp": (".bmp",),
    "heif": (".heic", ".heif", ".hif", ".avif"),
}
HDR_EXTENSIONS = {"exr": (".exr",), "radiance": (".hdr", ".rgbe", ".pic")}
FORMAT_NAMES = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WebP", "bmp": "BMP", "heif": "HEIF/HEIC",
                "exr": "OpenEXR", "radiance": "Radiance HDR", "gif": "GIF"}


def sniff_format(head: bytes) -> str | None:
    """The image format from a file's first bytes (>= 16), or None if unknown.

    Magic numbers: JPEG FF D8 FF; PNG 89 'PNG' 0D 0A 1A 0A; TIFF 'II*\\0' or
    'MM\\0*'; WebP 'RIFF'....'WEBP'; BMP 'BM'; ISO-BMFF 'ftyp' box with a
    HEIF/AVIF brand; OpenEXR 76 2F 31 01; Radiance '#?RADIANCE' / '#?RGBE'.
    """
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"\x76\x2f\x31\x01":
        return "exr"
    if head[:2] == b"#?":
        return "radiance"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                                               b"msf1", b"avif", b"avis"):
        return "heif"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    return None


def _read_head(path: Path, n: int = 64) -> bytes:
    if not path.exists():
        raise SingleHDRError(f"input {path} does not exist; check the path")
    if path.is_dir():
        raise SingleHDRError(f"input {path} is a folder; pass an image file")
    try:
        size = path.stat().st_size
        if size == 0:
            raise SingleHDRError(f"input {path} is empty (0 bytes); re-export or re-copy the file")
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise SingleHDRError(f"cannot open {path}: {exc.strerror or exc}") from None


def check_format(path: Path, kinds: Iterable[str]) -> str:
    """Sniff ``path`` and check the content against its extension.

    kinds: the formats the caller accepts (keys of LDR_EXTENSIONS/HDR_EXTENSIONS).
    Returns the sniffed format.  SingleHDRError if missing, empty, unknown,
    not accepted, or the extension names another format.
    """
    head = _read_head(path)
    fmt = sniff_format(head)
    ext = path.suffix.lower()
    if fmt is None:
        raise SingleHDRError(f"{path.name} is not a supported image (unrecognised content); use JPEG, PNG, TIFF, WebP, HEIC, EXR or .hdr")
    allowed = {**LDR_EXTENSIONS, **HDR_EXTENSIONS}.get(fmt, ())
    if not allowed:
        raise SingleHDRError(f"{FORMAT_NAMES.get(fmt, fmt)} files are not supported; convert {path.name} to PNG or JPEG")
    if ext not in allowed:
        raise SingleHDRError(
            f"{path.name} contains {FORMAT_NAMES.get(fmt, fmt)} data but its extension is {ext or '(none)'}; "
            f"rename it to {allowed[0] if allowed else 'the right extension'}"
        )
    if fmt not in kinds:
        if fmt in HDR_EXTENSIONS:
            raise SingleHDRError(f"{path.name} is already an HDR image ({FORMAT_NAMES[fmt]}); reconstruction needs an LDR photo (JPEG, PNG, TIFF, ...)")
        if fmt in LDR_EXTENSIONS:
            raise SingleHDRError(f"{path.name} is an LDR image ({FORMAT_NAMES[fmt]}), not an HDR image (EXR or .hdr)")
        raise SingleHDRError(f"{FORMAT_NAMES.get(fmt, fmt)} files are not supported; convert {path.name} to PNG or JPEG")
    return fmt


# ---------------------------------------------------------------- orientation
def apply_orientation(a: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an (H, W, ...) array stored with EXIF ``orientation`` upright.

    EXIF 2.32 tag 0x0112: 1 normal, 2 mirrored horizontally, 3 rotated 180,
    4 mirrored vertically, 5 transposed (mirror about the main diagonal),
    6 needs a 90 degree clockwise turn, 7 transverse (mirror about the
    anti-diagonal), 8 needs a 90 degree counter-clockwise turn.
    Same as Pillow's ImageOps.exif_transpose, which cannot be used: 16-bit RGB is decoded to numpy (no Pillow mode).
    """
    o = int(orientation or 1)
    if o == 2:
        a = a[:, ::-1]
    elif o == 3:
        a = a[::-1, ::-1]
    elif o == 4:
        a = a[::-1, :]
    elif o == 5:
        a = a.swapaxes(0, 1)
    elif o == 6:
        a = np.rot90(a, k=-1)
    elif o == 7:
        a = a[::-1, ::-1].swapaxes(0, 1)
    elif o == 8:
        a = np.rot90(a, k=1)
    return np.ascontiguousarray(a)


# ---------------------------------------------------------------- metadata
_EXIF_IFD = 0x8769
# tag -> our key; values become float (rationals) or str.
_EXIF_TAGS = {
    0x010F: "Make",
    0x0110: "Model",
    0x829A: "ExposureTime",
    0x829D: "FNumber",
    0x8827: "ISOSpeedRatings",
    0x8830: "SensitivityType",
    0x8832: "RecommendedExposureIndex",
    0x9003: "DateTimeOriginal",
    0x9201: "ShutterSpeedValue",
    0x9202: "ApertureValue",
    0x9204: "ExposureBiasValue",
    0x920A: "FocalLength",
    0xA405: "FocalLengthIn35mmFilm",
    0xA434: "LensModel",
}


def _plain_value(v: Any) -> Any:
    if isinstance(v, bytes):
        v = v.decode("latin-1", "replace")
    if isinstance(v, str):
        return v.strip("\x00 ").strip()
    if isinstance(v, (tuple, list)):
        return _plain_value(v[0]) if len(v) else None
    try:
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return str(v)
    return f if np.isfinite(f) else None


def exif_from_pillow(exif: Any) -> dict[str, Any]:
    """Exposure-related EXIF as plain floats/strings.

    Keys: the EXIF tag names above, plus the aliases ``ISO`` (=
    ISOSpeedRatings, a.k.a. PhotographicSensitivity, tag 0x8827) and
    ``ExposureBias`` (= ExposureBiasValue, EV) used by the exposure code.
    """
    out: dict[str, Any] = {}
    if not exif:
        return out
    merged: dict[int, Any] = dict(exif.items())
    try:
        merged.update(exif.get_ifd(_EXIF_IFD))
    except Exception:
        pass
    for tag, key in _EXIF_TAGS.items():
        if tag in merged:
            val = _plain_value(merged[tag])
            if val not in (None, ""):
                out[key] = val
    if "ISOSpeedRatings" in out:
        out["ISO"] = out["ISOSpeedRatings"]
    if "ExposureBiasValue" in out:
        out["ExposureBias"] = out["ExposureBiasValue"]
    return out


_XMP_ATTR = re.compile(r'(GPano:[A-Za-z0-9]+)\s*=\s*"([^"]*)"')
_XMP_ELEM = re.compile(r"<(GPano:[A-Za-z0-9]+)>([^<]*)</\1>")


def parse_gpano_xmp(xmp: bytes | str | None) -> dict[str, Any]:
    """GPano:* fields (Google Photo Sphere XMP metadata) from an XMP packet.

    Both the attribute form (GPano:ProjectionType="equirectangular") and the
    element form (<GPano:...>...</GPano:...>) are read; numbers become
    int/float.  Source: developers.google.com/streetview/spherical-metadata.
    """
    if not xmp:
        return {}
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, (bytes, bytearray)) else str(xmp)
    out: dict[str, Any] = {}
    for key, val in _XMP_ATTR.findall(text) + _XMP_ELEM.findall(text):
        val = val.strip()
        try:
            num = float(val)
            out[key] = int(num) if num.is_integer() and re.fullmatch(r"[+-]?\d+", val) else num
        except ValueError:
            out[key] = val
    return out


def _png_bit_depth(path: Path) -> int:
    with open(path, "rb") as fh:
        head = fh.read(26)
    return int(head[24]) if len(head) >= 25 else 8


# ---------------------------------------------------------------- decoding
#: The inverse of each EXIF orientation (6 and 8 undo each other; the flips and the 180 degree turn undo themselves).
_INVERSE_ORIENTATION = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def _decode_16bit(path: Path, orientation: int = 1) -> np.ndarray:
    """Decode a 16-bit PNG/TIFF keeping 16 bits: (H, W, C) uint16, RGB order, in the file's stored order.

    OpenCV's TIFF decoder turns the image by its orientation tag itself, whatever the flags (OpenCV 4.11, orientations
    3 and 6 checked in tests/io/test_io_ldr.py); that turn is undone here so that :func:`apply_orientation` turns it
    once."""
    cv2: Any = None
    try:
        import cv2
    except ImportError:
        pass
    if cv2 is not None:
        from .native import captured

        buf = np.fromfile(str(path), dtype=np.uint8)
        with captured("OpenCV") as cap:
            a = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)  # UNCHANGED: no orientation, keeps depth/alpha
        if a is None:
            detail = cap.first_line()
            raise SingleHDRError(f"cannot decode {path.name}: truncated or corrupt file" + (f" ({detail})" if detail else ""))
        if a.ndim == 3 and a.shape[2] >= 3:
            a = np.concatenate([a[..., 2::-1], a[..., 3:4]], axis=2) if a.shape[2] == 4 else a[..., ::-1]
        o = int(orientation or 1)
        if o != 1 and path.suffix.lower() in (".tif", ".tiff"):
            a = apply_orientation(a, _INVERSE_ORIENTATION.get(o, 1))
        return np.ascontiguousarray(a)
    try:
        import OpenImageIO as oiio
    except ImportError:
        raise SingleHDRError(
            f"{path.name} is a 16-bit image; install opencv-python-headless (or OpenImageIO) to read it without losing bits"
        ) from None
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise SingleHDRError(f"cannot decode {path.name}: truncated or corrupt file")
    try:
        a = inp.read_image(0, 0, 0, -1, "uint16")
    finally:
        inp.close()
    if a is None:
        raise SingleHDRError(f"cannot decode {path.name}: truncated or corrupt file")
    return np.ascontiguousarray(a)


def _to_float_rgb(a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W[, C]) integer array -> (H, W, 3) float32 in [0, 1] + alpha."""
    scale = float(np.iinfo(a.dtype).max) if np.issubdtype(a.dtype, np.integer) else 1.0
    f = a.astype(np.float32) / np.float32(scale)
    if f.ndim == 2:
        f = f[..., None]
    c = f.shape[2]
    alpha = None
    if c == 2:  # luminance + alpha
        alpha = np.ascontiguousarray(f[..., 1])
        f = f[..., :1]
    elif c == 4:
        alpha = np.ascontiguousarray(f[..., 3])
        f = f[..., :3]
    elif c not in (1, 3):
        raise SingleHDRError(f"images with {c} channels are not supported; convert to RGB")
    if f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    return np.ascontiguousarray(np.clip(f, 0.0, 1.0)), alpha


def _pillow_to_array(im: Any) -> np.ndarray:
    """A Pillow image (any mode) -> uint8/uint16 array with 1-4 channels."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16) if mode != "I;16B" else np.asarray(im).astype(np.uint16)
    elif mode in ("I", "F"):
        raise SingleHDRError("32-bit integer/float images are not supported as LDR input; save as 8/16-bit or as EXR")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")
    return np.asarray(im)


def read_ldr(path: str | PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LDRImage:
    """Read an 8/16-bit photo into an :class:`LDRImage` (see :func:`_read_ldr`).

    Decoder warnings about damaged metadata (Pillow's TIFF/EXIF complaints) are
    not printed: a file that decodes is used, one that does not is one line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_ldr(path, max_pixels=max_pixels)


def _read_ldr(path: str | PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LDRImage:
    """Read an 8/16-bit photo into an :class:`LDRImage`.

    Returns pixels (H, W, 3) float32 in [0, 1] (sRGB-encoded, EXIF
    orientation applied), alpha (H, W) or None, bit_depth 8/16, exif, xmp.
    Raises SingleHDRError for missing/empty/corrupt/unsupported files, a
    content that does not match the extension, or more than ``max_pixels``
    pixels (checked from the header before decoding).
    """
    p = Path(path)
    fmt = check_format(p, LDR_EXTENSIONS)
    im = _open_pillow(p, fmt)
    with im:
        w, h = im.size
        if w < 1 or h < 1:
            raise SingleHDRError(f"{p.name} has no pixels ({w}x{h})")
        if max_pixels is not None and w * h > max_pixels:
            raise SingleHDRError(
                f"{p.name} is {w}x{h} = {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit; raise --max-pixels to read it"
            )
        try:
            exif_obj = im.getexif()
        except Exception:
            exif_obj = None
        orientation = int(exif_obj.get(0x0112, 1)) if exif_obj else 1
        exif = exif_from_pillow(exif_obj)
        xmp = parse_gpano_xmp(im.info.get("xmp") or im.info.get("XML:com.adobe.xmp"))
        arr = _decode(im, p, fmt, _bit_depth(im, p, fmt), orientation)
    bit_depth = 16 if arr.dtype == np.uint16 else 8
    pixels, alpha = _to_float_rgb(arr)
    if orientation != 1:
        pixels = apply_orientation(pixels, orientation)
        alpha = apply_orientation(alpha, orientation) if alpha is not None else None
    if orientation != 1 or (exif_obj and 0x0112 in exif_obj):
        exif["Orientation"] = orientation
    return LDRImage(pixels=pixels, alpha=alpha, bit_depth=bit_depth, transfer="srgb", exif=exif, xmp=xmp, path=p)


def _open_pillow(p: Path, fmt: str) -> Any:
    """Pillow's lazy Image of ``p`` (HEIF opener registered when needed; no decoding yet)."""
    from PIL import Image, UnidentifiedImageError

    if fmt == "heif":
        try:
            import pillow_heif
        except ImportError:
            raise SingleHDRError(f"{p.name} is HEIC/HEIF; install the HEIF extra: pip install 'singlehdr[heif]'") from None
        pillow_heif.register_heif_opener()
        if hasattr(pillow_heif, "register_avif_opener"):
            try:
                pillow_heif.register_avif_opener()
            except Exception:
                pass

    from .native import captured

    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # our own limit (in _read_ldr), checked before decoding
        with warnings.catch_warnings(), captured("Pillow"):
            warnings.simplefilter("ignore")
            return Image.open(p)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SingleHDRError(f"cannot read {p.name}: truncated or corrupt {FORMAT_NAMES[fmt]} file ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _bit_depth(im: Any, p: Path, fmt: str) -> int:
    """Bits per sample of a PNG (from its header) or TIFF (BitsPerSample); 8 for the rest."""
    if fmt == "png":
        return _png_bit_depth(p)
    if fmt == "tiff":
        bps = im.tag_v2.get(258, (8,)) if hasattr(im, "tag_v2") else (8,)
        bits = int(bps[0] if isinstance(bps, (tuple, list)) else bps)
        if bits not in (1, 8, 16):
            raise SingleHDRError(f"{p.name} is a {bits}-bit TIFF; save it as 8/16-bit TIFF or as EXR")
        return bits
    return 8


def _decode(im: Any, p: Path, fmt: str, bits: int, orientation: int = 1) -> np.ndarray:
    """The decoded integer array: 16-bit files that Pillow would cut to 8 bits through :func:`_decode_16bit`."""
    from PIL import Image

    from .native import captured

    try:
        if bits == 16 and not im.mode.startswith("I;16"):
            return _decode_16bit(p, orientation)
        with warnings.catch_warnings(), captured("Pillow"):
            warnings.simplefilter("ignore")
            im.load()
        return _pillow_to_array(im)
    except SingleHDRError:
        raise
    except Image.DecompressionBombError:  # the decoded size disagrees with the header we checked
        raise SingleHDRError(f"cannot read {p.name}: its pixel data is larger than its header says; the file is corrupt") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise SingleHDRError(f"cannot read {p.name}: truncated or corrupt {FORMAT_NAMES[fmt]} file ({exc})") from None


# ---------------------------------------------------------------- writing
def to_uint(ldr: np.ndarray, bits: int = 8) -> np.ndarray:
    """Float [0, 1] -> uint8/uint16 by rounding (values clipped); ints pass through."""
    a = np.asarray(ldr)
    if np.issubdtype(a.dtype, np.integer):
        return a
    if not np.all(np.isfinite(a)):
        raise SingleHDRError("LDR image contains NaN or Inf values; refusing to write it")
    top = 255.0 if bits == 8 else 65535.0
    return np.round(np.clip(a.astype(np.float64), 0.0, 1.0) * top).astype(np.uint8 if bits == 8 else np.uint16)


def write_ldr(
    path: str | PathLike[str],
    ldr: np.ndarray,
    *,
    overwrite: bool = False,
    quality: int = 95,
    bits: int = 8,
    inputs: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Write an (H, W, 3|4) sRGB image (float [0, 1], uint8 or uint16) atomically.

    Format from the suffix: .png (8 or 16-bit), .jpg/.jpeg (8-bit, ``quality``),
    .tif/.tiff, .webp.  ``bits=16`` (or uint16 input) writes a 16-bit PNG/TIFF
    via OpenCV.  Returns the path.
    """
    from PIL import Image

    p = check_output_path(path, overwrite=overwrite, inputs=inputs)  # an input is refused before anything else
    ext = p.suffix.lower()
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}.get(ext)
    if fmt is None:
        raise SingleHDRError(f"cannot write {ext or 'extension-less'} files; use .png, .jpg, .tif or .webp")
    a = np.asarray(ldr)
    if a.ndim == 2:
        a = a[..., None].repeat(3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise SingleHDRError(f"expected an (H, W, 3|4) image to write, got shape {a.shape}")
    if a.dtype == np.uint16:
        bits = 16
    a = to_uint(a, bits)
    if a.dtype == np.uint16:
        if fmt not in ("PNG", "TIFF"):
            raise SingleHDRError("16-bit output needs .png or .tif")
        import cv2

        bgr = a[..., [2, 1, 0, 3]] if a.shape[2] == 4 else a[..., ::-1]
        with atomic_output(p, overwrite=overwrite, inputs=inputs) as tmp:
            ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr))
            if not ok:
                raise SingleHDRError(f"cannot encode {p.name}")
            buf.tofile(str(tmp))
        return p
    if a.dtype != np.uint8:
        a = a.astype(np.uint8)
    im = Image.fromarray(np.ascontiguousarray(a), "RGBA" if a.shape[2] == 4 else "RGB")
    if fmt == "JPEG" and im.mode == "RGBA":
        im = im.convert("RGB")
    kw: dict[str, Any] = {"quality": int(quality)} if fmt in ("JPEG", "WEBP") else {}
    with atomic_output(p, overwrite=overwrite, inputs=inputs) as tmp:
        im.save(tmp, format=fmt, **kw)
    return p
