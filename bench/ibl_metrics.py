"""Metrics of the image-based-lighting evaluation (bench/ibl.py): numpy only, no singlehdr import.

They live beside the bench, not in the core, so that the bench can measure
whatever ``singlehdr`` is on PYTHONPATH (another branch's core) with the same
yardstick.

Maps are (H, W, 3) float linear equirects, H = W / 2, in the house
convention (+Y up, -Z forward at the image centre, +X at u = 0.75; see
singlehdr.envmap.projections): pixel (i, j) looks along azimuth
(u - 0.5) 360 deg, elevation (0.5 - v) 180 deg with u = (j + 0.5) / W,
v = (i + 0.5) / H, and covers the solid angle
(2 pi / W) (pi / H) cos(elevation) (exact integral over the pixel:
(2 pi / W) (sin(el_top) - sin(el_bottom)); the two agree to O(1/H^2), we
use the exact one so a constant map integrates to 4 pi exactly).

Renders are (H, W, 3) float linear images of the same camera.
Luminance: Rec.709 / sRGB primaries, Y = 0.2126 R + 0.7152 G + 0.0722 B
(ITU-R BT.709-6, item 3.2).
"""

from __future__ import annotations

import math

import numpy as np

LUMA_709 = np.array([0.2126, 0.7152, 0.0722])

#: Targets of issue 9 (held-out set).
TARGET_ENERGY = (0.8, 1.25)
TARGET_SHADOW_DELTA = 0.1
TARGET_LIGHT_DEG = 3.0
TARGET_RENDER_VS_JPEG = 1.0 / 3.0
TARGET_SH9_VS_JPEG = 0.5


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) linear Rec.709 -> (...) luminance, float64."""
    return np.asarray(rgb, dtype=np.float64) @ LUMA_709


# ----------------------------------------------------------------------------
# Sphere geometry


def equirect_directions(h: int, w: int) -> np.ndarray:
    """(H, W, 3) unit directions of pixel centres (house convention, module doc)."""
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    az = (u - 0.5) * 2 * np.pi
    el = (0.5 - v) * np.pi
    az, el = np.meshgrid(az, el)
    return np.stack([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)], axis=-1)


def equirect_solid_angles(h: int, w: int) -> np.ndarray:
    """(H, W) exact solid angle of each pixel: (2 pi / W) (sin el_top - sin el_bottom); sums to 4 pi."""
    edges = (0.5 - np.arange(h + 1) / h) * np.pi
    band = np.sin(edges[:-1]) - np.sin(edges[1:])
    return np.repeat((2 * np.pi / w) * band[:, None], w, axis=1)


def direction_from_angles(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector at (azimuth, elevation) in degrees, house convention."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.cos(el) * math.sin(az), math.sin(el), -math.cos(el) * math.cos(az)])


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two directions in degrees (atan2 form: exact for tiny angles)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), float(np.dot(a, b)))))


def _check_map(env: np.ndarray) -> np.ndarray:
    env = np.asarray(env)
    if env.ndim != 3 or env.shape[2] != 3 or env.shape[1] != 2 * env.shape[0]:
        raise ValueError(f"expected an (H, 2H, 3) equirect, got {env.shape}")
    return env


# ----------------------------------------------------------------------------
# Map metrics


def map_energy(env: np.ndarray) -> float:
    """Integral of luminance over the sphere, sum Y(w) d omega (map units x sr)."""
    env = _check_map(env)
    h, w = env.shape[:2]
    return float(np.sum(luminance(env) * equirect_solid_angles(h, w)))


def energy_ratio(env: np.ndarray, ref: np.ndarray) -> float:
    """map_energy(env) / map_energy(ref) (1 = the same total light)."""
    return map_energy(env) / map_energy(ref)


def fit_scale(env: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> float:
    """One global factor s so that s * env matches ref on ``mask`` (the well-exposed pixels).

    s = exp(sum_m omega log(Y_ref / Y_env) / sum_m omega): the solid-angle
    weighted geometric mean of the luminance ratio (a least-squares fit in
    log luminance).  Pixels where either luminance is <= 0 are skipped.
    """
    env, ref = _check_map(env), _check_map(ref)
    if env.shape != ref.shape:
        raise ValueError(f"maps differ in shape: {env.shape} vs {ref.shape}")
    ye, yr = luminance(env), luminance(ref)
    h, w = env.shape[:2]
    m = np.asarray(mask, bool) & (ye > 0) & (yr > 0)
    if not m.any():
        raise ValueError("no well-exposed pixel to fit the scale on")
    om = equirect_solid_angles(h, w)[m]
    return float(np.exp(np.sum(om * (np.log(yr[m]) - np.log(ye[m]))) / np.sum(om)))


def well_exposed_mask(ldr_srgb: np.ndarray, low: float = 0.04, high: float = 0.9) -> np.ndarray:
    """(H, W) bool: every channel of the display-referred input in [low, high] (neither crushed nor clipped)."""
    x = np.asarray(ldr_srgb, dtype=np.float64)
    return (x.min(axis=-1) >= low) & (x.max(axis=-1) <= high)


def dominant_light(env: np.ndarray, lobe_power: float = 64.0, cone_deg: float = 15.0, grid: int = 64, iterations: int = 3) -> np.ndarray:
    """Unit direction of the dominant light of a map.

    1. smooth: for each direction d of a (grid/2, grid) equirect of candidates,
       S(d) = sum_w Y(w) max(0, d.w)^p d omega (p = ``lobe_power``, a lobe of
       ~12 deg half width at half maximum for p = 64), on the map
       area-averaged to at most grid x grid/2 (energy-preserving);
    2. take the candidate with the largest S (a flat clipped plateau and a
       point sun both give a clear maximum; isolated hot pixels do not win
       against a bright region);
    3. refine (mean shift, ``iterations`` times): the luminance- and
       solid-angle-weighted mean direction of the full-resolution pixels
       within ``cone_deg`` of the current estimate.
    For a single bright pixel this returns that pixel's centre direction.
    """
    env = _check_map(env)
    h, w = env.shape[:2]
    y = luminance(env)
    om = equirect_solid_angles(h, w)
    yo = y * om
    if not np.sum(yo) > 0:
        raise ValueError("the map is black")
    k = max(1, w // grid)
    while h % k or w % k:
        k -= 1
    hs, ws = h // k, w // k
    small = yo.reshape(hs, k, ws, k).sum(axis=(1, 3))  # energy per coarse pixel
    ds = equirect_directions(hs, ws)
    # energy-weighted mean direction inside each coarse pixel (exact for one hot pixel)
    d_full = equirect_directions(h, w)
    dsum = (d_full * yo[..., None]).reshape(hs, k, ws, k, 3).sum(axis=(1, 3))
    norm = np.linalg.norm(dsum, axis=-1, keepdims=True)
    dcoarse = np.where(norm > 0, dsum / np.maximum(norm, 1e-300), ds)
    gh = max(2, grid // 2)
    cand = equirect_directions(gh, 2 * gh).reshape(-1, 3)
    cos = np.clip(cand @ dcoarse.reshape(-1, 3).T, 0.0, None)
    score = (cos**lobe_power) @ small.reshape(-1)
    best = cand[int(np.argmax(score))]
    for _ in range(iterations):
        cone = (d_full @ best) >= math.cos(math.radians(cone_deg))
        wsum = (d_full * (yo * cone)[..., None]).sum(axis=(0, 1))
        if not np.linalg.norm(wsum) > 0:
            break
        best = wsum / np.linalg.norm(wsum)
    return best


def dominant_light_angle(env: np.ndarray, ref: np.ndarray) -> float:
    """Angle in degrees between the dominant lights of two maps."""
    return angle_deg(dominant_light(env), dominant_light(ref))


# Spherical harmonics, Ramamoorthi & Hanrahan, "An Efficient Representation for
# Irradiance Environment Maps", SIGGRAPH 2001: eq. 3 (basis constants), eq. 8
# (irradiance E(n) = sum_lm A_l L_lm Y_lm(n), A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4).
SH_BAND_FACTORS = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)


def sh_basis(d: np.ndarray) -> np.ndarray:
    """(..., 3) unit directions -> (..., 9) real SH basis (R&H 2001 eq. 3 constants)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack([np.full_like(x, 0.282095), 0.488603 * y, 0.488603 * z, 0.488603 * x, 1.092548 * x * y,
                     1.092548 * y * z, 0.315392 * (3 * z * z - 1), 1.092548 * x * z, 0.546274 * (x * x - y * y)], axis=-1)


def sh9(env: np.ndarray) -> np.ndarray:
    """(9, 3) radiance coefficients L_lm = sum L(w) Y_lm(w) d omega."""
    env = _check_map(env)
    h, w = env.shape[:2]
    b = sh_basis(equirect_directions(h, w)) * equirect_solid_angles(h, w)[..., None]
    return np.einsum("hwk,hwc->kc", b, np.asarray(env, dtype=np.float64))


def sh_irradiance(coeffs: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(..., 3) irradiance at unit normals from (9, 3) coefficients (R&H eq. 8)."""
    return sh_basis(normals) @ (np.asarray(coeffs) * SH_BAND_FACTORS[:, None])


def sh9_irradiance_error(env: np.ndarray, ref: np.ndarray, n: int = 32) -> float:
    """Relative RMS error of the SH9 irradiance luminance over all normals.

    sqrt( sum_n omega_n (E(n) - E_ref(n))^2 / sum_n omega_n E_ref(n)^2 ) over the
    normals of an (n/2, n) equirect grid weighted by their solid angle.
    0 for identical maps; 1 for a black map.
    """
    nrm = equirect_directions(n // 2, n)
    om = equirect_solid_angles(n // 2, n)
    e = luminance(sh_irradiance(sh9(env), nrm))
    r = luminance(sh_irradiance(sh9(ref), nrm))
    return float(np.sqrt(np.sum(om * (e - r) ** 2) / np.sum(om * r**2)))


# ----------------------------------------------------------------------------
# Render metrics


def highlight_clamp(ref: np.ndarray, percentile: float = 99.5) -> float:
    """The ``percentile`` of the reference render's per-pixel max channel: a clamp level that leaves
    everything but the brightest 0.5 % (the sun's specular highlight in a metal sphere) untouched."""
    return float(np.percentile(np.asarray(ref, dtype=np.float64).max(axis=-1), percentile))


def render_rel_rmse(render: np.ndarray, ref: np.ndarray, clamp: float | None = None) -> float:
    """sqrt(sum (r - t)^2 / sum t^2) over every pixel and channel (0 = identical, 1 = black).

    clamp: if given, both renders are clamped to [0, clamp] first (bench/ibl.py passes
    :func:`highlight_clamp` of the truth: a sun's mirror highlight is a few pixels 10^4 times
    brighter than the ground and would otherwise be the whole error of every row).
    """
    r = np.asarray(render, dtype=np.float64)
    t = np.asarray(ref, dtype=np.float64)
    if clamp is not None:
        r, t = np.clip(r, 0.0, clamp), np.clip(t, 0.0, clamp)
    return float(np.sqrt(np.sum((r - t) ** 2) / np.sum(t**2)))


def render_log2_rmse(render: np.ndarray, ref: np.ndarray, floor: float = 1e-2) -> float:
    """RMS of log2 luminance differences in stops; luminances below ``floor`` x mean(Y_ref) are raised to it."""
    yr, yt = luminance(render), luminance(ref)
    eps = floor * float(np.mean(yt))
    return float(np.sqrt(np.mean((np.log2(np.maximum(yr, eps)) - np.log2(np.maximum(yt, eps))) ** 2)))


def shadow_masks(with_objects: np.ndarray, without_objects: np.ndarray, ground: np.ndarray,
                 shadow_below: float = 0.5, lit_above: float = 0.9, min_pixels: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(shadow, lit) boolean masks on the ground from the truth's renders with and without the objects.

    ratio = Y(with) / Y(without) on ground pixels: shadow where ratio < ``shadow_below``,
    lit where ratio > ``lit_above``.  A mask with fewer than ``min_pixels`` pixels is returned empty.
    """
    yw, yo = luminance(with_objects), luminance(without_objects)
    g = np.asarray(ground, bool) & (yo > 0)
    ratio = np.where(g, yw / np.where(g, yo, 1.0), 1.0)
    shadow = g & (ratio < shadow_below)
    lit = g & (ratio > lit_above)
    if shadow.sum() < min_pixels:
        shadow = np.zeros_like(shadow)
    if lit.sum() < min_pixels:
        lit = np.zeros_like(lit)
    return shadow, lit


def shadow_contrast(render: np.ndarray, shadow: np.ndarray, lit: np.ndarray) -> float:
    """mean Y over the shadow mask / mean Y over the lit mask (1 = no visible shadow); NaN without masks."""
    s, l = np.asarray(shadow, bool), np.asarray(lit, bool)
    if not s.any() or not l.any():
        return float("nan")
    y = luminance(render)
    return float(np.mean(y[s]) / np.mean(y[l]))


# ----------------------------------------------------------------------------
# Targets


def target_checks(row: dict, jpeg_row: dict | None) -> dict[str, bool | None]:
    """Which of issue 9's targets one scene's row meets (None = not applicable).

    energy: 0.8 <= energy_ratio <= 1.25; shadow: |contrast - truth contrast| <= 0.1
    (None where the truth casts no shadow); light: dominant-light angle <= 3 deg;
    render: rel RMSE <= 1/3 of the JPEG-as-is row's; sh9: SH9 error <= 1/2 of it.
    """
    out: dict[str, bool | None] = {}
    out["energy"] = bool(TARGET_ENERGY[0] <= row["energy_ratio"] <= TARGET_ENERGY[1])
    c, ct = row.get("shadow_contrast"), row.get("shadow_contrast_truth")
    out["shadow"] = None if c is None or ct is None or not (np.isfinite(c) and np.isfinite(ct)) else bool(abs(c - ct) <= TARGET_SHADOW_DELTA)
    out["light"] = bool(row["light_angle_deg"] <= TARGET_LIGHT_DEG)
    if jpeg_row is None:
        out["render"] = out["sh9"] = None
    else:
        out["render"] = bool(row["render_rel_rmse"] <= TARGET_RENDER_VS_JPEG * jpeg_row["render_rel_rmse"])
        out["sh9"] = bool(row["sh9_error"] <= TARGET_SH9_VS_JPEG * jpeg_row["sh9_error"])
    return out
