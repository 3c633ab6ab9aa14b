"""A tiny hand-written OpenEXR writer for tests: uncompressed scanline files with
any channels (half/float), any x/y sampling, optional chromaticities and raw
extra attributes.  It writes what the Python bindings cannot (luminance/chroma
files with 2x2-subsampled RY/BY channels, odd headers) so the reader can be
tested against OpenImageIO on files the tests make.

Format: OpenEXR "File Layout" document (magic 20000630, version 2, header of
name/type/size/value attributes ending in a null byte, a line offset table of
uint64, then chunks of int32 y, int32 size, and each channel's samples of that
line in alphabetical channel order; a subsampled channel has samples only on
lines with y % ySampling == 0 and in columns with x % xSampling == 0).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

HALF, FLOAT = 1, 2


def _attr(name: str, typ: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + typ.encode() + b"\0" + struct.pack("<i", len(value)) + value


def write_exr_raw(path, channels: dict, *, chromaticities=None, extra_attrs=(), origin=(0, 0)) -> Path:
    """channels: name -> (array (h/ys, w/xs), pixel_type HALF|FLOAT, xs, ys); full size from the first
    channel with sampling 1.  extra_attrs: (name, type, raw bytes) triples."""
    names = sorted(channels)
    full = [channels[n] for n in names if channels[n][2] == 1 and channels[n][3] == 1]
    h, w = full[0][0].shape
    x0, y0 = origin
    chlist = b""
    for n in names:
        _, pt, xs, ys = channels[n]
        chlist += n.encode() + b"\0" + struct.pack("<iB3xii", pt, 0, xs, ys)
    chlist += b"\0"
    box = struct.pack("<iiii", x0, y0, x0 + w - 1, y0 + h - 1)
    hdr = b"".join([
        _attr("channels", "chlist", chlist),
        _attr("compression", "compression", b"\0"),
        _attr("dataWindow", "box2i", box),
        _attr("displayWindow", "box2i", box),
        _attr("lineOrder", "lineOrder", b"\0"),
        _attr("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        _attr("screenWindowCenter", "v2f", struct.pack("<ff", 0, 0)),
        _attr("screenWindowWidth", "float", struct.pack("<f", 1.0)),
    ])
    if chromaticities is not None:
        hdr += _attr("chromaticities", "chromaticities", struct.pack("<8f", *chromaticities))
    for name, typ, raw in extra_attrs:
        hdr += _attr(name, typ, raw)
    head = struct.pack("<ii", 20000630, 2) + hdr + b"\0"
    chunks = []
    for row in range(h):
        y = y0 + row
        data = b""
        for n in names:
            a, pt, xs, ys = channels[n]
            if y % ys:
                continue
            line = np.asarray(a)[(y - y0) // ys if ys > 1 else row]
            # columns x with x % xs == 0 inside [x0, x0 + w - 1]
            dt = np.float16 if pt == HALF else np.float32
            data += np.ascontiguousarray(line, dtype=dt).astype("<" + np.dtype(dt).str[1:]).tobytes()
        chunks.append(struct.pack("<ii", y, len(data)) + data)
    table_start = len(head)
    pos = table_start + 8 * h
    offsets = []
    for c in chunks:
        offsets.append(pos)
        pos += len(c)
    out = head + struct.pack(f"<{h}Q", *offsets) + b"".join(chunks)
    p = Path(path)
    p.write_bytes(out)
    return p


def rgb_to_yc(rgb: np.ndarray, yw=(0.2126, 0.7152, 0.0722)):
    """(H, W, 3) linear RGB -> Y (H, W), RY and BY (H/2, W/2) point-sampled at even pixels
    (what a 2x2 luminance/chroma file stores: RY = (R - Y) / Y, BY = (B - Y) / Y)."""
    y = rgb @ np.asarray(yw, dtype=np.float64)
    ry = (rgb[..., 0] - y) / y
    by = (rgb[..., 2] - y) / y
    return y.astype(np.float32), ry[::2, ::2].astype(np.float32), by[::2, ::2].astype(np.float32)
