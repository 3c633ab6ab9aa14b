"""singlehdr.infer: the inference engine (device, precision, padding, tiling, 360 seams, batching).

Public API::

    from singlehdr.infer import Reconstructor
    engine = Reconstructor(model, info=info, device="auto", precision="auto", tile=None, tile_overlap=64)
    hdr_linear = engine.run(ldr_srgb, wrap_x=False, resize_mode="pad")   # (H, W, 3) float32
"""

from .device import resolve_device, resolve_precision
from .engine import Reconstructor

__all__ = ["Reconstructor", "resolve_device", "resolve_precision"]
