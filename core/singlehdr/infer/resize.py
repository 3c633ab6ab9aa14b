"""Resampling used by the engine: the authors' bicubic resize and an area downsample.

Sources:
- Liu et al. (CVPR 2020) ``test_real.py`` resizes with OpenCV
  ``cv2.resize(ldr, (W64, H64), interpolation=cv2.INTER_CUBIC)`` on float32
  images, and back the same way.  OpenCV's INTER_CUBIC is Keys' cubic
  convolution with a = -0.75 (R. Keys, "Cubic convolution interpolation for
  digital image processing", IEEE TASSP 1981, with OpenCV's choice of a),
  pixel centres at (i + 0.5) (source x = (x_dst + 0.5) * in/out - 0.5),
  out-of-range taps clamped to the edge (replicate) and no antialiasing when
  shrinking.  ``torch.nn.functional.interpolate(mode="bicubic",
  align_corners=False, antialias=False)`` implements exactly that kernel,
  centre convention and clamping, so we use it (checked against real
  ``cv2.resize`` in tests/infer/test_resize.py to ~1e-6).  scipy's
  ``ndimage.zoom`` (cubic B-spline, different centres) would NOT match.
- Area downsampling (box filter, integer factor) for the bounded-size copy the
  inverse CRF is estimated on: each output pixel is the mean of a k x k block;
  :func:`downsample_to_long_side` follows it with an antialiased bilinear
  resize so the copy has the same size for every large input (the engine's
  memory then stops growing with the image).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def keys_cubic(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel W(t) (a = -0.75 as in OpenCV INTER_CUBIC).

    W(t) = (a+2)|t|^3 - (a+3)|t|^2 + 1            for |t| <= 1
         = a|t|^3 - 5a|t|^2 + 8a|t| - 4a           for 1 < |t| < 2
         = 0                                      otherwise.
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    w1 = (a + 2) * t**3 - (a + 3) * t**2 + 1
    w2 = a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return np.where(t <= 1, w1, np.where(t < 2, w2, 0.0))


def bicubic_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an (H, W, C) float32 image like ``cv2.resize(..., INTER_CUBIC)``.

    image: (H, W, C) float array; height, width: output size (>= 1).
    Returns: (height, width, C) float32.  Values may overshoot the input range
    (cubic ringing), exactly as OpenCV's do.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.shape[0] == height and img.shape[1] == width:
        return img.copy()
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
    with torch.inference_mode():
        out = F.interpolate(t, size=(int(height), int(width)), mode="bicubic", align_corners=False, antialias=False)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).numpy(), dtype=np.float32)


def area_downsample(image: np.ndarray, max_side: int, *, rows_per_chunk: int = 512, factor: int | None = None) -> np.ndarray:
    """Box-filter an (H, W, C) image by the smallest integer factor k with max(H, W) / k <= max_side.

    Each output pixel is the mean of a k x k block; the last H % k rows and
    W % k columns (fewer than k pixels) are dropped.  Works in row strips so a
    32 MP input needs no full-size temporary.
    image: (H, W, C); max_side >= 1; factor: use this k instead.
    Returns: (H // k, W // k, C) float32 (the input itself, as float32, when k = 1).
    """
    h, w = image.shape[:2]
    k = int(factor) if factor else max(1, -(-max(h, w) // int(max_side)))
    if k == 1:
        return np.asarray(image, dtype=np.float32)
    ho, wo, c = h // k, w // k, image.shape[2]
    out = np.empty((ho, wo, c), dtype=np.float32)
    step = max(1, rows_per_chunk // k)
    for r0 in range(0, ho, step):
        r1 = min(ho, r0 + step)
        block = np.asarray(image[r0 * k : r1 * k, : wo * k], dtype=np.float32)
        out[r0:r1] = block.reshape(r1 - r0, k, wo, k, c).mean(axis=(1, 3))
    return out


def downsample_to_long_side(image: np.ndarray, side: int) -> np.ndarray:
    """Shrink an (H, W, C) image so its long side is exactly ``side`` (aspect kept).

    A strip-wise box filter by k = floor(max(H, W) / side) first (no full-size
    temporary; its result's long side lies in [side, 2 side)), then an
    antialiased bilinear resize (torch, ``antialias=True``) of that small copy.
    Returns float32; the input itself (as float32) when its long side <= side.
    """
    h, w = image.shape[:2]
    long_side = max(h, w)
    if long_side <= side:
        return np.asarray(image, dtype=np.float32)
    box = area_downsample(image, side, factor=long_side // int(side))
    bh, bw = box.shape[:2]
    scale = side / max(bh, bw)
    oh, ow = max(1, round(bh * scale)), max(1, round(bw * scale))
    if (oh, ow) == (bh, bw):
        return box
    t = torch.from_numpy(np.ascontiguousarray(box)).permute(2, 0, 1)[None]
    with torch.inference_mode():
        out = F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False, antialias=True)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).numpy(), dtype=np.float32)
