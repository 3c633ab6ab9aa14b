"""The four sub-networks of SingleHDR (Liu et al., CVPR 2020) and the composed pipeline.

One file per network (dequantize, linearize, hallucinate, refine), TF-specific
behaviour in :mod:`.tf_ops`, the composition in :mod:`.pipeline`.  Loading
weights lives apart, in :mod:`singlehdr.weights`.
"""

from .pipeline import SingleHDRConfig, SingleHDRModel

__all__ = ["SingleHDRConfig", "SingleHDRModel"]
