"""Standard transfer functions (display encodings): they live in :mod:`singlehdr.colour`."""

from __future__ import annotations

from ..colour import linear_to_srgb, srgb_to_linear

__all__ = ["linear_to_srgb", "srgb_to_linear"]
