"""Overlapping tiles and their smooth blending weights (1-D, separable).

A canvas axis of length n is covered by tiles of length ``tile`` that overlap
by at least ``overlap`` pixels.  Each tile is weighted along the axis by a
raised-cosine (Hann) ramp over ``overlap`` pixels at every side it shares with
a neighbour, and 1 elsewhere; the weights of all tiles are then divided by
their sum, so the blend is a partition of unity.  Weights are separable:
the 2-D weight of tile (i, j) is ``wy_i[:, None] * wx_j[None, :]`` and its
normalisation is the product of the two 1-D sums, so no full-size weight
image is ever needed.

Source: the raised-cosine cross-fade is the standard overlap-add window
(Hann window halves; w(t) + w(O - 1 - t) = 1 for
w(t) = 1/2 - 1/2 cos(pi (t + 1/2) / O), since cos(a) + cos(pi - a) = 0).
"""

from __future__ import annotations

import numpy as np


def tile_starts(n: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering [0, n) with overlaps >= ``overlap``.

    The first tile starts at 0, the last ends at n, the others are spread evenly
    and rounded to multiples of ``align`` (use the nets' down-sampling factor so
    every tile sees the same pooling grid as an untiled run; n - tile must then
    be a multiple of ``align`` too).  If n <= tile: one tile [0].
    Requires 0 <= overlap < tile.
    Example: n=1000, tile=512, overlap=64 -> [0, 244, 488] (two tiles would overlap by only 24).
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap {overlap} must be in [0, tile={tile})")
    if n <= tile:
        return [0]
    a = max(1, int(align))
    count = max(2, -(-(n - overlap) // (tile - overlap)))
    while True:
        starts = [int(round(i * (n - tile) / (count - 1) / a)) * a for i in range(count)]
        starts[-1] = n - tile
        if all(starts[i] + tile - starts[i + 1] >= overlap for i in range(count - 1)):
            return starts
        count += 1


def raised_cosine_ramp(length: int) -> np.ndarray:
    """Rising half-Hann ramp w(t) = 1/2 - 1/2 cos(pi (t + 1/2) / length), t = 0..length-1.

    Returns: (length,) float64 in (0, 1); w(t) + w(length - 1 - t) = 1.
    Example: length=2 -> [0.1464466, 0.8535534].
    """
    t = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(np.pi * (t + 0.5) / max(1, length))


def axis_weights(n: int, starts: list[int], tile: int, overlap: int) -> list[np.ndarray]:
    """Normalised 1-D blending weights of each tile along one axis.

    n: canvas length; starts: from :func:`tile_starts`; tile: tile length
    (a single tile shorter than ``tile`` is clipped to n).
    Returns: one (min(tile, n),) float32 array per tile; at every position the
    weights of the tiles covering it sum to 1.
    """
    ramp = raised_cosine_ramp(overlap) if overlap > 0 else np.zeros(0)
    raw = []
    for i, s in enumerate(starts):
        length = min(tile, n - s)
        w = np.ones(length, dtype=np.float64)
        if overlap > 0 and i > 0:
            w[:overlap] = ramp
        if overlap > 0 and i < len(starts) - 1:
            w[length - overlap :] = np.minimum(w[length - overlap :], ramp[::-1])
        raw.append(w)
    total = np.zeros(n, dtype=np.float64)
    for s, w in zip(starts, raw):
        total[s : s + w.size] += w
    return [(w / total[s : s + w.size]).astype(np.float32) for s, w in zip(starts, raw)]
