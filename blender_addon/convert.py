"""Pure helpers between Blender's data and singlehdr's public API (no bpy here).

Everything in this module works on plain numpy arrays and strings so that it
can be reasoned about (and tested) apart from Blender's UI code.  singlehdr
itself is imported lazily, inside the functions that need it: the add-on must
register and draw a clear message even when singlehdr/torch are missing.

Blender facts this module encodes (measured with bpy 5.0.1, see
tests/hosts/test_blender_addon.py):

- ``Image.pixels`` is a flat float array of ``width * height * channels``
  values, rows bottom-up (OpenGL convention), RGBA for every image Blender
  creates or loads.
- Byte (8-bit) images give their stored values / 255, i.e. values in the
  image's own colour space: an 8-bit sRGB image gives sRGB-encoded values.
- Float images (EXR, 16-bit PNG/TIFF, generated float buffers) give
  scene-linear values in the blend file's working space
  (``bpy.data.colorspace.working_space``, 'Linear Rec.709' by default).
- A generated float image tagged with a colour space other than the working
  space is *not* converted in memory, but *is* converted when the packed file
  is reloaded; so baked pixels must be written in the working space and the
  image tagged with the working space's name.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

# Blender 5.0 working spaces (bpy.data.colorspace.working_space) -> singlehdr
# colour-space keys (singlehdr.io.colorspace.COLORSPACES).
BLENDER_TO_SINGLEHDR: dict[str, str] = {
    "Linear Rec.709": "lin_rec709",
    "Linear Rec.2020": "lin_rec2020",
    "ACEScg": "acescg",
}

# Byte-image colour spaces whose stored values are sRGB-encoded (Non-Color data
# is passed on as stored, which for photos means sRGB-encoded).
SRGB_ENCODED = ("sRGB", "Non-Color")
LINEAR_SPACES = tuple(BLENDER_TO_SINGLEHDR) + ("scene_linear", "Linear CIE-XYZ D65", "Linear DCI-P3 D65")

# The menus offer singlehdr's own lists (choices.py is a generated copy of
# core/singlehdr/choices.py, which imports nothing; tools/sync_host_choices.py).
# A .blend file stores an enum property as its number: these are the numbers
# the add-on has always saved for the properties kept in files (the node's
# method and input kind); a value new to singlehdr gets the next free number.
STORED_NUMBERS: dict[str, dict[str, int]] = {
    "method": {"singlehdr": 0, "akyuz": 1, "kovaleski": 2, "inverse-srgb": 3},
    "input_kind": {"auto": 0, "equirect": 1, "photo": 2},
}


def enum_items(menu: str) -> tuple[tuple[str, str, str, str, int], ...]:
    """bpy EnumProperty items (identifier, name, description, icon, number) of one singlehdr menu."""
    from .choices import menu_items

    items = menu_items(menu)
    numbers = dict(STORED_NUMBERS.get(menu, {}))
    free = max(numbers.values(), default=-1) + 1
    out = []
    for value, label, description in items:
        if value not in numbers:
            numbers[value], free = free, free + 1
        out.append((value, label, description, "NONE", numbers[value]))
    return tuple(out)


METHOD_ITEMS = enum_items("method")
DEVICE_ITEMS = enum_items("device")
KIND_ITEMS = enum_items("envmap_kind")  # the World's input geometry (singlehdr envmap --kind)
INPUT_KIND_ITEMS = enum_items("input_kind")  # a photo or panorama to reconstruct (--input-kind)
EXPOSURE_ITEMS = enum_items("exposure")


def singlehdr_status(method: str = "singlehdr") -> tuple[bool, str]:
    """Whether singlehdr (and torch, for the network) can be imported.

    Returns (ok, message); the message says what to do when not ok.  Uses
    importlib.util.find_spec only, so it is cheap and imports nothing.
    """
    if importlib.util.find_spec("singlehdr") is None:
        return False, "singlehdr is not installed in Blender's Python: run install/blender.sh (see the add-on README)"
    if method == "singlehdr" and importlib.util.find_spec("torch") is None:
        return False, "torch is missing in Blender's Python: run install/blender.sh, or choose a classical method"
    return True, "singlehdr is ready"


def working_space_key(blender_name: str) -> str:
    """singlehdr colour-space key for a Blender working space name.

    Raises SingleHDRError for a working space singlehdr cannot write.
    """
    try:
        return BLENDER_TO_SINGLEHDR[blender_name]
    except KeyError:
        from singlehdr.errors import SingleHDRError

        raise SingleHDRError(
            f"the blend file's working colour space {blender_name!r} is not supported; "
            f"set it to one of: {', '.join(BLENDER_TO_SINGLEHDR)}"
        ) from None


def source_transfer(colorspace_name: str, is_float: bool) -> str:
    """How a Blender image's ``pixels`` are encoded: "srgb" or "linear".

    Float images are always scene-linear in Blender; byte images are in their
    own colour space (sRGB or Non-Color -> "srgb", linear spaces -> "linear").
    Raises SingleHDRError for display spaces singlehdr cannot undo.
    """
    if is_float or colorspace_name in LINEAR_SPACES:
        return "linear"
    if colorspace_name in SRGB_ENCODED:
        return "srgb"
    from singlehdr.errors import SingleHDRError

    raise SingleHDRError(
        f"source image colour space {colorspace_name!r} is not supported; "
        "set the image's colour space to sRGB (for photos) in the Image editor sidebar"
    )


def pixels_top_down(flat: np.ndarray, width: int, height: int, channels: int) -> np.ndarray:
    """Blender's flat bottom-up pixels -> (H, W, C) float32 top-down rows.

    flat: (height * width * channels,) as filled by ``Image.pixels.foreach_get``.
    """
    a = np.asarray(flat, dtype=np.float32)
    if a.size != width * height * channels:
        raise ValueError(f"expected {width}x{height}x{channels} values, got {a.size}")
    return np.ascontiguousarray(a.reshape(height, width, channels)[::-1])


def ldr_from_pixels(
    flat: np.ndarray, width: int, height: int, channels: int, *, colorspace_name: str, is_float: bool, name: str = ""
) -> Any:
    """Blender image pixels -> singlehdr.LDRImage (H, W, 3) top-down.

    8-bit sRGB images keep their sRGB-encoded values (transfer "srgb"); float
    and linear images are marked transfer "linear" so that singlehdr.reconstruct
    sRGB-encodes them itself.  Alpha is dropped (the bake writes alpha 1).
    """
    from singlehdr.errors import SingleHDRError
    from singlehdr.types import LDRImage

    if width < 1 or height < 1:
        raise SingleHDRError(f"source image {name!r} has no pixels; check that its file can be found")
    transfer = source_transfer(colorspace_name, is_float)
    rgba = pixels_top_down(flat, width, height, channels)
    rgb = rgba[..., :3] if channels >= 3 else np.repeat(rgba[..., :1], 3, axis=2)
    return LDRImage.from_array(rgb, bit_depth=16 if is_float else 8, transfer=transfer)


def blender_pixels(hdr_linear: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) top-down float32 -> flat bottom-up RGBA float32 for ``foreach_set``.

    alpha: (H, W) or None (= 1.0 everywhere).
    """
    h, w = hdr_linear.shape[:2]
    rgba = np.empty((h, w, 4), dtype=np.float32)
    rgba[..., :3] = hdr_linear[..., :3]
    rgba[..., 3] = 1.0 if alpha is None else alpha
    return np.ascontiguousarray(rgba[::-1]).ravel()


def make_options(method: str, *, model_path: str = "", device: str = "auto", input_kind: str = "auto", colorspace: str = "lin_rec709") -> Any:
    """A singlehdr.ReconstructOptions from the add-on's settings ('' model = the shipped default)."""
    from singlehdr import ReconstructOptions

    return ReconstructOptions(
        method=method, model=model_path or None, device=device, input_kind=input_kind, colorspace=colorspace
    )


def output_name(stem: str) -> str:
    """File name of the HDR written for a source photo ``stem``."""
    safe = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in stem) or "photo"
    return f"{safe}_singlehdr.exr"
