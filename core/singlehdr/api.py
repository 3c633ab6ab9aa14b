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

from .version import __version__
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
    from .geometry import is_equirect_image

    return is_equirect_image(*ldr.shape, ldr.xmp)


@functools.lru_cache(maxsize=4)
def get_reconstructor(model: str | None, device: str, precision: str, tile: int | None, tile_overlap: int,
                      linearization: str = "model", highlights: str = "model"):
    """Load a model once per (model, device, precision, tiling, policy) and keep it."""
    from .infer import Reconstructor
    from .weights import load_model

    net, info = load_model(model, device=device)
    return Reconstructor(net, info=info, device=device, precision=precision, tile=tile, tile_overlap=tile_overlap,
                         linearization=linearization, highlights=highlights)


def _engine(options: ReconstructOptions):
    return get_reconstructor(options.model, options.device, options.precision, options.tile, options.tile_overlap,
                             options.linearization, options.highlights)


def _srgb_pixels(ldr: LDRImage) -> np.ndarray:
    if ldr.transfer == "linear":
        from .colour import linear_to_srgb

        return linear_to_srgb(ldr.pixels)
    return ldr.pixels


def estimate_inverse_crf(image: ImageLike, options: ReconstructOptions | None = None) -> np.ndarray:
    """The inverse camera response the network method would use for ``image``.

    Returns a (1024,) float32 curve g sampled at x = i / 1023 (monotone, g(0) = 0,
    g(1) = 1).  Estimate it once on a representative frame and pass it to
    :func:`reconstruct` (``inverse_crf=``) for every frame of a shot, so they share one curve.
    Raises SingleHDRError for a training-free method (they have no CRF estimate).
    """
    options = options or ReconstructOptions()
    if options.method in METHODS_CLASSICAL:
        raise SingleHDRError(f"method {options.method!r} has no inverse CRF estimate; use method 'singlehdr'")
    ldr = load_input(image)
    return _engine(options).estimate_inverse_crf(_srgb_pixels(ldr), wrap_x=is_equirect(ldr, options))


def reconstruct(image: ImageLike, options: ReconstructOptions | None = None, *, inverse_crf: np.ndarray | None = None) -> HDRResult:
    """Reconstruct a linear HDR image from one LDR image.

    image: a file path, an (H, W, 3|4) array (uint8/uint16 or float in [0, 1],
        sRGB-encoded) or an :class:`LDRImage`.
    options: a :class:`ReconstructOptions`; defaults to the shipped model.
    inverse_crf: a (1024,) inverse CRF from :func:`estimate_inverse_crf` to use
        instead of estimating one (network method only; ignored by the others).
    Returns an :class:`HDRResult` with ``hdr_linear`` (H, W, 3) float32.
    Raises :class:`SingleHDRError` for anything the user can fix.
    """
    options = options or ReconstructOptions()
    ldr = load_input(image)
    from .io.ldr import check_image_shape

    check_image_shape(*ldr.shape, name=ldr.path.name if ldr.path is not None else "the image")
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
    ldr_srgb = _srgb_pixels(ldr)

    if options.method in METHODS_CLASSICAL:
        from .classical import expand

        hdr_linear = expand(options.method, ldr_srgb)
        meta["model_id"] = f"classical:{options.method}"
    else:
        engine = _engine(options)
        hdr_linear = engine.run(ldr_srgb, wrap_x=equirect, resize_mode=options.resize_mode, inverse_crf=inverse_crf)
        meta["model_id"] = engine.info.get("model_id", "unknown")
        meta["device"] = engine.device_name
        meta["linearization"] = "given" if inverse_crf is not None else (engine.last_linearization or engine.linearization)
        meta["highlights"] = engine.highlights
        if engine.skipped_stages:
            meta["skipped_identity_stages"] = list(engine.skipped_stages)

    meta["seconds"] = round(time.perf_counter() - t0, 4)
    return calibrated_result(hdr_linear, ldr, options, meta, alpha=ldr.alpha)


def calibrated_result(hdr_linear: np.ndarray, source: LDRImage | None, options: ReconstructOptions,
                      meta: dict[str, Any], alpha: np.ndarray | None = None) -> HDRResult:
    """The common tail of every reconstruction (single image, brackets, RAW): the exposure
    calibration of ``options`` (EXIF of ``source`` for "absolute"; its alpha for "median"),
    the output colour space, and the :class:`HDRResult`.  ``meta`` gains exposure_mode/scale.
    ``source`` None (e.g. merged brackets without a reference frame): "absolute" is refused."""
    from .exposure import exposure_scale

    if source is None:
        if options.exposure == "absolute":
            raise SingleHDRError("absolute exposure needs the shot's EXIF, which this input lacks; "
                                 "use --exposure relative or median")
        source = LDRImage(pixels=np.zeros((1, 1, 3), np.float32))
    scale = float(exposure_scale(hdr_linear, source, options.exposure, options.exposure_target))
    if scale != 1.0:
        hdr_linear = hdr_linear * np.float32(scale)
    meta["exposure_mode"] = options.exposure
    meta["exposure_scale"] = scale
    if options.colorspace != "lin_rec709":
        from .io.colorspace import convert_linear

        hdr_linear = convert_linear(hdr_linear, "lin_rec709", options.colorspace)
    return HDRResult(
        hdr_linear=np.ascontiguousarray(hdr_linear, dtype=np.float32),
        alpha=alpha,
        colorspace=options.colorspace,
        scale=scale,
        metadata=meta,
    )
