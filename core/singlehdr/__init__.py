"""singlehdr: one LDR image in, a linear HDR image or environment map out.

A PyTorch implementation of "Single-Image HDR Reconstruction by Learning to
Reverse the Camera Pipeline" (Liu et al., CVPR 2020) with HDR I/O,
environment-map tools, training/evaluation and a CLI.

Public API::

    from singlehdr import reconstruct, ReconstructOptions
    result = reconstruct("photo.jpg", ReconstructOptions(device="cpu"))
    result.hdr_linear  # (H, W, 3) float32, linear Rec.709, LDR white ~ 1.0
"""

from .version import __version__  # noqa: E402

from .errors import SingleHDRError  # noqa: E402
from .options import ReconstructOptions  # noqa: E402
from .types import HDRResult, LDRImage  # noqa: E402
from .api import reconstruct  # noqa: E402

__all__ = ["reconstruct", "ReconstructOptions", "HDRResult", "LDRImage", "SingleHDRError", "__version__"]
