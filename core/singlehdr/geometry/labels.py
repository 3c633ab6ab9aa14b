"""Connected regions of a mask, optionally on a 360 panorama whose left and right edges touch."""

from __future__ import annotations

import numpy as np


def label_regions(mask: np.ndarray, *, wrap_x: bool = False, eight: bool = False) -> np.ndarray:
    """(H, W) int labels (0 = background, 1.. = regions) of a boolean mask.

    eight: 8-connected (diagonal neighbours join) instead of 4-connected.  wrap_x: regions that touch across
    the seam (column W-1 next to column 0, same row, and the rows above and below when ``eight``) are one.
    """
    from scipy import ndimage

    lab, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=int) if eight else None)
    if n == 0 or not wrap_x:
        return lab
    parent = np.arange(n + 1)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    h = lab.shape[0]
    for di in ((-1, 0, 1) if eight else (0,)):
        rows = np.arange(max(0, -di), min(h, h - di))
        for a, b in zip(lab[rows, -1], lab[rows + di, 0]):
            if a and b:
                ra, rb = find(int(a)), find(int(b))
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(k) for k in range(n + 1)])
    return roots[lab]


def region_max(lab: np.ndarray, values: np.ndarray, n: int | None = None) -> np.ndarray:
    """(n + 1,) the largest of ``values`` over each region of ``lab`` (index 0, the background: -inf), computed on the
    labelled pixels only (a small share of a big image)."""
    n = int(lab.max()) if n is None else int(n)
    out = np.full(n + 1, -np.inf)
    inside = lab > 0
    np.maximum.at(out, lab[inside], np.asarray(values, np.float64)[inside])
    return out
