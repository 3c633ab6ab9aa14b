"""make_envmap: one LDR image (360 panorama, chrome ball or ordinary photo) -> an HDR equirect environment map.

Steps (each in its own module):
 1. decide the input kind (--kind auto: GPano / 2:1 -> equirect, a convincing
    circle -> ball, else photo; :mod:`.detect`);
 2. downscale the LDR (area average in linear light) so it is at most about
    twice as fine as the output map needs (saves the networks' time);
 3. reconstruct HDR with :func:`singlehdr.reconstruct` in the input's own
    geometry (ReconstructOptions(input_kind="equirect") for full panoramas so
    the seam wraps; the ball is cropped first);
 4. project to an equirect of ``width`` x ``width / 2`` (:mod:`.projections`),
    fill what was not seen (:mod:`.fill`) and build the reliability alpha
    (1 = seen, 0 = filled / unreliable);
 5. analyse the light (:mod:`.lighting`): dominant light; recover a clipped
    sun (:mod:`.sun`: a 0.53 deg disc sized by a clear-sky model fitted to the
    unclipped sky; ``sun="auto"`` adds it only when confident); SH9 irradiance.

Brackets and RAW (:mod:`singlehdr.merge`): ``make_envmap`` also takes a
list of exposure brackets, a camera RAW / DNG path or a
:class:`singlehdr.merge.LinearCapture`.  The merged (or RAW) linear HDR takes
the same path; only step 3 differs: the networks (through
:func:`singlehdr.merge.fill_clipped`) fill only what the darkest frame (or
the sensor) still clips, and the clip level handed to steps 5 (plateau lift,
sun recovery) is that clip level, not the JPEG white.  ``EnvmapOptions.merge``
(a :class:`singlehdr.merge.MergeOptions`) says how: ev, alignment, response,
``fill="networks"`` (default) or ``"none"`` (the merge's lower bound: no
plateau lift, and ``sun="auto"`` adds no sun; ``sun="on"`` still does).

Direction convention: +Y up, -Z forward = image centre; loads in Blender with
no rotation (see :mod:`.projections`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from ..options import ReconstructOptions
from ..types import HDRResult, LDRImage
from . import lighting, projections
from . import sun as sunmod
from .detect import Circle, detect_ball, detect_kind, is_equirect_input
from .fill import fill_envmap, lift_clipped, pull_push

KINDS = ("auto", "equirect", "ball", "photo")
CONVENTION = "Y up, -Z forward at the image centre, +X right (u = 0.75); Blender: no rotation, (x_b, y_b, z_b) = (-z, -x, y)"


@dataclass(frozen=True)
class EnvmapOptions:
    """How to build an environment map.

    kind: "auto", "equirect", "ball" or "photo".
    width: output equirect width in pixels (height = width / 2; even, >= 16).
    reconstruct: the :class:`ReconstructOptions` for the HDR reconstruction
        (method, model, device, exposure calibration, output colour space).
    ball: (cx, cy, r) of the chrome ball in input pixels; None = find it.
    ball_reflectance: the ball's specular reflectance (1.0 = ideal mirror;
        real chrome balls are about 0.6-0.75); radiance is divided by it.
    rim_deg / photographer_deg: size of the cones flagged unreliable around
        -Z (the blind spot behind the ball, seen only at the rim; filled) and
        +Z (the camera/photographer reflection; kept) in a ball unwrap.
    fov: horizontal field of view of a photo in degrees; None = from EXIF
        FocalLengthIn35mmFilm.  yaw / pitch: where the photo looks (degrees;
        yaw + = right, pitch + = up); None = unknown: 0 is assumed and the
        result's ``notes`` say so.
    sun: "auto" (add a recovered sun only when its confidence is high),
        "on" (add it whenever a sun-like clipped light is found) or "off";
        see :mod:`singlehdr.envmap.sun`.
    sun_intensity: override of the sun's irradiance at normal incidence
        (luminance, map units x sr); None = from the clear-sky fit.
    inject_sun: deprecated alias: True means sun="on".
    light_threshold: the dominant light region is where luminance >= this
        fraction of the peak.
    max_oversample: keep the input at most this many times finer than the
        output map before reconstructing (0 = never downscale).
    merge: a :class:`singlehdr.merge.MergeOptions` for bracket / RAW inputs
        (None = its defaults: EXIF exposures, aligned, response "auto", the
        networks fill what the darkest frame clips); ignored for one LDR image.
    """

    kind: str = "auto"
    width: int = 1024
    reconstruct: ReconstructOptions = field(default_factory=ReconstructOptions)
    ball: tuple[float, float, float] | None = None
    ball_reflectance: float = 1.0
    rim_deg: float = 20.0
    photographer_deg: float = 10.0
    fov: float | None = None
    yaw: float | None = None
    pitch: float | None = None
    sun: str = "auto"
    sun_intensity: float | None = None
    inject_sun: bool = False
    sun_diameter_deg: float = lighting.SUN_DIAMETER_DEG
    light_threshold: float = 0.5
    max_oversample: float = 2.0
    merge: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SingleHDRError(f"unknown envmap kind {self.kind!r}; choose one of: {', '.join(KINDS)}")
        if not isinstance(self.width, int) or self.width < 16 or self.width % 2:
            raise SingleHDRError(f"envmap width must be an even number of pixels >= 16, got {self.width}")
        if self.width > 16384:
            raise SingleHDRError(f"envmap width {self.width} is too large; use at most 16384")
        if self.fov is not None and not (0.1 <= self.fov < 180.0):
            raise SingleHDRError(f"field of view must be between 0.1 and 180 degrees, got {self.fov}")
        if not (0.0 < self.ball_reflectance <= 1.0):
            raise SingleHDRError(f"ball reflectance must be in (0, 1], got {self.ball_reflectance}")
        if self.inject_sun and self.sun == "auto":
            object.__setattr__(self, "sun", "on")
        if self.sun not in sunmod.SUN_MODES:
            raise SingleHDRError(f"unknown sun mode {self.sun!r}; choose one of: {', '.join(sunmod.SUN_MODES)}")
        if self.pitch is not None and not (-90.0 <= self.pitch <= 90.0):
            raise SingleHDRError(f"pitch must be between -90 and 90 degrees, got {self.pitch}")
        if self.sun_intensity is not None and not self.sun_intensity > 0:
            raise SingleHDRError(f"sun intensity must be positive, got {self.sun_intensity}")
        if not (0.0 < self.light_threshold < 1.0):
            raise SingleHDRError(f"light threshold must be between 0 and 1, got {self.light_threshold}")
        if not (0.01 <= self.sun_diameter_deg <= 20.0):
            raise SingleHDRError(f"sun diameter must be between 0.01 and 20 degrees, got {self.sun_diameter_deg}")
        if self.merge is not None:
            from ..merge.brackets import MergeOptions

            if not isinstance(self.merge, MergeOptions):
                raise SingleHDRError(f"EnvmapOptions.merge must be a singlehdr.merge.MergeOptions, got {type(self.merge).__name__}")

    def replace(self, **changes: Any) -> "EnvmapOptions":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reconstruct"] = self.reconstruct.as_dict()
        out["merge"] = None if self.merge is None else self.merge.as_dict()
        return out


@dataclass
class EnvmapResult:
    """What :func:`make_envmap` returns.

    hdr_linear: (width / 2, width, 3) float32 equirect, linear, in ``colorspace``.
    alpha: (width / 2, width) float32 reliability: 1 = seen in the input,
        0 = filled or unreliable (ball rim / photographer), in between at edges.
    kind: "equirect", "ball" or "photo".
    light: the dominant light (of the map before the sun is added).
    sh: (9, 3) SH radiance coefficients of the final map (lin Rec.709).
    sun: None (no sun added) or the recovered sun: direction [x, y, z] (unit,
        +Y up, -Z forward), direction_blender, azimuth_deg, elevation_deg,
        diameter_deg (0.53), radiance_rgb (mean radiance in the disc, map
        units, ``colorspace``), irradiance_rgb (its integral over the disc's
        solid angle: a Blender Sun lamp of this strength with the World at
        strength 1 gives the same light as the disc), confidence, method.
    hdr_without_sun: the same map with the sun disc (and only it) replaced by
        the surrounding sky; the map itself when there is no sun.
    notes: one-line messages for the user (no sun and why, assumed
        orientation, no ball found, ...); the CLI prints them on stderr.
    reconstruction: the HDR reconstruction in the input's own geometry.
    metadata: provenance and geometry facts (also written to the EXR header).
    """

    hdr_linear: np.ndarray
    alpha: np.ndarray
    kind: str
    light: lighting.LightEstimate
    sh: np.ndarray
    sun: dict[str, Any] | None
    reconstruction: HDRResult
    colorspace: str = "lin_rec709"
    metadata: dict[str, Any] = field(default_factory=dict)
    hdr_without_sun: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    sun_assessment: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.hdr_without_sun is None:
            self.hdr_without_sun = self.hdr_linear

    @property
    def scale(self) -> float:
        return float(self.reconstruction.scale)

    def report(self) -> dict[str, Any]:
        """The lighting analysis as JSON-ready plain data."""
        sh = np.asarray(self.sh)
        return {
            "convention": CONVENTION,
            "kind": self.kind,
            "width": int(self.hdr_linear.shape[1]),
            "height": int(self.hdr_linear.shape[0]),
            "colorspace_of_analysis": "lin_rec709",
            "exposure_mode": self.reconstruction.metadata.get("exposure_mode"),
            "exposure_scale": self.scale,
            "units": "cd/m^2 (radiance), lux-like (irradiance)" if self.reconstruction.metadata.get("exposure_mode") == "absolute" else "relative (LDR white = 1.0 times exposure_scale)",
            "dominant_light": self.light.as_dict(),
            "sh9": {
                "order": list(lighting.SH_ORDER_NAMES),
                "basis": "Ramamoorthi & Hanrahan 2001 real SH on our (x, y, z); radiance coefficients L_lm per RGB",
                "band_factors": [float(v) for v in lighting.SH_BAND_FACTORS],
                "radiance_rgb": [[float(v) for v in row] for row in sh],
                "irradiance_up_rgb": [float(v) for v in lighting.sh_irradiance(sh, np.array([0.0, 1.0, 0.0]))],
            },
            "sun": self.sun,
            "sun_assessment": self.sun_assessment,
            "notes": list(self.notes),
            "reliable_fraction": float(np.sum(self.alpha * projections.equirect_solid_angles(*self.alpha.shape)) / (4 * np.pi)),
            "geometry": {k: v for k, v in self.metadata.items() if k.startswith("envmap_")},
        }


# ----------------------------------------------------------------------------


def _downscale_ldr(ldr: LDRImage, k: int) -> LDRImage:
    """Area-average an LDRImage by an integer factor k in linear light (sRGB decode/encode, IEC 61966-2-1)."""
    if k <= 1:
        return ldr
    from ..camera.transfer import linear_to_srgb, srgb_to_linear

    h, w = ldr.shape
    h2, w2 = h // k, w // k
    if h2 < 8 or w2 < 8:
        return ldr
    px = ldr.pixels[: h2 * k, : w2 * k]
    lin = px if ldr.transfer == "linear" else srgb_to_linear(px)
    lin = lin.reshape(h2, k, w2, k, 3).mean(axis=(1, 3))
    out = lin if ldr.transfer == "linear" else linear_to_srgb(lin)
    alpha = None if ldr.alpha is None else ldr.alpha[: h2 * k, : w2 * k].reshape(h2, k, w2, k).mean(axis=(1, 3))
    return LDRImage(pixels=np.ascontiguousarray(out, dtype=np.float32), alpha=alpha, bit_depth=ldr.bit_depth,
                    transfer=ldr.transfer, exif=dict(ldr.exif), xmp=dict(ldr.xmp), path=ldr.path)


def _clip_fraction(ldr: LDRImage) -> np.ndarray:
    """(H, W) 1 where the LDR is saturated (max channel >= 0.99 encoded), else 0."""
    return (np.max(ldr.pixels, axis=-1) >= 0.99).astype(np.float32)


def _stack(hdr: np.ndarray, clipf: np.ndarray, src: "_Source") -> np.ndarray:
    """(H, W, 7) float32 that the map's geometry resamples together: the reconstruction (3), the clipped fraction (1)
    and the input's encoded pixels (3, 0..1: where a clipped sun's own pixels show in its glare, envmap/sun.py)."""
    px = np.asarray(src.ldr.pixels, np.float32)[..., :3]
    if px.shape[:2] != hdr.shape[:2]:
        px = np.zeros(hdr.shape[:2] + (3,), np.float32)
    return np.concatenate([np.asarray(hdr, np.float32)[..., :3], np.asarray(clipf, np.float32)[..., None], px], axis=-1)


def _gpano_crop(ldr: LDRImage) -> tuple[float, float, float, float] | None:
    """(left, top, width, height) of a partial panorama as fractions of the full 360 x 180 frame, from GPano XMP."""
    x = ldr.xmp or {}
    try:
        fw = float(x["GPano:FullPanoWidthPixels"])
        fh = float(x.get("GPano:FullPanoHeightPixels", fw / 2))
        cw = float(x.get("GPano:CroppedAreaImageWidthPixels", fw))
        ch = float(x.get("GPano:CroppedAreaImageHeightPixels", fh))
        left = float(x.get("GPano:CroppedAreaLeftPixels", 0))
        top = float(x.get("GPano:CroppedAreaTopPixels", 0))
    except (KeyError, TypeError, ValueError):
        return None
    if fw <= 0 or fh <= 0 or cw <= 0 or ch <= 0:
        return None
    if abs(cw - fw) < 0.5 and abs(ch - fh) < 0.5:
        return None  # full panorama
    return left / fw, top / fh, min(cw / fw, 1.0), min(ch / fh, 1.0)


def _reconstruct(ldr: LDRImage, base: ReconstructOptions, input_kind: str) -> HDRResult:
    from ..api import reconstruct

    return reconstruct(ldr, base.replace(input_kind=input_kind, colorspace="lin_rec709"))


class _Source:
    """What an envmap is made from: one LDR image, or a linear capture (merged brackets / RAW) and its clip mask.

    ``ldr`` is the image (for a capture: the reference frame or the RAW's
    display rendering, same size) used for EXIF, GPano XMP and finding a ball.
    A capture also holds ``hdr`` (H, W, 3) linear and ``clip`` (H, W) float
    (fraction of each pixel the darkest frame / sensor clips) and ``exposure``
    (clip level = 1 / exposure in hdr units).
    """

    def __init__(self, ldr: LDRImage, hdr: np.ndarray | None = None, clip: np.ndarray | None = None, exposure: float = 1.0,
                 fill: str = "networks", meta: dict[str, Any] | None = None):
        self.ldr, self.hdr, self.clip, self.exposure, self.fill = ldr, hdr, clip, float(exposure), fill
        self.meta = meta or {}

    @property
    def shape(self) -> tuple[int, int]:
        return self.ldr.shape

    @property
    def linear(self) -> bool:
        return self.hdr is not None

    def _with(self, ldr: LDRImage, hdr: np.ndarray | None, clip: np.ndarray | None) -> "_Source":
        return _Source(ldr, hdr, clip, self.exposure, self.fill, self.meta)

    def downscale(self, k: int) -> "_Source":
        small = _downscale_ldr(self.ldr, k)
        if not self.linear or small.shape == self.ldr.shape:
            return self._with(small, self.hdr, self.clip)
        h2, w2 = small.shape
        hdr = self.hdr[: h2 * k, : w2 * k].reshape(h2, k, w2, k, 3).mean(axis=(1, 3))
        clip = self.clip[: h2 * k, : w2 * k].reshape(h2, k, w2, k).mean(axis=(1, 3))
        return self._with(small, np.ascontiguousarray(hdr, dtype=np.float32), clip.astype(np.float32))

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> "_Source":
        ldr = self.ldr
        c = LDRImage(pixels=np.ascontiguousarray(ldr.pixels[y0:y1, x0:x1]), alpha=None if ldr.alpha is None else ldr.alpha[y0:y1, x0:x1],
                     bit_depth=ldr.bit_depth, transfer=ldr.transfer, exif=dict(ldr.exif), xmp={}, path=ldr.path)
        if not self.linear:
            return self._with(c, None, None)
        return self._with(c, np.ascontiguousarray(self.hdr[y0:y1, x0:x1]), np.ascontiguousarray(self.clip[y0:y1, x0:x1]))

    def reconstruct(self, base: ReconstructOptions, input_kind: str) -> tuple[HDRResult, np.ndarray]:
        """(HDR in this source's geometry, (H, W) clipped fraction).  A capture: the networks fill only inside its clip."""
        if not self.linear:
            return _reconstruct(self.ldr, base, input_kind), _clip_fraction(self.ldr)
        from ..merge.brackets import finish

        opts = base.replace(input_kind=input_kind, colorspace="lin_rec709")
        rec = finish(self.hdr, self.clip > 0.0, opts, exposure=self.exposure, wrap_x=input_kind == "equirect",
                     fill=self.fill, source=self.ldr, meta=dict(self.meta))
        return rec, self.clip

    def white(self, rec: HDRResult) -> float:
        """The map value of the clip level (LDR white; the darkest frame's / sensor's clip point for a capture)."""
        return float(rec.scale) / self.exposure

    def measured_white(self, rec: HDRResult) -> float:
        """LDR white as the reconstruction maps it, read off its bright measured pixels: the median gain of ``rec``
        over the linearised input where the input's brightest channel is 0.6-0.95, times 1.  :meth:`white` is that
        for the networks and inverse sRGB; a training-free expansion (Akyuz: x10) maps it elsewhere.  Falls back to
        :meth:`white` for a capture or with too few such pixels."""
        base = self.white(rec)
        px = np.asarray(self.ldr.pixels, np.float32)
        hdr = np.asarray(rec.hdr_linear, np.float32)[..., :3]
        if self.linear or self.ldr.transfer != "srgb" or hdr.shape[:2] != px.shape[:2]:
            return base
        from ..camera.transfer import srgb_to_linear
        from ..colour import luminance

        top = px.max(axis=-1)
        use = (top > 0.6) & (top < 0.95)
        if int(use.sum()) < 50:
            return base
        lin = luminance(srgb_to_linear(px[use]))
        gain = luminance(hdr[use]) / np.maximum(lin, 1e-6)
        return float(np.median(gain)) / self.exposure


def _envmap_equirect(ldr: _Source, opts: EnvmapOptions, t: dict[str, Any]) -> tuple[HDRResult, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    crop = _gpano_crop(ldr.ldr)
    h, w = ldr.shape
    frac_w = crop[2] if crop else 1.0
    full_w = w / frac_w  # input pixels per 360 deg
    k = int(full_w / (opts.max_oversample * opts.width)) if opts.max_oversample > 0 else 1
    ldr = ldr.downscale(k)
    t["envmap_downscale"] = k
    wraps = crop is None or frac_w >= 0.999
    rec, clipf = ldr.reconstruct(opts.reconstruct, "equirect" if wraps else "photo")
    stack = _stack(rec.hdr_linear, clipf, ldr)
    if crop is None:
        env7 = projections.resize_equirect(stack, opts.width)
        return rec, env7[..., :3], np.ones(env7.shape[:2], np.float32), env7[..., 3], env7[..., 4:7]
    left, top, cw, ch = crop
    t["envmap_gpano_crop"] = [left, top, cw, ch]
    ih, iw = stack.shape[:2]

    def lookup(d: np.ndarray) -> np.ndarray:
        u, v = projections.equirect_pixel_coords(d, 1, 1)
        x = np.mod(u - left, 1.0) / cw
        y = (v - top) / ch
        inside = (x <= 1.0) & (y >= 0.0) & (y <= 1.0)
        vals = projections.sample_bilinear(stack, x * iw, y * ih, wrap_x=wraps)
        return np.concatenate([vals * inside[..., None], inside[..., None].astype(np.float64)], axis=-1)

    oh = opts.width // 2
    ss = int(np.clip(np.ceil(full_w / k / opts.width), 1, 4))
    both = projections.resample_to_equirect(lookup, oh, opts.width, ss, 8)
    cov = both[..., 7]
    vals = np.where(cov[..., None] > 0, both[..., :7] / np.maximum(cov[..., None], 1e-12), 0.0)
    env = fill_envmap(vals[..., :3], cov)
    return rec, env, cov.astype(np.float32), vals[..., 3] * cov, (vals[..., 4:7] * cov[..., None]).astype(np.float32)


def _envmap_ball(ldr: _Source, opts: EnvmapOptions, circle: Circle | None, t: dict[str, Any]) -> tuple[HDRResult, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if opts.ball is not None:
        circle = Circle(*[float(v) for v in opts.ball], 1.0)
    if circle is None:
        circle = detect_ball(ldr.ldr.pixels)
        if circle is None or circle.score < 0.3:
            raise SingleHDRError("could not find the chrome ball in the image; pass its circle with --ball cx,cy,r (pixels)")
    h, w = ldr.shape
    if circle.r < 8 or circle.cx - circle.r < -0.05 * circle.r or circle.cy - circle.r < -0.05 * circle.r or circle.cx + circle.r > w + 0.05 * circle.r or circle.cy + circle.r > h + 0.05 * circle.r:
        raise SingleHDRError(f"the ball circle ({circle.cx:.1f}, {circle.cy:.1f}, r={circle.r:.1f}) does not fit inside the {w}x{h} image; check --ball cx,cy,r")
    t["envmap_ball_circle"] = [circle.cx, circle.cy, circle.r]
    t["envmap_ball_score"] = circle.score
    # crop a square around the ball with a small margin, then downscale
    m = 0.06 * circle.r
    x0, y0 = max(0, int(np.floor(circle.cx - circle.r - m))), max(0, int(np.floor(circle.cy - circle.r - m)))
    x1, y1 = min(w, int(np.ceil(circle.cx + circle.r + m))), min(h, int(np.ceil(circle.cy + circle.r + m)))
    crop = ldr.crop(y0, y1, x0, x1)
    r_needed = opts.width / np.pi  # ball radius whose pixels match the equator's
    k = int(circle.r / (opts.max_oversample * r_needed)) if opts.max_oversample > 0 else 1
    small = crop.downscale(k)
    k_eff = float(k) if small.shape != crop.shape else 1.0
    crop = small
    t["envmap_downscale"] = k
    rec, clipf = crop.reconstruct(opts.reconstruct, "photo")
    stack = _stack(rec.hdr_linear / np.float32(opts.ball_reflectance), clipf, crop)
    cx, cy, r = (circle.cx - x0) / k_eff, (circle.cy - y0) / k_eff, circle.r / k_eff
    env4 = projections.ball_to_equirect(stack, cx, cy, r, opts.width)
    alpha = projections.ball_alpha(opts.width, opts.rim_deg, opts.photographer_deg)
    # fill the blind spot behind the ball from its surroundings; keep the photographer's reflection
    rim_only = projections.ball_alpha(opts.width, opts.rim_deg, 0.0)
    filled = pull_push(env4[..., :3], rim_only)
    env = rim_only[..., None] * env4[..., :3] + (1 - rim_only[..., None]) * filled
    return rec, env.astype(np.float32), alpha, env4[..., 3] * rim_only, (env4[..., 4:7] * rim_only[..., None]).astype(np.float32)


def _envmap_photo(ldr: _Source, opts: EnvmapOptions, t: dict[str, Any], notes: list[str]) -> tuple[HDRResult, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    h, w = ldr.shape
    hfov = opts.fov if opts.fov is not None else projections.hfov_from_exif(ldr.ldr.exif or {}, w, h)
    if hfov is None:
        raise SingleHDRError("the photo has no EXIF FocalLengthIn35mmFilm to get its field of view from; pass --fov DEGREES (horizontal)")
    t["envmap_hfov_deg"] = float(hfov)
    yaw = 0.0 if opts.yaw is None else float(opts.yaw)
    pitch = 0.0 if opts.pitch is None else float(opts.pitch)
    if opts.yaw is None and opts.pitch is None:
        notes.append("the photo's orientation is unknown: yaw = pitch = 0 was assumed (it looks level, at the map centre); "
                     "pass --yaw/--pitch if it does not")
    elif opts.yaw is None or opts.pitch is None:
        notes.append(f"the photo's {'yaw' if opts.yaw is None else 'pitch'} is unknown: 0 was assumed")
    t["envmap_yaw_deg"] = yaw
    t["envmap_pitch_deg"] = pitch
    px_angle = hfov / w
    out_angle = 360.0 / opts.width
    k = int(out_angle / (opts.max_oversample * px_angle)) if opts.max_oversample > 0 else 1
    ldr = ldr.downscale(k)
    t["envmap_downscale"] = k
    rec, clipf = ldr.reconstruct(opts.reconstruct, "photo")
    stack = _stack(rec.hdr_linear, clipf, ldr)
    env4, cov = projections.perspective_to_equirect(stack, hfov, yaw, pitch, opts.width)
    env = fill_envmap(env4[..., :3], cov)
    return rec, env, cov, env4[..., 3] * cov, (env4[..., 4:7] * cov[..., None]).astype(np.float32)


def _source(image: Any, opts: EnvmapOptions) -> _Source:
    """One LDR image, brackets (a list / tuple), a RAW path or a LinearCapture -> a :class:`_Source`."""
    from ..api import load_input

    if isinstance(image, (list, tuple)) or _is_capture(image) or _is_raw(image):
        from ..merge.brackets import LinearCapture, MergeOptions, capture_brackets, capture_raw

        mo = opts.merge or MergeOptions()
        ik = {"equirect": "equirect", "auto": "auto"}.get(opts.kind, "photo")
        method = opts.reconstruct.method
        if isinstance(image, LinearCapture):
            cap = image
        elif isinstance(image, (list, tuple)):
            cap = capture_brackets(list(image), mo, input_kind=ik, method=method)
        else:
            cap = capture_raw(image, input_kind=ik, method=method, fill=mo.fill, half_size=mo.raw_half)
        clip = np.asarray(cap.clip).astype(np.float32)
        if cap.source.shape != clip.shape or cap.hdr_linear.shape[:2] != clip.shape:
            raise SingleHDRError("the capture's HDR, clip mask and source image must have one size")
        return _Source(cap.source, np.asarray(cap.hdr_linear, dtype=np.float32), clip, cap.exposure, mo.fill, cap.meta)
    return _Source(load_input(image))


def _is_capture(image: Any) -> bool:
    return type(image).__name__ == "LinearCapture" and hasattr(image, "hdr_linear") and hasattr(image, "clip")


def _is_raw(image: Any) -> bool:
    import os

    if not isinstance(image, (str, os.PathLike)):
        return False
    from ..io.raw import is_raw_path

    return is_raw_path(image)


def make_envmap(image: Any, options: EnvmapOptions | None = None) -> EnvmapResult:
    """Build an HDR equirect environment map from one LDR image, exposure brackets or a RAW file.

    image: a path, an (H, W, 3|4) array or an :class:`LDRImage`; or a list /
        tuple of >= 2 such frames (exposure brackets of one scene, merged by
        :mod:`singlehdr.merge` with ``options.merge``); or a camera RAW / DNG
        path; or a :class:`singlehdr.merge.LinearCapture`.  For brackets and
        RAW the networks fill only what the darkest frame (the sensor) clips.
    options: :class:`EnvmapOptions` (kind, width, reconstruction, lighting, merge).
    Returns an :class:`EnvmapResult`.  Raises SingleHDRError for anything the
    user can fix (no FOV, ball not found, missing EXIF for absolute exposure,
    a black or degenerate input; for brackets: one frame, different sizes,
    no exposure; an unreadable RAW).
    """
    opts = options or EnvmapOptions()
    t0 = time.perf_counter()
    src = _source(image, opts)
    ldr = src.ldr
    h_in, w_in = ldr.shape
    if min(h_in, w_in) < 2:
        raise SingleHDRError(f"the image is {w_in}x{h_in} pixels: too small to make an environment map from; "
                             "give an image at least 8 pixels on each side")
    notes: list[str] = []
    circle = None
    kind = opts.kind
    if kind == "auto":
        if opts.ball is not None:
            kind = "ball"
        elif opts.fov is not None:
            kind = "equirect" if is_equirect_input(ldr) else "photo"
        else:
            kind, circle, why = detect_kind(ldr)
            if kind == "photo":
                notes.append(f"no chrome ball found ({why}); the input is treated as an ordinary photo "
                             "(use --kind ball --ball cx,cy,r if it is a ball)")
            elif kind == "ball" and circle is not None:
                notes.append(f"found a chrome ball at ({circle.cx:.0f}, {circle.cy:.0f}), radius {circle.r:.0f} px "
                             "(use --kind photo if the input is not a ball shot)")
    if min(h_in, w_in) < 8:
        raise SingleHDRError(f"the image is {w_in}x{h_in} pixels: too small to make an environment map from; "
                             "give an image at least 8 pixels on each side")
    geo: dict[str, Any] = {"envmap_kind": kind, "envmap_width": opts.width, "envmap_convention": CONVENTION}
    if kind == "equirect":
        rec, env, alpha, clip, ldr_env = _envmap_equirect(src, opts, geo)
        white = src.white(rec)
    elif kind == "ball":
        rec, env, alpha, clip, ldr_env = _envmap_ball(src, opts, circle, geo)
        white = src.white(rec) / opts.ball_reflectance
    else:
        rec, env, alpha, clip, ldr_env = _envmap_photo(src, opts, geo, notes)
        white = src.white(rec)
    if src.linear:
        geo["envmap_clip_level"] = white
    env = np.clip(np.nan_to_num(env, nan=0.0, posinf=0.0), 0.0, None).astype(np.float32)
    seen = alpha > 0.5
    if seen.any() and float(np.mean(clip[seen] >= 0.5)) > 0.95:
        notes.append("nearly all of the input is clipped (over-exposed): the map holds no usable light levels; "
                     "shoot or export it darker")

    light = lighting.dominant_light(env, opts.light_threshold, clip)
    sun_mode = opts.sun
    if src.linear and src.fill == "none":
        # the merge's lower bound, unfilled: no plateau lift; a sun only when asked for (sun="on")
        if sun_mode == "auto":
            sun_mode = "off"
            if float(np.max(clip)) > 0:
                notes.append("fill none: what the darkest frame clips keeps its lower bound and no sun is recovered "
                             "(use --sun on to add one, or the default --fill networks)")
    elif rec.metadata.get("highlights") != "colour":
        # reconstruct's colour-true expansion already rises from the rim with the rim's own slope
        # (infer/highlights.py); the lift is the energy prior for reconstructions that do not expand
        env = lift_clipped(env, clip * (alpha > 0.5), white)
    rs = sunmod.recover_sun(env, clip, alpha, white, sun_mode, opts.sun_intensity, opts.sun_diameter_deg,
                            fallback_direction=np.asarray(light.direction), white_ref=src.measured_white(rec),
                            ldr=ldr_env)
    notes.extend(rs.notes)
    env, env_wo = rs.env, rs.env_without_sun
    sh = lighting.sh9(env)

    colorspace = opts.reconstruct.colorspace
    out, out_wo, sun = env, env_wo, rs.sun
    if colorspace != "lin_rec709":
        from ..io.colorspace import convert_linear

        out = convert_linear(env, "lin_rec709", colorspace)
        out_wo = out if env_wo is env else convert_linear(env_wo, "lin_rec709", colorspace)
        if sun is not None:
            for key in ("radiance_rgb", "irradiance_rgb"):
                sun[key] = [float(v) for v in convert_linear(np.asarray(sun[key], np.float32)[None, None], "lin_rec709", colorspace)[0, 0]]
    if sun is not None:
        sun["colorspace"] = colorspace
    meta = dict(rec.metadata)
    meta.update(geo)
    meta["envmap_light_direction"] = light.direction
    meta["envmap_light_azimuth_deg"] = light.azimuth_deg
    meta["envmap_light_elevation_deg"] = light.elevation_deg
    meta["envmap_sun_mode"] = sun_mode
    meta["envmap_sun"] = sun if sun is not None else "none"
    if rs.assessment.get("confidence") is not None:
        meta["envmap_sun_confidence"] = float(rs.assessment["confidence"])
    if notes:
        meta["envmap_notes"] = " | ".join(notes)
    meta["envmap_seconds"] = round(time.perf_counter() - t0, 4)
    out = np.ascontiguousarray(out, dtype=np.float32)
    return EnvmapResult(
        hdr_linear=out,
        alpha=np.ascontiguousarray(np.clip(alpha, 0, 1), dtype=np.float32),
        kind=kind,
        light=light,
        sh=sh,
        sun=sun,
        reconstruction=rec,
        colorspace=colorspace,
        metadata=meta,
        hdr_without_sun=out if out_wo is env or out_wo is out else np.ascontiguousarray(out_wo, dtype=np.float32),
        notes=notes,
        sun_assessment=rs.assessment,
    )
