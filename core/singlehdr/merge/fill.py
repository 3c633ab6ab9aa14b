"""Let the networks (or a training-free operator) fill only what is still clipped.

The merged / RAW result is exact wherever some frame saw the scene; where
even the darkest frame (or the sensor) clipped it holds only a lower bound.
:func:`fill_clipped` renders that lower-bound HDR as the LDR the darkest
frame would have been through a plain sRGB camera (clipped exactly where the
merge is), reconstructs it with the public :func:`singlehdr.reconstruct`,
scales the reconstruction to the merge on a ring of well-exposed pixels
around the clipped region, and uses it only inside the clip mask, never
below the lower bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..colour import LUMA_709

#: Ring around the clip mask used to match the reconstruction's scale (pixels).
RING_PX = 6


def render_ldr(hdr_linear: np.ndarray, exposure: float) -> np.ndarray:
    """sRGB-encode hdr * exposure, clipped to [0, 1]: (H, W, 3) float32 (the synthetic darkest frame)."""
    from ..camera.transfer import linear_to_srgb

    return linear_to_srgb(np.clip(np.asarray(hdr_linear, dtype=np.float32) * np.float32(exposure), 0.0, 1.0))


def _lum(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) @ np.asarray(LUMA_709, dtype=np.float64)


def fill_clipped(hdr_linear: np.ndarray, clip: np.ndarray, options: Any, *, exposure: float = 1.0,
                 wrap_x: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Replace the clipped pixels of a merged HDR by a scaled reconstruction.

    hdr_linear: (H, W, 3) float32 lin Rec.709 (merge or RAW), lower bound in
        ``clip``; clip: (H, W) bool; options: ReconstructOptions (method,
        model, device ...; exposure/colour space are forced to relative /
        lin_rec709 here); exposure: the factor that brings the clip level to
        1.0 (the darkest frame's exposure relative to the reference; 1.0 for
        RAW); wrap_x: a 360 pano (the networks then wrap the seam).
    Returns (filled hdr (H, W, 3) float32, facts: clipped_fraction,
    fill_scale, ring_pixels, fill_gain (luminance sum filled / lower bound
    inside the mask), fill_method).
    """
    import cv2

    from ..api import reconstruct

    clip = np.asarray(clip, dtype=bool)
    facts: dict[str, Any] = {"clipped_fraction": float(clip.mean())}
    if not clip.any():
        facts.update(fill_scale=1.0, ring_pixels=0, fill_gain=1.0)
        return np.asarray(hdr_linear, dtype=np.float32), facts
    ldr = render_ldr(hdr_linear, exposure)
    kind = "equirect" if wrap_x else ("photo" if options.input_kind == "auto" else options.input_kind)
    opts = options.replace(exposure="relative", colorspace="lin_rec709", input_kind=kind)
    rec = reconstruct(ldr, opts).hdr_linear.astype(np.float32) / np.float32(exposure)
    k = np.ones((2 * RING_PX + 1, 2 * RING_PX + 1), np.uint8)
    ring = cv2.dilate(clip.astype(np.uint8), k).astype(bool) & ~clip
    lit = ldr.max(axis=-1)
    sel = ring & (lit > 0.2) & (lit < 0.9)
    if sel.sum() < 8:
        sel = ~clip & (lit > 0.05) & (lit < 0.95)
    ym, yr = _lum(hdr_linear), _lum(rec)
    sel = sel & (ym > 0) & (yr > 0)
    s = float(np.exp(np.median(np.log(ym[sel]) - np.log(yr[sel])))) if sel.any() else 1.0
    filled = np.array(hdr_linear, dtype=np.float32, copy=True)
    inside = np.maximum(filled[clip], rec[clip] * np.float32(s))
    lb = _lum(filled[clip]).sum()
    filled[clip] = inside
    facts.update(fill_scale=s, ring_pixels=int(sel.sum()), fill_gain=float(_lum(inside).sum() / lb) if lb > 0 else 1.0,
                 fill_method=opts.method)
    return filled, facts
