"""Median-threshold-bitmap alignment (Ward 2003) with OpenCV's AlignMTB.

Source: G. Ward, "Fast, robust image registration for compositing high
dynamic range photographs from hand-held exposures", JGT 8(2), 2003;
OpenCV ``cv2.AlignMTB`` (photo module).  MTB compares bitmaps thresholded at
each image's median, so it is independent of exposure and response.

For a 360 equirect input the horizontal shift wraps: the frames are padded
circularly left and right before the shift is measured, and the shift is
applied with a circular roll, so a pixel leaving at the right edge comes
back at the left.  Vertical shifts (and horizontal ones of ordinary photos)
replicate the edge.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _gray_u8(ldr: np.ndarray) -> np.ndarray:
    a = np.asarray(ldr, dtype=np.float32)
    g = a @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if a.ndim == 3 else a
    return np.round(np.clip(g, 0.0, 1.0) * 255.0).astype(np.uint8)


def _mtb(max_bits: int):  # -> cv2.AlignMTB
    import cv2

    return cv2.createAlignMTB(max_bits=int(max_bits), exclude_range=4, cut=False)


#: A measured shift must leave at most this fraction of the unshifted bitmap differences.
SHIFT_GAIN = 0.8
#: The coarsest pyramid level AlignMTB may use, in pixels (shorter side).
MIN_LEVEL_PX = 8


def usable_bits(h: int, w: int, max_bits: int) -> int:
    """Pyramid depth for an h x w image: the coarsest level keeps >= MIN_LEVEL_PX on its shorter side."""
    side = min(h, w)
    bits = 0
    while bits < int(max_bits) and side / 2 ** (bits + 1) >= MIN_LEVEL_PX:
        bits += 1
    return bits


def measure_shift(reference: np.ndarray, moving: np.ndarray, *, wrap_x: bool = False, max_bits: int = 6) -> tuple[int, int]:
    """(dx, dy) in pixels to apply to ``moving`` so it lines up with ``reference``.

    reference, moving: (H, W, 3) or (H, W) display-referred [0, 1] images of
    the same size (any exposure).  The largest shift found is 2^max_bits - 1;
    max_bits is lowered for small images (:func:`usable_bits`).
    wrap_x: the images are 360 panoramas (the horizontal shift wraps).
    """
    a, b = _gray_u8(reference), _gray_u8(moving)
    h, w = a.shape
    max_bits = usable_bits(h, w, max_bits)
    if max_bits < 1:
        return 0, 0
    if wrap_x:
        pad = min(w, 2 ** int(max_bits))
        a = np.pad(a, ((0, 0), (pad, pad)), mode="wrap")
        b = np.pad(b, ((0, 0), (pad, pad)), mode="wrap")
    mtb = _mtb(max_bits)
    dx, dy = (int(v) for v in mtb.calculateShift(a, b))
    if dx or dy:
        # the pyramid search is greedy: keep its answer only when it clearly beats no shift at full
        # resolution (fewer differing median-threshold bits), so a tripod bracket is never moved by noise
        tb_a, eb_a = mtb.computeBitmaps(a)
        tb_b, eb_b = mtb.computeBitmaps(b)

        def errors(sx: int, sy: int) -> int:
            tb = apply_shift(tb_b, sx, sy, wrap_x=wrap_x)
            eb = apply_shift(eb_b, sx, sy, wrap_x=wrap_x)
            return int(np.count_nonzero((tb_a != tb) & (eb_a > 0) & (eb > 0)))

        if errors(dx, dy) >= SHIFT_GAIN * errors(0, 0):
            dx, dy = 0, 0
    if wrap_x:
        dx = ((dx + w // 2) % w) - w // 2
    return dx, dy


def apply_shift(image: np.ndarray, dx: int, dy: int, *, wrap_x: bool = False) -> np.ndarray:
    """Shift an (H, W, ...) image by (dx, dy) pixels (+x right, +y down).

    Horizontal: a circular roll when ``wrap_x``, else edge replication;
    vertical: edge replication.  Same dtype and shape out.
    """
    a = np.asarray(image)
    h, w = a.shape[:2]
    if wrap_x:
        a = np.roll(a, dx, axis=1)
    elif dx:
        idx = np.clip(np.arange(w) - dx, 0, w - 1)
        a = a[:, idx]
    if dy:
        idy = np.clip(np.arange(h) - dy, 0, h - 1)
        a = a[idy]
    return np.ascontiguousarray(a)


def align_frames(frames: Sequence[np.ndarray], reference: int, *, wrap_x: bool = False, max_bits: int = 6) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Align every frame to ``frames[reference]``.

    Each frame is aligned to its neighbour towards the reference (exposures
    2 EV apart share more mid-tones than the ends of a long bracket) and the
    shifts are accumulated.  Returns (aligned frames, [(dx, dy)] per frame).
    """
    n = len(frames)
    shifts: list[tuple[int, int]] = [(0, 0)] * n
    for direction in (-1, 1):
        acc = (0, 0)
        i = reference + direction
        while 0 <= i < n:
            dx, dy = measure_shift(frames[i - direction], frames[i], wrap_x=wrap_x, max_bits=max_bits)
            acc = (acc[0] + dx, acc[1] + dy)
            shifts[i] = acc
            i += direction
    out = [apply_shift(f, dx, dy, wrap_x=wrap_x) if (dx or dy) else np.asarray(f) for f, (dx, dy) in zip(frames, shifts)]
    return out, shifts
