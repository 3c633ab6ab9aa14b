"""The one public entry point for a reconstruction.

``reconstruct(image, options) -> HDRResult`` is what the CLI, the Blender and
Nuke hosts, the benchmarks and the tests call.  No caller re-implements a step.
"""

from __future__ import annotations

import functools
import time
from os import PathLike
from pathlib import Path
from typing import Any, Union

import numpy as np

from . import __version__
from .errors import SingleHDRError
from .options import METHODS_CLASSICAL, ReconstructOptions
from .types import HDRResult, LDRImage

ImageLike = Union[str, PathLike, np.ndarray, LDRImage]


def load_input(image: ImageLike) -> LDRImage:
    """Turn a path, an array or an LDRImage into an LDRImage."""
    if isinstance(image, LDRImage):
        return image
    if isinstance(image, (str, PathLike)):
        from .io import read_ldr

        return read_ldr(Path(image))
    if isinstance(image, np.ndarray):
        return LDRImage.from_array(image)
    raise SingleHDRError(f"cannot reconstruct from a {type(image).__name__}; pass a file path or an (H, W, 3) array")


def is_equirect(ldr: LDRImage, options: ReconstructOptions) -> bool:
    """Whether to treat the input as a 360 equirectangular panorama."""
    if options.input_kind != "auto":
        return options.input_kind == "equirect"
    if str(ldr.xmp.get("GPano:ProjectionType", "")).lower() == "equirectangular":
        return True
    h, w = ldr.shape
    return h >= 64 and abs(w / h - 2.0) < 0.01


@functools.lru_cache(maxsize=4)
def get_reconstructor(model: str | None, device: str, precision: str, tile: int | None, tile_overlap: int):
    """Load a model once per (model, device, precision, tiling) and keep it."""
    from .infer import Reconstructor
    from .weights import load_model

    net, info = load_model(model, device=device)
    return Reconstructor(net, info=info, device=device, precision=precision, tile=tile, tile_overlap=tile_overlap)


def _ldr_srgb(ldr: LDRImage) -> np.ndarray:
    """The display-referred sRGB pixels the networks take."""
    if ldr.transfer == "linear":
        from .camera.transfer import linear_to_srgb

        return linear_to_srgb(ldr.pixels)
    return ldr.pixels


def estimate_inverse_crf(image: ImageLike, options: ReconstructOptions | None = None) -> np.ndarray:
    """The inverse camera response g the networks estimate for one image: (1024,) float32,
    g(x) at x = i / 1023.  Pass it (or a curve pooled over a shot) back as
    ``reconstruct(..., inverse_crf=g)`` to reuse it.  Network method only."""
    options = options or ReconstructOptions()
    if options.method in METHODS_CLASSICAL:
        raise SingleHDRError(f"method {options.method!r} has a fixed curve; only the 'singlehdr' method estimates a camera response")
    ldr = load_input(image)
    engine = get_reconstructor(options.model, options.device, options.precision, options.tile, options.tile_overlap)
    return engine.estimate_inverse_crf(_ldr_srgb(ldr), wrap_x=is_equirect(ldr, options), resize_mode=options.resize_mode)


def reconstruct(image: ImageLike, options: ReconstructOptions | None = None, *,
                inverse_crf: np.ndarray | None = None) -> HDRResult:
    """Reconstruct a linear HDR image from one LDR image.

    image: a file path, an (H, W, 3|4) array (uint8/uint16 or float in [0, 1],
        sRGB-encoded) or an :class:`LDRImage`.
    options: a :class:`ReconstructOptions`; defaults to the shipped model.
    inverse_crf: a (1024,) inverse CRF to use instead of this image's own
        estimate (one curve for a whole shot; see :func:`estimate_inverse_crf`).
    Returns an :class:`HDRResult` with ``hdr_linear`` (H, W, 3) float32.
    Raises :class:`SingleHDRError` for anything the user can fix.
    """
    options = options or ReconstructOptions()
    if inverse_crf is not None and options.method in METHODS_CLASSICAL:
        raise SingleHDRError(f"method {options.method!r} has a fixed curve and takes no inverse CRF; use method 'singlehdr'")
    ldr = load_input(image)
    t0 = time.perf_counter()
    equirect = is_equirect(ldr, options)
    meta: dict[str, Any] = {
        "singlehdr_version": __version__,
        "method": options.method,
        "input_kind": "equirect" if equirect else "photo",
        "source_exif": dict(ldr.exif),
    }
    if ldr.path is not None:
        meta["source"] = str(ldr.path)
    ldr_srgb = _ldr_srgb(ldr)

    if options.method in METHODS_CLASSICAL:
        from .classical import expand

        hdr_linear = expand(options.method, ldr_srgb)
        meta["model_id"] = f"classical:{options.method}"
    else:
        engine = get_reconstructor(options.model, options.device, options.precision, options.tile, options.tile_overlap)
        hdr_linear = engine.run(ldr_srgb, wrap_x=equirect, resize_mode=options.resize_mode, inverse_crf=inverse_crf)
        if inverse_crf is not None:
            meta["inverse_crf"] = "given"
        meta["model_id"] = engine.info.get("model_id", "unknown")
        meta["device"] = engine.device_name

    from .envmap.calibrate import exposure_scale

    scale = float(exposure_scale(hdr_linear, ldr, options.exposure, options.exposure_target))
    if scale != 1.0:
        hdr_linear = hdr_linear * np.float32(scale)
    meta["exposure_mode"] = options.exposure
    meta["exposure_scale"] = scale

    if options.colorspace != "lin_rec709":
        from .io.colorspace import convert_linear

        hdr_linear = convert_linear(hdr_linear, "lin_rec709", options.colorspace)
    meta["seconds"] = round(time.perf_counter() - t0, 4)
    return HDRResult(
        hdr_linear=np.ascontiguousarray(hdr_linear, dtype=np.float32),
        alpha=ldr.alpha,
        colorspace=options.colorspace,
        scale=scale,
        metadata=meta,
    )
