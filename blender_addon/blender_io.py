"""Moving pixels between bpy.types.Image and numpy (thin over convert.py)."""

from __future__ import annotations

import bpy
import numpy as np

from .convert import blender_pixels, ldr_from_pixels


def read_ldr(image: bpy.types.Image):
    """A Blender image -> singlehdr.LDRImage, (H, W, 3) top-down.

    Uses ``pixels.foreach_get`` into float32 (rows bottom-up in Blender).
    """
    width, height = image.size[:]
    channels = image.channels
    flat = np.empty(width * height * channels, dtype=np.float32)
    if flat.size:
        image.pixels.foreach_get(flat)
    return ldr_from_pixels(
        flat,
        width,
        height,
        channels,
        colorspace_name=image.colorspace_settings.name,
        is_float=image.is_float,
        name=image.name,
    )


def write_float_image(name: str, hdr_linear: np.ndarray, colorspace_name: str, *, existing=None) -> bpy.types.Image:
    """Store (H, W, 3) linear float32 in a packed float image named ``name``.

    Reuses ``existing`` when it has the same size (so nodes that show it keep
    it); otherwise makes a new image.  The colour space is set *before* the
    pixels are filled (changing it afterwards wipes them); alpha is 1; the image
    is packed (OpenEXR inside the .blend) and has a fake user.
    """
    h, w = hdr_linear.shape[:2]
    image = existing
    if image is None or tuple(image.size[:]) != (w, h) or not image.is_float:
        image = bpy.data.images.new(name, w, h, alpha=True, float_buffer=True)
    image.colorspace_settings.name = colorspace_name
    image.pixels.foreach_set(blender_pixels(hdr_linear))
    image.update()
    image.pack()
    image.use_fake_user = True
    return image


def read_pixels(image: bpy.types.Image) -> np.ndarray:
    """Image pixels as (H, W, C) float32, top-down (for checks and tests)."""
    from .convert import pixels_top_down

    width, height = image.size[:]
    flat = np.empty(width * height * image.channels, dtype=np.float32)
    image.pixels.foreach_get(flat)
    return pixels_top_down(flat, width, height, image.channels)
