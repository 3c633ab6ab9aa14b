"""Exposure calibration for environment maps: it lives in :mod:`singlehdr.exposure`
(the bottom layer, shared with reconstruct, the shot lock and the brackets merge);
the names stay importable from here."""

from __future__ import annotations

from ..colour import LUMA_709, luminance
from ..exposure import METER_K, MIDDLE_GREY, _as_float, absolute_scale, ev100, exif_exposure, exposure_scale, median_scale

__all__ = ["METER_K", "MIDDLE_GREY", "LUMA_709", "luminance", "exif_exposure", "ev100", "absolute_scale", "median_scale",
           "exposure_scale", "_as_float"]
