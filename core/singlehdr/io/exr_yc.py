"""Luminance/chroma (Y, RY, BY) OpenEXR images to RGB, as OpenEXR's RGBA interface does.

OpenEXR stores "luminance/chroma" images as a full-resolution luminance Y and
two chroma channels RY = (R - Y) / Y, BY = (B - Y) / Y sampled every second
pixel and line (OpenEXR technical introduction, "Luminance/Chroma Images").
``Imf::RgbaInputFile`` (what OpenImageIO, Nuke and Blender read such files
through) turns them back into RGB in four steps, reproduced here on whole
arrays (ImfRgbaYca.cpp, ImfRgbaFile.cpp, OpenEXR 3.x):

1. each even line's chroma is filled in at odd columns by a 27-tap filter of
   the even samples (``reconstructChromaHoriz``; the line is padded with its
   first sample on the left and the sample two from the end on the right);
2. odd lines get their chroma from the even lines above and below with the
   same filter (``reconstructChromaVert``; lines past the top are line 0,
   past the bottom line ``max y - 1``);
3. R = (RY + 1) Y, B = (BY + 1) Y, G = (Y - wR R - wB B) / wG with the
   luminance weights of the file's chromaticities (Rec.709 if none), and
   R = G = B = Y where both chroma values are exactly 0 (``YCAtoRGBA``);
4. pixels far more saturated than their diagonal neighbours are desaturated
   towards them, keeping luminance (``fixSaturation``).

Every intermediate is rounded to half, as the library's ``Rgba`` buffers are,
so the result matches the library within half precision (exactly, bar
rounding ties, for even widths and heights; the library reads uninitialised
memory at the right edge of odd widths, where we use the last sample).
"""

from __future__ import annotations

import numpy as np

_TAPS = np.array([0.002128, -0.007540, 0.019597, -0.043159, 0.087929, -0.186077, 0.627123,
                  0.627123, -0.186077, 0.087929, -0.043159, 0.019597, -0.007540, 0.002128], dtype=np.float32)
N2 = 13
REC709_XY = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)


def _h(a: np.ndarray) -> np.ndarray:
    """Round float32 values to half and back (an ``Rgba`` buffer store)."""
    return np.asarray(a, dtype=np.float32).astype(np.float16).astype(np.float32)


def rgb_to_xyz_matrix(chroma) -> np.ndarray:
    """(3, 3) float64 RGB -> XYZ for chromaticities (rx, ry, gx, gy, bx, by, wx, wy), white Y = 1.

    Raises ValueError for degenerate chromaticities (singular primaries, white y = 0)."""
    c = np.asarray(chroma, dtype=np.float64).ravel()
    if c.shape != (8,) or not np.all(np.isfinite(c)):
        raise ValueError("chromaticities must be 8 finite numbers")
    (rx, ry, gx, gy, bx, by, wx, wy) = c
    if wy == 0:
        raise ValueError("white point y is 0")
    white = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
    prim = np.array([[rx, gx, bx], [ry, gy, by], [1 - rx - ry, 1 - gx - gy, 1 - bx - by]])
    if abs(np.linalg.det(prim)) < 1e-9:
        raise ValueError("primaries are collinear")
    s = np.linalg.solve(prim, white)
    m = prim * s[None, :]
    if not np.all(np.isfinite(m)):
        raise ValueError("primaries give a non-finite matrix")
    return m


def luminance_weights(chroma=None) -> np.ndarray:
    """Imf::computeYw: the Y row of RGB -> XYZ, normalised to sum 1 (float32)."""
    m = rgb_to_xyz_matrix(REC709_XY if chroma is None else chroma)
    yw = m[1] / m[1].sum()
    return yw.astype(np.float32)


def _horizontal(c: np.ndarray, width: int) -> np.ndarray:
    """Chroma samples (L, ceil(W/2)) of even lines -> (L, W) rows, odd columns filtered."""
    c = _h(c)
    lines = c.shape[0]
    full = np.zeros((lines, width), dtype=np.float32)
    full[:, 0::2] = c[:, : (width + 1) // 2]
    # padded tmp buffer: index t in [0, W + 26): pixel t - 13; left pad = pixel 0, right pad = pixel W - 2
    right = width - 2 if width >= 2 and (width - 2) % 2 == 0 else (width - 1 if (width - 1) % 2 == 0 else 0)
    padded = np.concatenate([np.repeat(full[:, :1], N2, axis=1), full, np.repeat(full[:, right:right + 1], N2, axis=1)],
                            axis=1)
    odd = np.arange(1, width, 2)
    if odd.size:
        acc = padded[:, odd] * _TAPS[0]
        for k in range(1, _TAPS.size):
            acc = acc + padded[:, odd + 2 * k] * _TAPS[k]
        full[:, odd] = _h(acc)
    return full


def yc_to_rgb(y: np.ndarray, ry: np.ndarray | None, by: np.ndarray | None, chroma=None) -> np.ndarray:
    """Y (H, W), RY and BY (ceil(H/2), ceil(W/2)) or None -> (H, W, 3) float32 RGB.

    Without chroma channels the image is grey: R = G = B = Y (half-rounded).
    Out-of-range values overflow to Inf as in the library's half buffers (no warnings).
    """
    with np.errstate(all="ignore"):
        return _yc_to_rgb(y, ry, by, chroma)


def _yc_to_rgb(y: np.ndarray, ry: np.ndarray | None, by: np.ndarray | None, chroma=None) -> np.ndarray:
    yy = _h(y)
    hgt, wid = yy.shape
    if ry is None or by is None:
        return np.repeat(yy[..., None], 3, axis=2)
    yw = luminance_weights(chroma)
    # step 1: even lines' chroma, full width
    r_even = _horizontal(np.asarray(ry, dtype=np.float32), wid)  # row k = line 2k
    b_even = _horizontal(np.asarray(by, dtype=np.float32), wid)
    n_even = r_even.shape[0]

    def clamp(line: np.ndarray) -> np.ndarray:
        out = np.where(line < 0, 0, line)
        return np.where(out > hgt - 1, max(hgt - 2, 0), out)

    # RGB (not yet desaturated) for lines -1 .. H
    lines = np.arange(-1, hgt + 1)
    src = clamp(lines)
    r_c = np.empty((lines.size, wid), dtype=np.float32)
    b_c = np.empty((lines.size, wid), dtype=np.float32)
    even = (lines % 2) == 0

    def chroma_of(line_idx: np.ndarray, plane: np.ndarray) -> np.ndarray:
        k = np.clip(line_idx // 2, 0, n_even - 1)
        return plane[k]

    r_c[even] = chroma_of(src[even], r_even)
    b_c[even] = chroma_of(src[even], b_even)
    odd_lines = lines[~even]
    if odd_lines.size:
        acc_r = acc_b = None
        for k, tap in enumerate(_TAPS):
            nb = clamp(odd_lines - 13 + 2 * k)
            tr = chroma_of(nb, r_even) * np.float32(tap)
            tb = chroma_of(nb, b_even) * np.float32(tap)
            acc_r = tr if acc_r is None else acc_r + tr
            acc_b = tb if acc_b is None else acc_b + tb
        r_c[~even] = _h(acc_r)
        b_c[~even] = _h(acc_b)
    lum = yy[src]
    grey = (r_c == 0) & (b_c == 0)
    r = (r_c + np.float32(1)) * lum
    b = (b_c + np.float32(1)) * lum
    g = (lum - r * yw[0] - b * yw[2]) / yw[1]
    rgb = np.stack([np.where(grey, lum, r), np.where(grey, lum, g), np.where(grey, lum, b)], axis=-1)
    rgb = _h(rgb)
    return _fix_saturation(rgb, yw)


def _saturation(rgb: np.ndarray) -> np.ndarray:
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.float32(1) - mn / mx
    return np.where(mx > 0, s, np.float32(0)).astype(np.float32)


def _fix_saturation(rgb_ext: np.ndarray, yw: np.ndarray) -> np.ndarray:
    """rgb_ext: (H + 2, W, 3) lines -1 .. H -> (H, W, 3), Imf::RgbaYca::fixSaturation per line."""
    sat = _saturation(rgb_ext)
    wid = sat.shape[1]
    left = np.concatenate([[0], np.arange(wid - 1)])
    right = np.concatenate([np.arange(1, wid), [wid - 1]])
    above, below = sat[:-2], sat[2:]
    s_mean = np.minimum(np.float32(1), np.float32(0.25) * (above[:, left] + above[:, right] + below[:, left]
                                                            + below[:, right]))
    cur = rgb_ext[1:-1]
    s = sat[1:-1]
    s_max = np.minimum(np.float32(1), np.float32(1) - (np.float32(1) - s_mean) * np.float32(0.25))
    fix = (s > s_mean) & (s > s_max)
    if not fix.any():
        return np.ascontiguousarray(cur)
    out = cur.copy()
    px = cur[fix]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (s_max[fix] / s[fix]).astype(np.float32)
    mx = px.max(axis=-1, keepdims=True)
    o = _h(np.maximum(mx - (mx - px) * f[:, None], np.float32(0)))
    y_in = px[:, 0] * yw[0] + px[:, 1] * yw[1] + px[:, 2] * yw[2]
    y_out = o[:, 0] * yw[0] + o[:, 1] * yw[1] + o[:, 2] * yw[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(y_out > 0, y_in / y_out, np.float32(1)).astype(np.float32)  # out *= Yin / Yout
    o = np.where((y_out > 0)[:, None], o * scale[:, None], o)
    out[fix] = _h(o)
    return out
