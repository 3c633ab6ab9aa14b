"""Radiance RGBE (.hdr) read and write in numpy.

Format (G. Ward, "Real Pixels", Graphics Gems II, 1991, and the Radiance
file-format notes, radsite.lbl.gov/radiance/refer/filefmts.pdf):
- a text header starting with "#?RADIANCE" (or "#?RGBE"), lines such as
  "FORMAT=32-bit_rle_rgbe", "EXPOSURE=", "PRIMARIES=", ended by an empty
  line, then the resolution line "-Y <height> +X <width>";
- pixels as 4 bytes R, G, B, E: a shared exponent E and 8-bit mantissas,
  value = mantissa * 2^(E - 136) (E = 0 means black);
- "new-style" run-length encoding per scanline (8 <= width < 32768): the
  bytes 2, 2, width_hi, width_lo, then each of the 4 components in turn as
  chunks: a count byte > 128 = a run of (count - 128) copies of the next
  byte, else ``count`` literal bytes.

Encoding rounds the mantissas to nearest (Walter's rgbe.c truncates), so the
error of every channel is at most half a mantissa step: <= 1/256 of the
pixel's largest channel (the brief asks for < 1/128).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from .atomic import atomic_output
from .colorspace import COLORSPACES, get_colorspace

MIN_RUN = 4  # shortest run worth encoding as a run (Radiance's MINRUN)


def float_to_rgbe(hdr: np.ndarray) -> np.ndarray:
    """(H, W, 3) float >= 0 -> (H, W, 4) uint8 RGBE.  Negative values become 0.

    e = frexp(max channel) exponent; mantissa_c = round(c * 256 / 2^e),
    clipped to 255; E = e + 128.  Values below 1e-32 become (0, 0, 0, 0);
    values above the largest RGBE number (~1.7e38) are clipped to it.
    """
    a = np.clip(np.asarray(hdr, dtype=np.float64), 0.0, 1.7e38)
    v = a.max(axis=2)
    mant, exp = np.frexp(v)
    ok = v > 1e-32
    scale = np.where(ok, np.ldexp(1.0, 8 - exp), 0.0)  # 256 / 2^e
    m = np.clip(np.round(a * scale[..., None]), 0, 255).astype(np.uint8)
    e = np.where(ok, exp + 128, 0)
    e = np.clip(e, 0, 255).astype(np.uint8)
    out = np.concatenate([m, e[..., None]], axis=2)
    out[~ok] = 0
    return out


def rgbe_to_float(rgbe: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 RGBE -> (H, W, 3) float32: c = m * 2^(E - 136); E=0 is black."""
    r = np.asarray(rgbe)
    e = r[..., 3].astype(np.int32)
    f = np.where(e > 0, np.ldexp(1.0, e - 136), 0.0)
    return (r[..., :3].astype(np.float64) * f[..., None]).astype(np.float32)


def _encode_channel(row: np.ndarray) -> bytes:
    """New-style RLE of one component of one scanline (1-D uint8)."""
    n = row.size
    out = bytearray()
    # boundaries of runs of equal bytes
    change = np.flatnonzero(np.diff(row.astype(np.int16)) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    lit_start = 0

    def flush_literal(a: int, b: int) -> None:
        while a < b:
            k = min(128, b - a)
            out.append(k)
            out.extend(row[a:a + k].tobytes())
            a += k

    for s, e in zip(starts.tolist(), ends.tolist()):
        if e - s >= MIN_RUN:
            flush_literal(lit_start, s)
            val = int(row[s])
            length = e - s
            while length > 0:
                k = min(127, length)
                if k < MIN_RUN and length < MIN_RUN:  # tail too short for a run: literal
                    out.append(k)
                    out.extend(bytes([val]) * k)
                else:
                    out.append(128 + k)
                    out.append(val)
                length -= k
            lit_start = e
    flush_literal(lit_start, n)
    return bytes(out)


def encode_rle(rgbe: np.ndarray) -> bytes:
    """(H, W, 4) uint8 -> new-style RLE pixel data (flat if the width is outside 8..32767)."""
    h, w = rgbe.shape[:2]
    if not 8 <= w < 32768:
        return np.ascontiguousarray(rgbe).tobytes()
    head = bytes([2, 2, w >> 8, w & 255])
    parts = []
    for y in range(h):
        parts.append(head)
        for c in range(4):
            parts.append(_encode_channel(rgbe[y, :, c]))
    return b"".join(parts)


def decode_pixels(data: bytes, h: int, w: int) -> np.ndarray:
    """Pixel data (flat, old-style or new-style RLE) -> (H, W, 4) uint8."""
    buf = np.frombuffer(data, dtype=np.uint8)
    out = np.empty((h, w, 4), dtype=np.uint8)
    pos = 0
    n = buf.size
    for y in range(h):
        if pos + 4 > n:
            raise ValueError(f"pixel data ends at scanline {y} of {h}")
        b0, b1, b2, b3 = (int(v) for v in buf[pos:pos + 4])
        if 8 <= w < 32768 and b0 == 2 and b1 == 2 and not (b2 & 0x80):
            if (b2 << 8 | b3) != w:
                raise ValueError(f"scanline {y} has width {(b2 << 8) | b3}, expected {w}")
            pos += 4
            for c in range(4):
                x = 0
                row = out[y, :, c]
                while x < w:
                    if pos >= n:
                        raise ValueError(f"pixel data ends inside scanline {y}")
                    count = int(buf[pos])
                    pos += 1
                    if count > 128:
                        count -= 128
                        if count > w - x or pos >= n:
                            raise ValueError(f"bad run in scanline {y}")
                        row[x:x + count] = buf[pos]
                        pos += 1
                    else:
                        if count == 0 or count > w - x or pos + count > n:
                            raise ValueError(f"bad literal in scanline {y}")
                        row[x:x + count] = buf[pos:pos + count]
                        pos += count
                    x += count
        else:  # flat or old-style RLE (1, 1, 1, repeat-count)
            x = 0
            shift = 0
            while x < w:
                if pos + 4 > n:
                    raise ValueError(f"pixel data ends inside scanline {y}")
                px = buf[pos:pos + 4]
                pos += 4
                if px[0] == 1 and px[1] == 1 and px[2] == 1:
                    if x == 0:
                        raise ValueError("old-style run at the start of a scanline")
                    rep = int(px[3]) << shift
                    if rep > w - x:
                        raise ValueError(f"bad old-style run in scanline {y}")
                    out[y, x:x + rep] = out[y, x - 1]
                    x += rep
                    shift += 8
                else:
                    out[y, x] = px
                    x += 1
                    shift = 0
    return out


_RES = re.compile(rb"^([-+])Y\s+(\d+)\s+([-+])X\s+(\d+)\s*$")


def _resolution(data: bytes, end: int, name: str, max_pixels: int | None) -> tuple[bytes, int, bytes, int, int]:
    """(y sign, height, x sign, width, offset of the line's newline) from the resolution line after the header."""
    nl = data.find(b"\n", end + 2)
    if nl < 0:
        raise SingleHDRError(f"cannot read {name}: missing resolution line")
    m = _RES.match(data[end + 2:nl].strip())
    if not m:
        raise SingleHDRError(f"cannot read {name}: unsupported resolution line {data[end + 2:nl][:40]!r}")
    ysign, h, xsign, w = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
    if h < 1 or w < 1:
        raise SingleHDRError(f"{name} has no pixels ({w}x{h})")
    if max_pixels is not None and w * h > max_pixels:
        raise SingleHDRError(
            f"{name} is {w}x{h} = {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit; raise --max-pixels to read it"
        )
    return ysign, h, xsign, w, nl


def _header_variables(header_lines: list[bytes], name: str) -> tuple[float, list[float] | None, dict[str, Any]]:
    """(product of EXPOSURE lines, PRIMARIES (8 floats) or None, the other VARIABLE=value pairs)."""
    exposure = 1.0
    attrs: dict[str, Any] = {}
    chroma = None
    for line in header_lines:
        text = line.decode("latin-1").strip()
        if "=" not in text or text.startswith("#"):
            continue
        key, val = (s.strip() for s in text.split("=", 1))
        if key == "FORMAT":
            if val not in ("32-bit_rle_rgbe",):
                raise SingleHDRError(f"{name} uses Radiance format {val!r}; only 32-bit_rle_rgbe is supported")
        elif key == "EXPOSURE":
            try:
                exposure *= float(val)
            except ValueError:
                pass
        elif key == "PRIMARIES":
            try:
                vals = [float(v) for v in val.split()]
                chroma = vals if len(vals) == 8 else None
            except ValueError:
                pass
        else:
            attrs[key] = val
    return exposure, chroma, attrs


def _colorspace_of(chroma: list[float] | None) -> str | None:
    """Our colour-space key for PRIMARIES (linear Rec.709 when absent), None when unknown."""
    if chroma is None:
        return "lin_rec709"
    colorspace = None
    for key, cs in COLORSPACES.items():
        if np.allclose(chroma, cs.chromaticities, atol=2e-3):
            colorspace = key
    return colorspace


def read_radiance(path: str | PathLike[str], *, max_pixels: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a Radiance .hdr into (hdr_linear (H, W, 3) float32, meta).

    meta: format "radiance", width, height, channels ["R","G","B"], pixel_type
    "rgbe", compression "rle"|"none", exposure (product of EXPOSURE lines,
    not applied), chromaticities (PRIMARIES) and colorspace if recognised,
    alpha None, attributes (other header variables).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SingleHDRError(f"cannot read {p}: {exc.strerror or exc}") from None
    if not (data.startswith(b"#?")):
        raise SingleHDRError(f"{p.name} is not a Radiance HDR file")
    end = data.find(b"\n\n")
    if end < 0:
        raise SingleHDRError(f"cannot read {p.name}: truncated Radiance header")
    header_lines = data[:end].split(b"\n")[1:]
    ysign, h, xsign, w, nl = _resolution(data, end, p.name, max_pixels)
    exposure, chroma, attrs = _header_variables(header_lines, p.name)
    try:
        rgbe = decode_pixels(data[nl + 1:], h, w)
    except ValueError as exc:
        raise SingleHDRError(f"cannot read {p.name}: truncated or corrupt Radiance pixel data ({exc})") from None
    if ysign == b"+":
        rgbe = rgbe[::-1]
    if xsign == b"-":
        rgbe = rgbe[:, ::-1]
    colorspace = _colorspace_of(chroma)
    rle = 8 <= w < 32768 and len(data) > nl + 2 and data[nl + 1] == 2 and data[nl + 2] == 2
    meta = {
        "format": "radiance",
        "width": w,
        "height": h,
        "channels": ["R", "G", "B"],
        "pixel_type": "rgbe",
        "compression": "rle" if rle else "none",
        "exposure": exposure,
        "chromaticities": chroma,
        "colorspace": colorspace,
        "alpha": None,
        "attributes": attrs,
    }
    return np.ascontiguousarray(rgbe_to_float(rgbe)), meta


def write_radiance(
    path: str | PathLike[str],
    hdr_linear: np.ndarray,
    *,
    colorspace: str = "lin_rec709",
    attributes: Mapping[str, Any] | None = None,
    rle: bool = True,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Write (H, W, 3) float >= 0 as Radiance RGBE atomically (negatives -> 0).

    Writes PRIMARIES= for the colour space and one header line per
    attribute ("key=value", newlines removed).
    """
    from .exr import check_hdr_array

    rgb, _ = check_hdr_array(hdr_linear)
    cs = get_colorspace(colorspace)
    h, w = rgb.shape[:2]
    lines = ["#?RADIANCE", "FORMAT=32-bit_rle_rgbe", "PRIMARIES=" + " ".join(f"{v:.4f}" for v in cs.chromaticities)]
    for key, val in (attributes or {}).items():
        if val is None:
            continue
        k = re.sub(r"[\s=]+", "_", str(key))
        v = " ".join(str(val).split())
        lines.append(f"{k}={v}")
    header = ("\n".join(lines) + "\n\n" + f"-Y {h} +X {w}\n").encode("latin-1", "replace")
    rgbe = float_to_rgbe(rgb)
    body = encode_rle(rgbe) if rle else rgbe.tobytes()
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(header)
            fh.write(body)
    return Path(path)
