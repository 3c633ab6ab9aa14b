"""False-colour luminance maps with a legend, in photographic stops.

Each pixel's BT.709 luminance Y is shown as stops relative to a reference
(default 0.18, middle grey): s = log2(Y / reference), coloured by a stepped
palette with one colour per stop from ``ev_min`` to ``ev_max``; values below
or above the range get the end colours.
"""

from __future__ import annotations

import numpy as np

from ..colour import REC709_Y
from .tonemap import check_hdr, luminance

# One colour per stop, dark-to-bright (blue -> cyan -> green -> yellow -> red -> white).
_ANCHORS = np.array(
    [[0.05, 0.0, 0.25], [0.1, 0.1, 0.8], [0.0, 0.6, 0.9], [0.0, 0.75, 0.4], [0.5, 0.85, 0.1],
     [0.95, 0.9, 0.1], [1.0, 0.55, 0.0], [0.9, 0.1, 0.05], [1.0, 0.4, 0.7], [1.0, 1.0, 1.0]],
    dtype=np.float32,
)


def palette(n: int) -> np.ndarray:
    """(n, 3) float32 colours in [0, 1], interpolated along the anchor ramp."""
    t = np.linspace(0.0, len(_ANCHORS) - 1.0, max(n, 1))
    i = np.clip(np.floor(t).astype(int), 0, len(_ANCHORS) - 2)
    f = (t - i)[:, None].astype(np.float32)
    return (_ANCHORS[i] * (1 - f) + _ANCHORS[i + 1] * f).astype(np.float32)


def stops(hdr_linear: np.ndarray, reference: float = 0.18) -> np.ndarray:
    """(H, W, 3) -> (H, W) float32 stops log2(Y / reference); Y <= 0 -> -inf."""
    lum = luminance(check_hdr(hdr_linear))
    with np.errstate(divide="ignore"):
        return np.log2(np.maximum(lum, 0.0) / np.float32(reference)).astype(np.float32)


def false_colour(hdr_linear: np.ndarray, ev_min: int = -6, ev_max: int = 8, reference: float = 0.18) -> np.ndarray:
    """(H, W, 3) HDR -> (H, W, 3) float32 false-colour image in [0, 1].

    Bin k (0 .. ev_max - ev_min) holds stops in [ev_min + k - 0.5, ev_min + k + 0.5).
    """
    s = stops(hdr_linear, reference)
    n = int(ev_max) - int(ev_min) + 1
    idx = np.clip(np.floor(s - ev_min + 0.5), 0, n - 1)
    idx = np.where(np.isfinite(idx), idx, 0).astype(np.int64)
    return palette(n)[idx]


def legend(width: int, ev_min: int = -6, ev_max: int = 8, height: int = 28) -> np.ndarray:
    """(height, width, 3) uint8 legend strip: one labelled swatch per stop."""
    from PIL import Image, ImageDraw

    n = int(ev_max) - int(ev_min) + 1
    cols = (palette(n) * 255 + 0.5).astype(np.uint8)
    img = Image.new("RGB", (max(width, n), height), (0, 0, 0))
    draw = ImageDraw.Draw(img)
    edges = np.linspace(0, img.width, n + 1).round().astype(int)
    for k in range(n):
        c = tuple(int(v) for v in cols[k])
        draw.rectangle([edges[k], 0, edges[k + 1] - 1, height - 1], fill=c)
        text = f"{ev_min + k:+d}"
        dark = sum(w * v for w, v in zip(REC709_Y, c)) > 128
        draw.text((edges[k] + 2, max(0, height // 2 - 6)), text, fill=(0, 0, 0) if dark else (255, 255, 255))
    return np.asarray(img)[:, :width]


def false_colour_with_legend(hdr_linear: np.ndarray, ev_min: int = -6, ev_max: int = 8, reference: float = 0.18) -> np.ndarray:
    """(H, W, 3) HDR -> (H + 28, W, 3) uint8: the false-colour map above its legend."""
    fc = (false_colour(hdr_linear, ev_min, ev_max, reference) * 255 + 0.5).astype(np.uint8)
    return np.concatenate([fc, legend(fc.shape[1], ev_min, ev_max)], axis=0)
