"""The option choices of singlehdr: one list per option, with menu labels.

The one source of the values that the CLI (``singlehdr.options``), the
Blender add-on's menus and the Nuke gizmo's knobs offer.  This module imports
nothing (no torch, no numpy, not even the rest of singlehdr): the hosts ship
byte-identical copies of it (``blender_addon/choices.py``,
``nuke_gizmo/singlehdr_nuke/choices.py``), made by
``python tools/sync_host_choices.py``; tests/test_options_cli.py fails when a
copy (or a list in nuke_gizmo/SingleHDR.gizmo) differs from this file.
Edit the values here only, then run the tool.
"""

from __future__ import annotations

METHODS_NETWORK = ("singlehdr",)
METHODS_CLASSICAL = ("inverse-srgb", "akyuz", "kovaleski")
METHODS = METHODS_NETWORK + METHODS_CLASSICAL
DEVICES = ("auto", "cpu", "cuda", "mps")  # and "cuda:N", checked by pattern
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
INPUT_KINDS = ("auto", "photo", "equirect")
RESIZE_MODES = ("pad", "reference")
EXPOSURE_MODES = ("relative", "absolute", "median")
LINEARIZATIONS = ("model", "learned", "srgb", "gated")
HIGHLIGHTS = ("model", "network", "colour")
# singlehdr.io.colorspace.COLORSPACES keys (a test keeps them equal)
COLORSPACES = ("lin_rec709", "acescg", "aces2065_1", "lin_rec2020")
# singlehdr.envmap: EnvmapOptions.kind and .sun (make.KINDS, sun.SUN_MODES; a test keeps them equal)
ENVMAP_KINDS = ("auto", "equirect", "ball", "photo")
SUN_MODES = ("auto", "on", "off")

# value -> (menu label, one-line description), for the hosts' menus
LABELS = {
    "method": {
        "singlehdr": ("SingleHDR network", "The learned reconstruction (Liu et al. 2020); needs torch and a model"),
        "inverse-srgb": ("Inverse sRGB only", "Only undo the sRGB encoding; clipped areas stay at 1.0"),
        "akyuz": ("Akyuz (classical)", "Training-free expansion operator (Akyuz et al. 2007); fast, no model needed"),
        "kovaleski": ("Kovaleski (classical)", "Training-free expansion operator (Kovaleski & Oliveira 2014)"),
    },
    "device": {
        "auto": ("Auto", "CUDA, then Apple MPS, then CPU"),
        "cpu": ("CPU", "Run on the CPU"),
        "cuda": ("CUDA", "Run on an NVIDIA GPU"),
        "mps": ("Apple MPS", "Run on an Apple-silicon GPU"),
    },
    "exposure": {
        "relative": ("Relative", "LDR white = 1.0 (the photo's own exposure)"),
        "absolute": ("Absolute", "Physical units from the photo's EXIF exposure (cd/m^2; a Sun lamp in W/m^2 to match)"),
        "median": ("Median", "Scale so the map's median luminance is 0.18"),
    },
    "input_kind": {
        "auto": ("Auto", "Detect from the image (2:1 or GPano metadata = 360 panorama)"),
        "photo": ("Ordinary photo", "A photo with a limited field of view"),
        "equirect": ("360 panorama", "An equirectangular 360 x 180 photo-sphere"),
    },
    "envmap_kind": {
        "auto": ("Auto", "Detect from the image (2:1 or GPano metadata = 360 panorama)"),
        "equirect": ("360 panorama", "An equirectangular 360 x 180 photo-sphere"),
        "ball": ("Chrome ball", "A photo of a mirror ball"),
        "photo": ("Ordinary photo", "A photo with a limited field of view"),
    },
}

# which list each LABELS menu offers
MENU_VALUES = {
    "method": METHODS,
    "device": DEVICES,
    "exposure": EXPOSURE_MODES,
    "input_kind": INPUT_KINDS,
    "envmap_kind": ENVMAP_KINDS,
}


def menu_items(name: str) -> tuple:
    """((value, label, description), ...) of one menu, in the order of its list."""
    labels = LABELS[name]
    return tuple((value, labels[value][0], labels[value][1]) for value in MENU_VALUES[name])
