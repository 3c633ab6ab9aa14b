"""Exposure brackets -> one linear HDR, the networks filling only what is still clipped.

    from singlehdr import ReconstructOptions
    from singlehdr.merge import MergeOptions, reconstruct_brackets
    result = reconstruct_brackets(["a.jpg", "b.jpg", "c.jpg"], ReconstructOptions(), MergeOptions())

Steps: read the frames (same size, >= 2), relative exposures from EXIF or
``ev``, sort them, align to the middle frame (median-threshold bitmaps,
wrapping for 360 panoramas), check they show one scene, recover the
response, merge with ghost rejection, then fill what the darkest frame
clips with :func:`singlehdr.reconstruct` (:mod:`.fill`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from os import PathLike
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from ..errors import SingleHDRError
from ..geometry import is_equirect_shape
from ..types import HDRResult, LDRImage
from .combine import MERGES, clip_mask, merge
from .response import RESPONSES, recover_response

FILLS = ("networks", "none")
WRAPS = ("auto", "on", "off")
FrameLike = Union[str, PathLike, np.ndarray, LDRImage]
#: Log-value correlation below which two neighbouring frames are called different scenes.
SAME_SCENE_MIN_CORR = 0.7


@dataclass(frozen=True)
class MergeOptions:
    """How to merge brackets.

    ev: exposure values (stops) per frame, in the order given; None = EXIF.
    align: measure and undo camera shake (AlignMTB); wrap: "auto" wraps the
        horizontal shift for 2:1 / GPano panoramas (and for input_kind equirect).
    response: "auto" (default: the shared EMoR curve fitted to the frames or
        sRGB, whichever makes the frames agree better on pixels the fit did
        not see; see :func:`singlehdr.merge.response.auto_response`), "emor"
        (always the fitted curve), "debevec", "robertson", "srgb" or "linear".
    merge: "weighted" (default, ghost rejection), "debevec" or "robertson".
    ghost: reject moving objects (weighted merge only).
    fill: "networks" = reconstruct what the darkest frame clips with the
        ReconstructOptions' method; "none" = keep the lower bound.
    raw_half: a RAW input is read one pixel per 2x2 Bayer quad (half size,
        no demosaic); used by :func:`capture_raw` / ``make_envmap``.
    """

    ev: tuple[float, ...] | None = None
    align: bool = True
    wrap: str = "auto"
    response: str = "auto"
    merge: str = "weighted"
    ghost: bool = True
    fill: str = "networks"
    max_shift_bits: int = 6
    raw_half: bool = False

    def __post_init__(self) -> None:
        for name, value, allowed in (("response", self.response, RESPONSES), ("merge", self.merge, MERGES),
                                     ("fill", self.fill, FILLS), ("wrap", self.wrap, WRAPS)):
            if value not in allowed:
                raise SingleHDRError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")
        if self.ev is not None:
            object.__setattr__(self, "ev", tuple(float(v) for v in self.ev))

    def replace(self, **changes: Any) -> "MergeOptions":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class MergedHDR:
    """A merge before any fill.

    hdr_linear: (H, W, 3) float32 lin Rec.709-ish camera RGB, white of the
        reference (middle) frame = 1.0; clip: (H, W) bool, what the darkest
        frame still clips (lower bound there); ghost: (H, W) bool;
    exposures: relative exposures in input order; reference: its index;
    order: input indices from darkest to brightest; shifts: (dx, dy) per
    frame; response: (3, 1024) inverse CRF; response_facts: what response
    "auto" chose and the consistency scores of its candidates (empty otherwise).
    """

    hdr_linear: np.ndarray
    clip: np.ndarray
    ghost: np.ndarray
    exposures: np.ndarray
    reference: int
    order: list[int]
    shifts: list[tuple[int, int]]
    response: np.ndarray
    frames: list[LDRImage] = field(default_factory=list)
    wrap_x: bool = False
    response_facts: dict[str, Any] = field(default_factory=dict)

    @property
    def darkest_exposure(self) -> float:
        """Exposure of the darkest frame relative to the reference."""
        e = self.exposures
        return float(e[self.order[0]] / e[self.reference])


def _name(f: FrameLike, i: int) -> str:
    return Path(f).name if isinstance(f, (str, PathLike)) else (f.path.name if isinstance(f, LDRImage) and f.path else f"frame {i + 1}")


def load_frames(images: Sequence[FrameLike], max_pixels: int | None = None) -> tuple[list[LDRImage], list[str]]:
    """Read every frame; one clear line for a single bracket, a corrupt frame or mixed sizes."""
    from ..api import load_input
    from ..io.ldr import DEFAULT_MAX_PIXELS, read_ldr

    if len(images) < 2:
        raise SingleHDRError(
            "--brackets needs at least 2 frames of one scene at different exposures; for a single image drop --brackets"
        )
    frames, names = [], []
    for i, img in enumerate(images):
        name = _name(img, i)
        if isinstance(img, (str, PathLike)):
            try:
                ldr = read_ldr(Path(img), max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
            except SingleHDRError as exc:
                raise SingleHDRError(f"bracket {i + 1} ({name}): {exc}") from None
        else:
            ldr = load_input(img)
        frames.append(ldr)
        names.append(name)
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        desc = ", ".join(f"{n} {f.shape[1]}x{f.shape[0]}" for n, f in zip(names, frames))
        raise SingleHDRError(f"brackets must all have the same size; got {desc}")
    return frames, names


def _scene_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of log gray values of two frames over pixels well exposed in both.

    A monotone response and an exposure change keep log values nearly
    linearly related, so the same scene correlates strongly and a different
    scene does not; returns 1.0 when fewer than 64 pixels qualify or they
    span too narrow a range (too little overlap to judge, e.g. frames 4 EV
    apart).
    """
    ga, gb = np.asarray(a).mean(axis=-1), np.asarray(b).mean(axis=-1)
    step = max(1, int(np.sqrt(ga.size / 16384)))
    ga, gb = ga[::step, ::step].ravel(), gb[::step, ::step].ravel()
    ok = (ga > 0.05) & (ga < 0.95) & (gb > 0.05) & (gb < 0.95)
    if ok.sum() < 64:
        return 1.0
    la, lb = np.log(ga[ok]), np.log(gb[ok])
    if la.std() < 0.35 or lb.std() < 0.35:  # less than half a stop of spread: noise would dominate
        return 1.0
    return float(np.corrcoef(la, lb)[0, 1])


def merge_brackets(images: Sequence[FrameLike], options: MergeOptions | None = None, *, input_kind: str = "auto",
                   max_pixels: int | None = None) -> MergedHDR:
    """Read, align, calibrate and merge brackets (no network).  See :class:`MergedHDR`."""
    from ..api import is_equirect
    from ..options import ReconstructOptions
    from .align import align_frames
    from .exposure import frame_exposures

    opts = options or MergeOptions()
    frames, names = load_frames(images, max_pixels)
    e = frame_exposures([f.exif for f in frames], names, opts.ev)
    order = [int(i) for i in np.argsort(e, kind="stable")]
    ref = order[len(order) // 2]
    if opts.wrap == "auto":
        wrap_x = is_equirect(frames[ref], ReconstructOptions(input_kind=input_kind))
    else:
        wrap_x = opts.wrap == "on"
    from ..camera.transfer import linear_to_srgb

    pix = [linear_to_srgb(f.pixels) if f.transfer == "linear" else f.pixels for f in frames]
    sorted_pix = [pix[i] for i in order]
    if opts.align:
        aligned, sh = align_frames(sorted_pix, len(order) // 2, wrap_x=wrap_x, max_bits=opts.max_shift_bits)
    else:
        aligned, sh = sorted_pix, [(0, 0)] * len(order)
    for k in range(len(aligned) - 1):
        c = _scene_corr(aligned[k], aligned[k + 1])
        if c < SAME_SCENE_MIN_CORR:
            raise SingleHDRError(
                f"brackets {names[order[k]]} and {names[order[k + 1]]} do not show the same scene "
                f"(correlation {c:.2f}); pass frames of one scene shot from one place"
            )
    es = e[order]
    response_facts: dict[str, Any] = {}
    g = recover_response(aligned, es, opts.response, facts=response_facts)
    hdr, ghost = merge(aligned, es, g, opts.merge, ghost=opts.ghost)
    clip = clip_mask(aligned[0])
    hdr = np.where(np.isfinite(hdr), np.maximum(hdr, 0.0), 0.0).astype(np.float32)
    shifts: list[tuple[int, int]] = [(0, 0)] * len(order)
    for k, i in enumerate(order):
        shifts[i] = sh[k]
    return MergedHDR(hdr_linear=hdr, clip=clip, ghost=ghost, exposures=e, reference=ref, order=order, shifts=shifts,
                     response=g, frames=frames, wrap_x=wrap_x, response_facts=response_facts)


def finish(hdr_linear: np.ndarray, clip: np.ndarray, options: Any, *, exposure: float, wrap_x: bool, fill: str,
           source: LDRImage | None, meta: dict[str, Any]) -> HDRResult:
    """Fill (or not), then the ReconstructOptions' exposure calibration and colour space; an HDRResult."""
    from .. import __version__
    from .fill import fill_clipped

    meta.setdefault("singlehdr_version", __version__)
    meta["clipped_fraction"] = float(np.mean(clip))
    if fill == "networks" and clip.any():
        hdr_linear, facts = fill_clipped(hdr_linear, clip, options, exposure=exposure, wrap_x=wrap_x)
        meta.update({f"fill_{k}" if not k.startswith("fill_") else k: v for k, v in facts.items()})
        meta["model_id"] = f"fill:{options.method}"
    else:
        meta["model_id"] = "none"
    from ..api import calibrated_result

    return calibrated_result(hdr_linear, source, options, meta)


@dataclass
class LinearCapture:
    """Linear HDR from brackets or a RAW file, before any fill: what :func:`finish` fills.

    hdr_linear: (H, W, 3) float32 lin Rec.709, a lower bound inside ``clip``;
    clip: (H, W) bool, what the darkest frame (or the sensor) still clips;
    exposure: the factor that brings the clip level to 1.0 (the darkest
        frame's exposure relative to the reference; 1.0 for RAW), so the clip
        level in ``hdr_linear`` units is ``1 / exposure``;
    wrap_x: a 360 panorama (the seam wraps);
    source: an LDRImage of the same size for EXIF, GPano XMP and finding a
        chrome ball (the reference frame; for RAW its display rendering);
    meta: provenance facts (method, brackets, EV, response ...).
    """

    hdr_linear: np.ndarray
    clip: np.ndarray
    exposure: float
    wrap_x: bool
    source: LDRImage
    meta: dict[str, Any]
    kind: str = "brackets"  # or "raw"


def capture_brackets(images: Sequence[FrameLike], merge_options: MergeOptions | None = None, *, input_kind: str = "auto",
                     method: str = "singlehdr", max_pixels: int | None = None) -> LinearCapture:
    """Merge brackets (:func:`merge_brackets`) into a :class:`LinearCapture` (no fill yet)."""
    mo = merge_options or MergeOptions()
    m = merge_brackets(images, mo, input_kind=input_kind, max_pixels=max_pixels)
    ref = m.frames[m.reference]
    meta: dict[str, Any] = {
        "method": f"brackets+{method}" if mo.fill == "networks" else "brackets",
        "input_kind": "equirect" if m.wrap_x else "photo",
        "source_exif": dict(ref.exif),
        "brackets": len(m.frames),
        "bracket_ev": [round(float(np.log2(v / m.exposures[m.reference])), 3) for v in m.exposures],
        "bracket_shifts": [list(s) for s in m.shifts],
        "response": mo.response,
        "response_used": m.response_facts.get("response_chosen", mo.response),
        "merge": mo.merge,
        "ghost_fraction": float(m.ghost.mean()),
    }
    if "response_scores" in m.response_facts:
        meta["response_scores"] = m.response_facts["response_scores"]
    if ref.path is not None:
        meta["source"] = str(ref.path)
    return LinearCapture(m.hdr_linear, m.clip, m.darkest_exposure, m.wrap_x, ref, meta, "brackets")


def capture_raw(path: str | PathLike, *, input_kind: str = "auto", method: str = "singlehdr", fill: str = "networks",
                max_pixels: int | None = None, half_size: bool = False) -> LinearCapture:
    """Read a camera RAW / DNG (:func:`singlehdr.io.raw.read_raw`) into a :class:`LinearCapture` (no fill yet).

    The source LDRImage holds a display rendering (sRGB of the linear data,
    the 99th percentile of the unclipped pixels at 0.9) only for finding a
    chrome ball; the RAW's EXIF comes with it.
    """
    from ..camera.transfer import linear_to_srgb
    from ..io.raw import read_raw

    if fill not in FILLS:
        raise SingleHDRError(f"unknown fill {fill!r}; choose one of: {', '.join(FILLS)}")
    raw = read_raw(path, max_pixels=max_pixels, half_size=half_size)
    h, w = raw.hdr_linear.shape[:2]
    mx = raw.hdr_linear.max(axis=-1)
    vals = mx[~raw.clip] if (~raw.clip).any() else mx
    p99 = float(np.percentile(vals, 99)) if vals.size else 1.0
    disp = linear_to_srgb(np.clip(raw.hdr_linear * np.float32(0.9 / max(p99, 1e-6)), 0.0, 1.0)).astype(np.float32)
    src = LDRImage(pixels=disp, exif=raw.exif, path=Path(path))
    wrap = input_kind == "equirect" or (input_kind == "auto" and is_equirect_shape(h, w))
    meta: dict[str, Any] = {
        "method": f"raw+{method}" if fill == "networks" else "raw",
        "input_kind": "equirect" if wrap else "photo",
        "source": str(path),
        "source_exif": dict(raw.exif),
        "raw_black_level": raw.black_level,
        "raw_white_level": raw.white_level,
        "raw_wb_multipliers": raw.wb_multipliers,
    }
    return LinearCapture(raw.hdr_linear, raw.clip, 1.0, wrap, src, meta, "raw")


def reconstruct_brackets(images: Sequence[FrameLike], options: Any = None, merge_options: MergeOptions | None = None, *,
                         max_pixels: int | None = None) -> HDRResult:
    """Brackets in, one linear HDR out; the networks fill only what the darkest frame clips.

    images: >= 2 paths / arrays / LDRImages of one scene; options: the
    :class:`singlehdr.ReconstructOptions` (method and model for the fill,
    exposure calibration, colour space); merge_options: :class:`MergeOptions`.
    Output: white of the middle frame = 1.0 (exposure "relative").
    """
    from ..options import ReconstructOptions

    options = options or ReconstructOptions()
    mo = merge_options or MergeOptions()
    t0 = time.perf_counter()
    c = capture_brackets(images, mo, input_kind=options.input_kind, method=options.method, max_pixels=max_pixels)
    res = finish(c.hdr_linear, c.clip, options, exposure=c.exposure, wrap_x=c.wrap_x, fill=mo.fill,
                 source=c.source, meta=c.meta)
    res.metadata["seconds"] = round(time.perf_counter() - t0, 4)
    return res


def reconstruct_raw(path: str | PathLike, options: Any = None, *, fill: str = "networks", max_pixels: int | None = None,
                    half_size: bool = False) -> HDRResult:
    """A camera RAW / DNG in, linear HDR out; the networks fill only above the sensor's clip point.

    The RAW path never applies a tone curve (:func:`singlehdr.io.raw.read_raw`).
    Output: sensor saturation of the least-amplified channel = 1.0.
    half_size: one pixel per 2x2 Bayer quad (no demosaic; see read_raw).
    """
    from ..options import ReconstructOptions

    options = options or ReconstructOptions()
    t0 = time.perf_counter()
    c = capture_raw(path, input_kind=options.input_kind, method=options.method, fill=fill, max_pixels=max_pixels,
                    half_size=half_size)
    res = finish(c.hdr_linear, c.clip, options, exposure=1.0, wrap_x=c.wrap_x, fill=fill, source=c.source, meta=c.meta)
    res.metadata["seconds"] = round(time.perf_counter() - t0, 4)
    return res
