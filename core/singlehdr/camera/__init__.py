"""The forward camera model: exposure, noise, clipping, CRFs, quantisation, JPEG.

- :mod:`.transfer`: sRGB encode/decode.
- :mod:`.emor`: EMoR basis parsers (``load_emor``, ``load_invemor``).
- :mod:`.crf`: curves (named, EMoR-sampled, DoRF), inverse, lookup, banks
  with a held-out test split (``crf_bank(split, seed)``).
- :mod:`.forward`: ``expose``, ``add_noise``, ``clip01``, ``apply_crf``,
  ``quantize``, ``jpeg``, ``sample_camera``, ``simulate``.
"""

from .crf import CRF, apply_curve, crf_bank, invert_curve, make_monotone, named_curves, read_dorf, sample_emor_curve
from .emor import load_emor, load_invemor
from .forward import CameraParams, add_noise, apply_crf, clip01, expose, jpeg, quantize, sample_camera, simulate
from ..colour import linear_to_srgb, srgb_to_linear

__all__ = [
    "CRF", "apply_curve", "crf_bank", "invert_curve", "make_monotone", "named_curves", "read_dorf",
    "sample_emor_curve", "load_emor", "load_invemor", "CameraParams", "add_noise", "apply_crf", "clip01",
    "expose", "jpeg", "quantize", "sample_camera", "simulate", "linear_to_srgb", "srgb_to_linear",
]
