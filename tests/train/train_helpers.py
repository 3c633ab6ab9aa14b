"""Tiny synthetic HDR folders for the training tests (real EXR files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_hdr_folder(folder: Path, n: int = 3, h: int = 48, w: int = 96, seed: int = 0) -> Path:
    """Write ``n`` small float32 EXRs with smooth texture and a bright 'sun'."""
    from singlehdr.io import write_hdr

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / float(h)
    for i in range(n):
        ph = rng.uniform(0, 6, 3)
        img = np.stack([np.sin(xx * 3 + ph[0]) + 1.2, np.cos(yy * 4 + ph[1]) + 1.1, 0.4 * xx + 0.2 + 0.3 * np.sin(ph[2])], -1)
        img = img.astype(np.float32) * 0.5
        y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 12)
        img[y0 : y0 + 6, x0 : x0 + 10] = 30.0
        write_hdr(folder / f"hdr{i}.exr", img, half=False)
    return folder
