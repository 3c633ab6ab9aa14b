"""Lighting analysis of an equirect environment map: SH irradiance, dominant light, sun disc geometry.

All functions take an (H, W, 3) float32 linear equirect ``env`` in the frame
of :mod:`singlehdr.envmap.projections` (+Y up, -Z forward) and weight pixels
by their exact solid angle, so the results do not depend on the resolution.

Spherical harmonics (Ramamoorthi & Hanrahan, "An Efficient Representation for
Irradiance Environment Maps", SIGGRAPH 2001, eqs. 3, 7-9): radiance
coefficients L_lm = sum_pixels L(w) Y_lm(w) d omega for the 9 real basis
functions, in this order, evaluated on the (x, y, z) of *our* frame
(note: R&H's z-up formulas used literally on our Y-up coordinates):

    0: Y00  = 0.282095            1: Y1-1 = 0.488603 y
    2: Y10  = 0.488603 z          3: Y11  = 0.488603 x
    4: Y2-2 = 1.092548 x y        5: Y2-1 = 1.092548 y z
    6: Y20  = 0.315392 (3 z^2 - 1) 7: Y21 = 1.092548 x z
    8: Y22  = 0.546274 (x^2 - y^2)

Irradiance at normal n: E(n) = sum_lm A_l L_lm Y_lm(n) with A_0 = pi,
A_1 = 2 pi / 3, A_2 = pi / 4 (R&H eq. 8).  A Lambertian surface of albedo rho
then has outgoing radiance rho E(n) / pi.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from ..colour import LUMA_709, luminance
from .projections import (
    _subpixel_offsets,
    azimuth_elevation,
    equirect_directions,
    equirect_pixel_coords,
    equirect_solid_angles,
    normalize,
    to_blender,
)

SH_ORDER_NAMES = ("Y00", "Y1-1", "Y10", "Y11", "Y2-2", "Y2-1", "Y20", "Y21", "Y22")
SH_BAND_FACTORS = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)
#: Mean angular diameter of the sun seen from Earth, degrees.
SUN_DIAMETER_DEG = 0.53


def sh_basis(d: np.ndarray) -> np.ndarray:
    """(..., 3) unit directions -> (..., 9) real SH basis values (R&H 2001 eq. 3 constants; module doc)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack(
        [
            np.full_like(x, 0.282095),
            0.488603 * y,
            0.488603 * z,
            0.488603 * x,
            1.092548 * x * y,
            1.092548 * y * z,
            0.315392 * (3 * z * z - 1),
            1.092548 * x * z,
            0.546274 * (x * x - y * y),
        ],
        axis=-1,
    )


def sh9(env: np.ndarray) -> np.ndarray:
    """(9, 3) radiance SH coefficients L_lm per RGB channel of an (H, W, 3) equirect."""
    h, w = env.shape[:2]
    basis = sh_basis(equirect_directions(h, w)) * equirect_solid_angles(h, w)[..., None]  # (H, W, 9)
    return np.einsum("hwk,hwc->kc", basis, env.astype(np.float64))


def sh_irradiance(coeffs: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Irradiance E(n) (..., 3) from (9, 3) radiance coefficients at unit normals (..., 3) (R&H eq. 8)."""
    return sh_basis(normals) @ (coeffs * SH_BAND_FACTORS[:, None])


def irradiance_brute_force(env: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Exact E(n) = sum L(w) max(0, n.w) d omega, (N, 3) normals -> (N, 3); for checks, O(N H W)."""
    h, w = env.shape[:2]
    d = equirect_directions(h, w).reshape(-1, 3)
    lw = env.reshape(-1, 3).astype(np.float64) * equirect_solid_angles(h, w).reshape(-1, 1)
    cos = np.clip(np.asarray(normals, dtype=np.float64).reshape(-1, 3) @ d.T, 0.0, None)
    return cos @ lw


def irradiance_error(coeffs_est: np.ndarray, coeffs_ref: np.ndarray, n_normals: int = 32) -> float:
    """Relative RMS error of SH irradiance luminance over normals on a (n/2, n) equirect grid (solid-angle weighted)."""
    h, w = n_normals // 2, n_normals
    nrm = equirect_directions(h, w)
    wts = equirect_solid_angles(h, w)
    ye = sh_irradiance(coeffs_est, nrm) @ LUMA_709.astype(np.float64)
    yr = sh_irradiance(coeffs_ref, nrm) @ LUMA_709.astype(np.float64)
    return float(np.sqrt(np.sum(wts * (ye - yr) ** 2) / np.sum(wts * yr**2)))


# ----------------------------------------------------------------------------
# Dominant light


@dataclass
class LightEstimate:
    """The dominant light of an environment map.

    direction: unit (x, y, z) in our frame; direction_blender: the same in
    Blender's Z-up world.  azimuth/elevation in degrees (projections doc).
    solid_angle_sr: solid angle of the bright region.
    intensity_rgb: integrated radiance sum L d omega over the region (the
    irradiance it gives a surface facing it), map units times sr.
    energy_fraction: its share of the whole map's integrated luminance.
    peak_luminance: brightest pixel luminance; clipped: whether the source
    LDR was saturated there (None when unknown).
    """

    direction: list[float]
    direction_blender: list[float]
    azimuth_deg: float
    elevation_deg: float
    solid_angle_sr: float
    intensity_rgb: list[float]
    intensity_luminance: float
    energy_fraction: float
    peak_luminance: float
    clipped: bool | None = None
    mask: np.ndarray | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("mask", None)
        return d


def _label_wrap(mask: np.ndarray) -> np.ndarray:
    """Connected components (8-connected) of an equirect mask whose left and right edges touch."""
    from ..geometry.labels import label_regions

    return label_regions(mask, wrap_x=True, eight=True)


def dominant_light(env: np.ndarray, threshold: float = 0.5, clip_mask: np.ndarray | None = None) -> LightEstimate:
    """Find the dominant light: of the connected regions (the seam wraps) with luminance >= ``threshold``
    times the peak, the one with the most energy sum Y d omega (clipped inputs give several lights the same
    peak); its direction is the luminance- and solid-angle-weighted mean direction.

    env: (H, W, 3) linear equirect.  clip_mask: optional (H, W) in [0, 1], the
    fraction of source LDR pixels saturated (sets ``clipped``).
    """
    h, w = env.shape[:2]
    y = luminance(env).astype(np.float64)
    omega = equirect_solid_angles(h, w)
    total = float(np.sum(y * omega))
    if not np.isfinite(total) or total <= 0:
        raise SingleHDRError("the environment map is black; nothing to analyse (check the input image and exposure)")
    peak_idx = np.unravel_index(int(np.argmax(y)), y.shape)
    peak = float(y[peak_idx])
    lab = _label_wrap(y >= threshold * peak)
    # the component carrying the most energy (several lights may clip to the same peak)
    energy = np.bincount(lab.ravel(), weights=(y * omega).ravel())
    energy[0] = -1.0
    region = lab == int(np.argmax(energy))
    peak = float(np.max(y[region]))
    d = equirect_directions(h, w)
    wy = (y * omega * region)[..., None]
    direction = normalize(np.sum(d * wy, axis=(0, 1)))
    az, el = azimuth_elevation(direction)
    rgb = np.sum(env.astype(np.float64) * (omega * region)[..., None], axis=(0, 1))
    lum = float(np.sum(y * omega * region))
    clipped = None
    if clip_mask is not None:
        clipped = bool(np.max(np.asarray(clip_mask)[region]) >= 0.5)
    return LightEstimate(
        direction=[float(v) for v in direction],
        direction_blender=[float(v) for v in to_blender(direction)],
        azimuth_deg=float(az),
        elevation_deg=float(el),
        solid_angle_sr=float(np.sum(omega * region)),
        intensity_rgb=[float(v) for v in rgb],
        intensity_luminance=lum,
        energy_fraction=lum / total,
        peak_luminance=peak,
        clipped=clipped,
        mask=region,
    )


# ----------------------------------------------------------------------------
# Sun disc geometry (the sun itself is recovered in :mod:`singlehdr.envmap.sun`)


def sun_disk_weights(h: int, w: int, direction: np.ndarray, diameter_deg: float = SUN_DIAMETER_DEG, ss: int = 16) -> np.ndarray:
    """(H, W) fraction of each equirect pixel's solid angle covered by a disk of ``diameter_deg`` around ``direction``.

    Estimated with ss x ss sub-samples on the pixels near the disk; if the disk
    falls between sub-samples, the pixel containing its centre gets weight 1.
    """
    direction = normalize(np.asarray(direction, dtype=np.float64))
    cos_r = np.cos(np.radians(diameter_deg / 2.0))
    d = equirect_directions(h, w)
    pix = np.radians(360.0 / w) * 1.5
    near = np.arccos(np.clip(d @ direction, -1, 1)) < np.radians(diameter_deg / 2.0) + pix
    rows, cols = np.nonzero(near)
    cover = np.zeros((h, w))
    offs = _subpixel_offsets(ss)
    for ox, oy in offs:
        u = (cols + ox) / w
        v = (rows + oy) / h
        az, el = (u - 0.5) * 2 * np.pi, (0.5 - v) * np.pi
        ds = np.stack([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)], axis=-1)
        cover[rows, cols] += (ds @ direction) >= cos_r
    cover /= len(offs)
    if cover.sum() == 0:
        px, py = equirect_pixel_coords(direction, h, w)
        cover[min(int(py), h - 1), int(px) % w] = 1.0
    return cover
