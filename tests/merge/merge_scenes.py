"""Synthetic scenes and brackets for the merge tests (known HDR in, exact frames out)."""

from __future__ import annotations

import numpy as np


def make_scene(h: int = 64, w: int = 128, seed: int = 0, sun: float = 60.0) -> np.ndarray:
    """(h, w, 3) float32 HDR: a textured log ramp from ~0.004 to ~3.5, coloured, with a 'sun' blob of ``sun``."""
    import cv2

    rng = np.random.default_rng(seed)
    ramp = np.power(10.0, np.linspace(-2.4, 0.55, w))[None, :, None]
    tex = cv2.resize(rng.uniform(0.5, 1.5, (h // 8, w // 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.uniform(0.8, 1.2, (h // 2, w // 2, 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    img = (ramp * np.clip(tex, 0.3, 2.0) * fine).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    blob = ((yy - h * 0.3) ** 2 + (xx - w * 0.8) ** 2) < (min(h, w) * 0.08) ** 2
    img[blob] = np.array([1.0, 0.95, 0.85], np.float32) * sun
    return img


def shoot(hdr: np.ndarray, ev: float, curve: str = "srgb", quality: int = 101) -> np.ndarray:
    """One 8-bit frame at 2^ev through a named camera curve (JPEG when quality <= 100)."""
    from singlehdr.camera.crf import apply_curve, named_curves
    from singlehdr.camera.forward import jpeg

    return jpeg(apply_curve(np.clip(hdr * 2.0**ev, 0.0, 1.0), named_curves()[curve]), quality)



def make_blocks(h: int = 96, w: int = 128, seed: int = 0, block: int = 6) -> np.ndarray:
    """(h, w, 3) float32 HDR of random grey-ish blocks, log-uniform 0.01 .. 2: strong edges for alignment."""
    rng = np.random.default_rng(seed)
    small = np.power(10.0, rng.uniform(-2.0, 0.3, (h // block + 1, w // block + 1, 1)))
    tint = rng.uniform(0.8, 1.2, (h // block + 1, w // block + 1, 3))
    img = np.repeat(np.repeat(small * tint, block, axis=0), block, axis=1)[:h, :w]
    return img.astype(np.float32)
