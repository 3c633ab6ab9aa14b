"""The sun's strength measured on the ground: sunlit against shadowed.

A horizontal surface of albedo rho in the sun receives the sun's irradiance
times the sine of its elevation plus the sky's; in a cast shadow only the
sky's.  Its radiance is rho / pi times that, so per channel

    lit / shadow = (E_sun sin(el) + E_sky) / E_sky
    E_sun = (lit / shadow - 1) * E_sky / sin(el)

with E_sky the horizontal irradiance of the map's sky (its upper hemisphere
with the sun's blob removed).  The albedo cancels, so this needs no model of
the atmosphere: it is the cross-check of the sky-model estimate that issue 9
asks for ("cross-checked against the sunlit/shadow ratio measured in the image
where the image has both"), after Lalonde, Efros & Narasimhan (IJCV 2012),
who read the sun's visibility from ground shadows.

Where it applies: the map must see ground (below the horizon) in both sun and
shadow.  :func:`sunlit_shadow_ratio` splits the seen, unclipped ground into
two classes of log luminance (Otsu's threshold) and accepts the split only
when it looks like sun and shadow: both classes hold a real share of the
ground, they are far apart and each is tight (bimodal), and the shadow is
bluer than the sunlit ground (skylight is bluer than sunlight); otherwise it
says why not and gives no estimate.  It assumes a shadowed point still sees
the whole sky (a building hides part of it), so it errs a little high, and
a uniformly lit ground with dark paving could pass for a shadow: that is why
it is a cross-check that bounds the sky-model estimate, not a replacement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..colour import LUMA_709, luminance
from .projections import equirect_directions, equirect_solid_angles, normalize

#: Ground seen between these elevations (deg): below the horizon band (haze, far walls) and above the nadir
#: (tripod, photographer).
GROUND_EL_DEG = (-70.0, -2.0)
#: Each class (sunlit, shadow) must hold at least this share of the usable ground's solid angle.
MIN_CLASS_SHARE = 0.03
#: Sunlit over shadow (luminance) at least this: a weaker contrast is texture or albedo, not a cast shadow.
MIN_RATIO = 1.6
#: Otsu's between-class variance over the total variance at least this (two clear modes).
MIN_SEPARATION = 0.7
#: The shadow's blue/red chromaticity over the sunlit ground's at least this (skylight is bluer than sunlight).
MIN_BLUE_SHIFT = 1.05
#: Sunlit over shadow at most this: a clear sky's sun/sky irradiance ratio stays below ~12 (ESRA at Linke
#: turbidity 2, sun overhead); a larger split is a dark ground colour (a sky texture's), not a shadow.
MAX_RATIO = 15.0
#: The share of shadow pixels lying in rows of the map that also hold sunlit ground (10-90 % of the row): a cast
#: shadow lies beside sunlit ground; a split by elevation alone is a brightness gradient (haze, a sky texture's
#: ground colour), not a shadow.
MIN_MIXED_ROWS = 0.5
#: The shadow's albedo implied by the sky's irradiance (pi L / E_sky) within this range.
ALBEDO_RANGE = (0.02, 1.0)
#: Sun elevation (deg) below which sin(el) makes the estimate unstable.
MIN_SUN_ELEVATION_DEG = 10.0
#: Skip when more of the seen ground than this is clipped: the sunlit class is then cut off at white (too dark).
MAX_CLIPPED_GROUND = 0.05
#: Usable ground pixels needed.
MIN_PIXELS = 200


@dataclass
class ShadowCheck:
    """The sunlit/shadow measurement; ``irradiance_rgb`` is None when the ground does not allow one (``reason``)."""

    irradiance_rgb: np.ndarray | None
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def irradiance_luminance(self) -> float | None:
        return None if self.irradiance_rgb is None else float(self.irradiance_rgb @ LUMA_709)


def _otsu(x: np.ndarray, w: np.ndarray, bins: int = 128) -> tuple[float, float]:
    """(threshold, between-class variance / total variance) of weighted samples ``x``."""
    hist, edges = np.histogram(x, bins=bins, weights=w)
    p = hist / max(float(hist.sum()), 1e-30)
    centres = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    mt = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 - m0) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = 0.0
    k = int(np.argmax(between))
    total = float(np.sum(p * (centres - mt) ** 2))
    return float(edges[k + 1]), float(between[k] / total) if total > 0 else 0.0


def sky_horizontal_irradiance(env: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """(3,) irradiance on an upward-facing surface from the map's upper hemisphere (seen pixels only when ``alpha``)."""
    h, w = env.shape[:2]
    d, om = equirect_directions(h, w), equirect_solid_angles(h, w)
    wt = om * np.clip(d[..., 1], 0.0, None)
    if alpha is not None:
        wt = wt * (np.asarray(alpha) > 0.5)
    return np.tensordot(wt, env.astype(np.float64), axes=([0, 1], [0, 1]))


def sunlit_shadow_ratio(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray | None, str, dict[str, Any]]:
    """(lit / shadow per channel (3,) or None, reason, facts) of the map's ground (module doc)."""
    h, w = env.shape[:2]
    d, om = equirect_directions(h, w), equirect_solid_angles(h, w)
    el = np.degrees(np.arcsin(np.clip(d[..., 1], -1, 1)))
    y = luminance(env).astype(np.float64)
    ground = ((el >= GROUND_EL_DEG[0]) & (el <= GROUND_EL_DEG[1]) & (np.asarray(alpha) > 0.5)
              & (np.asarray(clip) < 0.02) & (y > 0) & np.all(env > 0, axis=-1))
    seen_ground = (el >= GROUND_EL_DEG[0]) & (el <= GROUND_EL_DEG[1]) & (np.asarray(alpha) > 0.5)
    clipped_share = float(np.sum(om * (seen_ground & (np.asarray(clip) >= 0.02))) / max(float(np.sum(om * seen_ground)), 1e-30))
    facts: dict[str, Any] = {"ground_pixels": int(ground.sum()), "clipped_ground_share": clipped_share}
    if clipped_share > MAX_CLIPPED_GROUND:
        return None, f"{100 * clipped_share:.0f} % of the seen ground is clipped: its sunlit level is unknown", facts
    if ground.sum() < MIN_PIXELS:
        return None, "too little unclipped ground is seen", facts
    logy = np.log(y[ground])
    wts = om[ground]
    thr, sep = _otsu(logy, wts)
    lit, shade = logy > thr, logy <= thr
    share_lit = float(wts[lit].sum() / wts.sum())
    facts.update(separation=sep, lit_share=share_lit)
    if min(share_lit, 1 - share_lit) < MIN_CLASS_SHARE:
        return None, "the ground has no sunlit/shadow split (one class is too small)", facts
    rgb = env[ground].astype(np.float64)

    def level(m: np.ndarray) -> np.ndarray:
        # the solid-angle-weighted median of each channel of one class
        out = np.empty(3)
        for c in range(3):
            v, ww = rgb[m, c], wts[m]
            o = np.argsort(v)
            cw = np.cumsum(ww[o])
            out[c] = v[o][int(np.searchsorted(cw, 0.5 * cw[-1]))]
        return out

    lit_rgb, shade_rgb = level(lit), level(shade)
    ratio_rgb = lit_rgb / np.maximum(shade_rgb, 1e-30)
    ratio = float(lit_rgb @ LUMA_709) / max(float(shade_rgb @ LUMA_709), 1e-30)
    blue_shift = float((shade_rgb[2] / shade_rgb[0]) / (lit_rgb[2] / lit_rgb[0])) if lit_rgb[0] > 0 and shade_rgb[0] > 0 else 0.0
    facts.update(shadow_luminance=float(shade_rgb @ LUMA_709), ratio=ratio, ratio_rgb=[float(v) for v in ratio_rgb], blue_shift=blue_shift)
    if sep < MIN_SEPARATION:
        return None, f"the ground's brightness is not two clear modes (separation {sep:.2f} < {MIN_SEPARATION})", facts
    if ratio < MIN_RATIO:
        return None, f"sunlit over shadow is only {ratio:.2f} (< {MIN_RATIO}): texture, not a cast shadow", facts
    if ratio > MAX_RATIO:
        return None, f"sunlit over shadow is {ratio:.0f} (> {MAX_RATIO:g}): a dark ground colour, not a sky-lit shadow", facts
    rows = np.nonzero(ground)[0]
    lit_frac_row = np.bincount(rows, weights=lit * wts, minlength=h) / np.maximum(np.bincount(rows, weights=wts, minlength=h), 1e-30)
    mixed = (lit_frac_row[rows] > 0.1) & (lit_frac_row[rows] < 0.9)
    mixed_share = float(wts[shade & mixed].sum() / max(float(wts[shade].sum()), 1e-30))
    facts["mixed_rows"] = mixed_share
    if mixed_share < MIN_MIXED_ROWS:
        return None, f"the darker ground lies in its own rows (mixed {mixed_share:.2f} < {MIN_MIXED_ROWS}): a gradient, not a cast shadow", facts
    if blue_shift < MIN_BLUE_SHIFT:
        return None, f"the darker ground is not bluer than the brighter (blue shift {blue_shift:.2f}): not a sky-lit shadow", facts
    return ratio_rgb, "", facts


def measure_sun_from_shadows(env_without_sun: np.ndarray, clip: np.ndarray, alpha: np.ndarray,
                             sun_direction: np.ndarray) -> ShadowCheck:
    """The sun's normal-incidence irradiance (3,) in map units from the ground's sunlit/shadow ratio (module doc).

    env_without_sun: the map with the sun's clipped blob removed (its sky lights the shadows); clip: (H, W) fraction
    of source LDR pixels saturated; alpha: (H, W) 1 = seen; sun_direction: unit vector (house convention, +Y up).
    """
    sun = normalize(np.asarray(sun_direction, dtype=np.float64))
    el = float(np.degrees(np.arcsin(np.clip(sun[1], -1, 1))))
    if el < MIN_SUN_ELEVATION_DEG:
        return ShadowCheck(None, f"the sun is too low ({el:.1f} deg) to read its strength off the ground", {"sun_elevation_deg": el})
    ratio_rgb, why, facts = sunlit_shadow_ratio(env_without_sun, clip, alpha)
    facts["sun_elevation_deg"] = el
    if ratio_rgb is None:
        return ShadowCheck(None, why, facts)
    e_sky = sky_horizontal_irradiance(env_without_sun, alpha)
    facts["sky_irradiance_rgb"] = [float(v) for v in e_sky]
    albedo = np.pi * float(facts["shadow_luminance"]) / max(float(e_sky @ LUMA_709), 1e-30)
    facts["shadow_albedo"] = albedo
    if not ALBEDO_RANGE[0] <= albedo <= ALBEDO_RANGE[1]:
        return ShadowCheck(None, f"the shadow's implied albedo {albedo:.2f} is outside {ALBEDO_RANGE}: the sky does not light it", facts)
    irr = np.clip(ratio_rgb - 1.0, 0.0, None) * e_sky / np.sin(np.radians(el))
    return ShadowCheck(irr, "", facts)


__all__ = ["ShadowCheck", "measure_sun_from_shadows", "sunlit_shadow_ratio", "sky_horizontal_irradiance"]
