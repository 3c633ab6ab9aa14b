"""singlehdr.preview: tone-mapped previews, exposure brackets, false colour.

    tonemap(hdr_linear, exposure=0.0, operator="reinhard"|"clip") -> ldr_srgb (H, W, 3) float32
    exposure_brackets(hdr_linear, stops) -> [(ev, ldr_srgb)]
    false_colour(hdr_linear, ev_min, ev_max) / false_colour_with_legend(...)
    write_preview(path, hdr_linear, exposure=0.0, operator="reinhard", ...) -> Path
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .stats import clipped_fraction, hdr_stats
from .falsecolor import false_colour, false_colour_with_legend, legend, stops
from .tonemap import OPERATORS, auto_exposure, exposure_brackets, expose, luminance, tonemap


def write_preview(path: str | PathLike[str], hdr_linear: np.ndarray, exposure: float = 0.0,
                  operator: str = "reinhard", *, false_colour_map: bool = False, **write_kw: Any) -> Path:
    """Tone-map (or false-colour) ``hdr_linear`` and write it as PNG/JPEG atomically."""
    from ..io import write_ldr

    img = false_colour_with_legend(hdr_linear) if false_colour_map else tonemap(hdr_linear, exposure, operator)
    return write_ldr(path, img, **write_kw)


__all__ = ["tonemap", "expose", "luminance", "exposure_brackets", "auto_exposure", "false_colour",
           "false_colour_with_legend", "legend", "stops", "write_preview", "OPERATORS", "hdr_stats", "clipped_fraction"]
