"""Merging aligned, linearised brackets into one HDR image.

Methods
- "weighted" (default, ours): per pixel, frame j contributes X_j = g(Z_j) / e_j
  with weight hat(Z_j) * e_j (Debevec & Malik 1997's hat, times the exposure:
  longer exposures carry less relative noise, Robertson et al. 2003).  The
  weight is computed from the pixel's darkest and brightest channel, so a
  frame whose pixel clips in any channel gives nothing (no colour shift).
  Ghosts (something that moved between frames) are rejected against a
  reference: the middle frame where it is well exposed, else the nearest
  frame toward it that is; a frame whose radiance differs from the
  reference by more than ``ghost_stops`` gets weight 0 there (the mask is
  dilated a little to catch the motion's soft edges).
- "debevec" / "robertson": OpenCV's ``MergeDebevec`` / ``MergeRobertson``
  with the recovered response (no ghost rejection).

Output units: g(1) = 1 at the reference exposure e = 1, i.e. white of the
middle frame = 1.0 ("LDR white ~ 1.0", as :func:`singlehdr.reconstruct`).
Pixels that clip even in the darkest frame keep the darkest frame's value,
a lower bound, and are flagged in the clip mask.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..colour import LUMA_709

from ..errors import SingleHDRError
from .response import apply_response

MERGES = ("weighted", "debevec", "robertson")
#: A pixel value at or above this (any channel) is clipped.
CLIP_LEVEL = 0.98
#: A pixel value at or below this (all channels) is too dark to trust.
DARK_LEVEL = 0.02
#: Ghost threshold, stops of radiance difference from the reference.
GHOST_STOPS = 1.0


def channel_max(a: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W): the largest channel (elementwise, faster than a reduce over the last axis)."""
    a = np.asarray(a)
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])


def clip_mask(ldr: np.ndarray, level: float = CLIP_LEVEL) -> np.ndarray:
    """(H, W) bool: any channel >= level."""
    return channel_max(ldr) >= level


def _weights(ldr: np.ndarray) -> np.ndarray:
    """Trapezoid on the brightest channel: 0 at DARK_LEVEL and CLIP_LEVEL, 1 in between (ramps 0.15 wide)."""
    hi = channel_max(np.asarray(ldr, dtype=np.float32))
    return np.clip(np.minimum((hi - DARK_LEVEL) / 0.15, (CLIP_LEVEL - hi) / 0.15), 0.0, 1.0).astype(np.float32)


def _valid(ldr: np.ndarray) -> np.ndarray:
    hi = channel_max(ldr)
    return (hi < 0.9) & (hi > 0.1)


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    if r <= 0 or not mask.any():
        return mask
    import cv2

    k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def _lum(x: np.ndarray) -> np.ndarray:
    return np.maximum(x @ LUMA_709.astype(np.float32), 1e-8)


def merge_weighted(frames: Sequence[np.ndarray], exposures: Sequence[float], g: np.ndarray, *, reference: int | None = None,
                   ghost: bool = True, ghost_stops: float = GHOST_STOPS) -> tuple[np.ndarray, np.ndarray]:
    """Well-exposedness weighted merge with ghost rejection.

    frames: n aligned (H, W, 3) display-referred [0, 1]; exposures (n,)
    relative; g: (3, 1024) inverse response.  Returns (hdr_linear (H, W, 3)
    float32 at the reference exposure, ghost (H, W) bool: pixels where at
    least one frame was rejected).
    """
    e = np.asarray(exposures, dtype=np.float64)
    order = np.argsort(e)
    n = len(frames)
    ref = int(order[n // 2]) if reference is None else int(reference)
    e = e / e[ref]
    xs = [apply_response(f, g) / np.float32(e[j]) for j, f in enumerate(frames)]
    ws = [_weights(f) * np.float32(e[j]) for j, f in enumerate(frames)]
    ghost_any = np.zeros(frames[0].shape[:2], dtype=bool)
    if ghost and n > 1:
        # reference radiance: the middle frame where valid, else walk toward darker (clipped) or brighter (dark) frames
        r = np.where(_valid(frames[ref])[..., None], xs[ref], np.nan).astype(np.float32)
        src = np.where(_valid(frames[ref]), ref, -1)
        pos = list(order).index(ref)
        for step in (-1, 1):
            k = pos + step
            while 0 <= k < n:
                j = int(order[k])
                fill = np.isnan(r[..., 0]) & _valid(frames[j])
                r[fill] = xs[j][fill]
                src[fill] = j
                k += step
        have = ~np.isnan(r[..., 0])
        ly_ref = np.log2(_lum(np.nan_to_num(r, nan=1.0)))
        for j in range(n):
            # frame j where it has any weight, against the reference radiance from another frame
            test = (ws[j] > 0) & have & (src != j)
            diff = np.abs(np.log2(_lum(xs[j])) - ly_ref)
            bad = _dilate(test & (diff > ghost_stops), 2) & (src != j)
            ghost_any |= bad & (ws[j] > 0)
            ws[j] = np.where(bad, 0.0, ws[j]).astype(np.float32)
    num = np.zeros_like(xs[0])
    den = np.zeros(frames[0].shape[:2], dtype=np.float32)
    for x, w in zip(xs, ws):
        num += x * w[..., None]
        den += w
    hdr = num / np.maximum(den, 1e-12)[..., None]
    # no usable frame: clipped everywhere -> the darkest frame (a lower bound); dark everywhere -> the brightest
    none = den <= 0
    if none.any():
        darkest, brightest = int(order[0]), int(order[-1])
        lum_b = channel_max(frames[brightest])
        pick_dark = none & (lum_b >= 0.5)
        pick_bright = none & ~pick_dark
        hdr[pick_dark] = xs[darkest][pick_dark]
        hdr[pick_bright] = xs[brightest][pick_bright]
    return hdr.astype(np.float32), ghost_any


def merge_opencv(frames: Sequence[np.ndarray], exposures: Sequence[float], g: np.ndarray, method: str, reference: int | None = None) -> np.ndarray:
    """OpenCV's MergeDebevec / MergeRobertson with our response (sampled at 256 codes)."""
    import cv2

    e = np.asarray(exposures, dtype=np.float64)
    ref = int(np.argsort(e)[len(e) // 2]) if reference is None else int(reference)
    times = (e / e[ref]).astype(np.float32)
    codes = np.arange(256) / 255.0
    resp = np.stack([np.interp(codes, np.linspace(0, 1, g.shape[1]), g[c]) for c in range(3)], axis=-1)
    resp = np.maximum(resp, 1e-6).astype(np.float32).reshape(256, 1, 3)
    u8 = [np.ascontiguousarray(np.round(np.clip(f, 0, 1) * 255).astype(np.uint8)) for f in frames]
    op = cv2.createMergeDebevec() if method == "debevec" else cv2.createMergeRobertson()
    hdr = op.process(u8, times=times, response=resp)
    return np.nan_to_num(np.asarray(hdr, dtype=np.float32), nan=0.0, posinf=0.0)


def merge(frames: Sequence[np.ndarray], exposures: Sequence[float], g: np.ndarray, method: str = "weighted", *,
          ghost: bool = True, ghost_stops: float = GHOST_STOPS) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch: returns (hdr_linear, ghost mask (H, W) bool; all False for OpenCV merges)."""
    if method == "weighted":
        return merge_weighted(frames, exposures, g, ghost=ghost, ghost_stops=ghost_stops)
    if method in ("debevec", "robertson"):
        return merge_opencv(frames, exposures, g, method), np.zeros(frames[0].shape[:2], dtype=bool)
    raise SingleHDRError(f"unknown merge {method!r}; choose one of: {', '.join(MERGES)}")
