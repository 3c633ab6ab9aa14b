"""Panorama geometry shared by every layer (the bottom layer: imports nothing from singlehdr).

One rule says when an image is a 360 equirectangular panorama, so `reconstruct`
(circular padding at the seam), `envmap` (kind detection), the brackets merge,
training crops and the evaluation never disagree about the same picture.
"""

from __future__ import annotations

from typing import Any, Mapping

#: Panoramas lower than this are treated as photos (too small to wrap meaningfully).
EQUIRECT_MIN_HEIGHT = 16
#: How far from exactly 2:1 a panorama's aspect may be.
EQUIRECT_ASPECT_TOLERANCE = 0.01


def is_equirect_shape(h: int, w: int, min_height: int = EQUIRECT_MIN_HEIGHT) -> bool:
    """A 2:1 image at least ``min_height`` high is a 360 x 180 degree equirect panorama."""
    return h >= min_height and h > 0 and abs(w / h - 2.0) < EQUIRECT_ASPECT_TOLERANCE


def is_equirect_xmp(xmp: Mapping[str, Any] | None) -> bool:
    """GPano XMP says so (Google Photo Sphere metadata: GPano:ProjectionType = equirectangular)."""
    return str((xmp or {}).get("GPano:ProjectionType", "")).lower() == "equirectangular"


def is_equirect_image(h: int, w: int, xmp: Mapping[str, Any] | None = None) -> bool:
    """The panorama rule every caller uses: GPano XMP, else a 2:1 shape (:func:`is_equirect_shape`)."""
    return is_equirect_xmp(xmp) or is_equirect_shape(h, w)
