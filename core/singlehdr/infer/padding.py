"""Padding as index maps: symmetric (abc|cba) and circular (360 wrap-around).

Padding is expressed as an integer index map from padded-canvas coordinates to
source coordinates, so a tile can be gathered straight from the unpadded image
(``ldr[np.ix_(rows, cols)]``) without ever materialising a padded full-size copy.

The 1-D maps and the pad amounts are :mod:`singlehdr.geometry.padding`'s (the
TorchScript export scripts the same functions).

Sources:
- numpy ``np.pad(mode="symmetric")``: reflection that *repeats* the edge pixel
  (``abc|cba``), the padding of the authors' test script (Liu et al., CVPR 2020,
  ``test_real.py``: ``np.pad(ldr, 32, 'symmetric')``).  PyTorch's ``reflect``
  (``abc|ba``) is a different thing and is not used.
- numpy ``np.pad(mode="wrap")``: circular padding; an equirectangular
  panorama is periodic in longitude, so its left and right edges are neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..geometry.padding import circular_indices, pad_amounts, symmetric_indices

_CPU = torch.device("cpu")


def symmetric_index(n: int, before: int, after: int) -> np.ndarray:
    """Source indices of a 1-D symmetric (``abc|cba``) padding.

    n: length of the source axis (>= 1); before/after: pad widths (>= 0), any size
        (reflection repeats with period 2n, as ``np.pad(..., "symmetric")``).
    Returns: (before + n + after,) int64 with values in [0, n)
    (:func:`singlehdr.geometry.padding.symmetric_indices`, the export's map, as numpy).
    Example: n=3, before=2, after=2 -> [1, 0, 0, 1, 2, 2, 1].
    """
    _check(n, before, after)
    return symmetric_indices(n, before, after, _CPU).numpy()


def circular_index(n: int, before: int, after: int) -> np.ndarray:
    """Source indices of a 1-D circular padding (``np.pad(..., "wrap")``).

    n: source length (>= 1); before/after: pad widths (>= 0).
    Returns: (before + n + after,) int64 in [0, n).
    Example: n=3, before=2, after=2 -> [1, 2, 0, 1, 2, 0, 1].
    """
    _check(n, before, after)
    return circular_indices(n, before, after, _CPU).numpy()


def _check(n: int, before: int, after: int) -> None:
    if n < 1 or before < 0 or after < 0:
        raise ValueError(f"bad padding n={n} before={before} after={after}")


@dataclass(frozen=True)
class PadPlan:
    """How an (H, W) image sits on its padded canvas.

    rows: (Hp,) source row of every canvas row; cols: (Wp,) source column.
    top, left: where the image starts on the canvas; the crop back is
        ``canvas[top:top + h, left:left + w]``.
    """

    rows: np.ndarray
    cols: np.ndarray
    top: int
    left: int
    h: int
    w: int

    @property
    def canvas_shape(self) -> tuple[int, int]:
        return int(self.rows.size), int(self.cols.size)


def plan_padding(h: int, w: int, multiple: int, border: int = 32, *, wrap_x: bool = False, wrap_margin: int = 64) -> PadPlan:
    """Pad an (h, w) image to a canvas whose sides are multiples of ``multiple``.

    At least ``border`` pixels are added on every side (the authors pad 32 px
    'symmetric' to keep the nets' zero 'same'-padding away from the image), then
    the remainder up to the multiple is split between top/bottom (left/right),
    the extra pixel going to the bottom (right).  Vertically (and horizontally
    unless ``wrap_x``) the padding is symmetric (``abc|cba``); with ``wrap_x`` the
    horizontal padding is circular with at least ``max(border, wrap_margin)``
    pixels, so the 0/360 degree seam of an equirectangular panorama is seen
    by the nets as interior content.

    For h, w already multiples of 64, multiple=64 and border=32 this is exactly
    the authors' ``np.pad(ldr, ((32, 32), (32, 32), (0, 0)), 'symmetric')``.
    """
    m = max(1, int(multiple))
    top, bottom = pad_amounts(h, m, border)
    rows = symmetric_index(h, top, bottom)
    bx = max(border, wrap_margin) if wrap_x else border
    left, right = pad_amounts(w, m, bx)
    cols = (circular_index if wrap_x else symmetric_index)(w, left, right)
    return PadPlan(rows=rows, cols=cols, top=top, left=left, h=h, w=w)


def gather(ldr: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``ldr[rows][:, cols]`` for an (H, W, C) array, slicing when the maps are contiguous.

    Returns: (len(rows), len(cols), C) array (a view when both maps are plain ranges).
    """

    def as_slice(idx: np.ndarray) -> slice | np.ndarray:
        if idx.size and idx[-1] - idx[0] == idx.size - 1 and np.all(np.diff(idx) == 1):
            return slice(int(idx[0]), int(idx[-1]) + 1)
        return idx

    r, c = as_slice(rows), as_slice(cols)
    if isinstance(r, slice) and isinstance(c, slice):
        return ldr[r, c]
    if isinstance(r, slice):
        return ldr[r][:, c]
    if isinstance(c, slice):
        return ldr[:, c][r]
    return ldr[np.ix_(r, c)]
