"""The sunlit/shadow cross-check of the sun's strength (envmap/shadow.py) against hand-built maps."""

from __future__ import annotations

import numpy as np
import pytest

from singlehdr.envmap.projections import equirect_directions
from singlehdr.envmap.shadow import measure_sun_from_shadows, sky_horizontal_irradiance

H, W = 128, 256
SKY = np.array([0.6, 0.8, 1.2])  # sky radiance (bluish), uniform over the upper hemisphere
SUN = np.array([30.0, 27.0, 22.0])  # the sun's normal-incidence irradiance (warm)
ALBEDO = np.array([0.35, 0.3, 0.25])
SUN_EL = 30.0


def _sun_dir(el_deg: float = SUN_EL, az_deg: float = 40.0) -> np.ndarray:
    el, az = np.radians(el_deg), np.radians(az_deg)
    return np.array([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)])


def _scene(shadow_cols: slice | None = slice(40, 90), sun=SUN, el=SUN_EL):
    """A uniform sky over a Lambertian ground: sunlit except in ``shadow_cols`` (a cast shadow beside sunlit ground
    in the same rows).  Returns (env, clip, alpha, E_sky)."""
    d = equirect_directions(H, W)
    env = np.zeros((H, W, 3), np.float64)
    up = d[..., 1] > 0
    env[up] = SKY
    e_sky = np.pi * SKY  # a uniform sky's horizontal irradiance
    lit = ALBEDO * (sun * np.sin(np.radians(el)) + e_sky) / np.pi
    shade = ALBEDO * e_sky / np.pi
    env[~up] = lit
    if shadow_cols is not None:
        below = ~up
        cols = np.zeros((H, W), bool)
        cols[:, shadow_cols] = True
        env[below & cols] = shade
    return env.astype(np.float32), np.zeros((H, W), np.float32), np.ones((H, W), np.float32), e_sky


def test_sky_irradiance_of_a_uniform_sky_is_pi_times_its_radiance():
    env, _, alpha, e_sky = _scene(None)
    np.testing.assert_allclose(sky_horizontal_irradiance(env, alpha), e_sky, rtol=2e-3)


def test_sun_irradiance_from_a_cast_shadow_matches_the_scene():
    env, clip, alpha, _ = _scene()
    check = measure_sun_from_shadows(env, clip, alpha, _sun_dir())
    assert check.irradiance_rgb is not None, check.reason
    # E_sun = (lit / shadow - 1) E_sky / sin(el), per channel; the albedo cancels
    np.testing.assert_allclose(check.irradiance_rgb, SUN, rtol=0.01)
    assert check.facts["shadow_albedo"] == pytest.approx(float(ALBEDO @ [0.2126, 0.7152, 0.0722]), rel=0.02)


def test_uniform_ground_gives_no_estimate():
    env, clip, alpha, _ = _scene(None)
    check = measure_sun_from_shadows(env, clip, alpha, _sun_dir())
    assert check.irradiance_rgb is None and "no sunlit/shadow split" in check.reason


def test_a_gradient_by_elevation_is_not_a_shadow():
    env, clip, alpha, _ = _scene(None)
    d = equirect_directions(H, W)
    el = np.degrees(np.arcsin(d[..., 1]))
    env[el < -30] *= 0.25  # darker far below: rows of their own, no sunlit ground beside them
    check = measure_sun_from_shadows(env, clip, alpha, _sun_dir())
    assert check.irradiance_rgb is None and "own rows" in check.reason


def test_a_shadow_that_is_not_bluer_is_rejected():
    env, clip, alpha, _ = _scene()
    below = equirect_directions(H, W)[..., 1] <= 0
    cols = np.zeros((H, W), bool)
    cols[:, 40:90] = True
    env[below & cols] = env[below & ~cols][0] * 0.3  # a darker patch of the sunlit colour: paint, not shade
    check = measure_sun_from_shadows(env, clip, alpha, _sun_dir())
    assert check.irradiance_rgb is None and "bluer" in check.reason


def test_clipped_ground_and_a_low_sun_give_no_estimate():
    env, clip, alpha, _ = _scene()
    below = equirect_directions(H, W)[..., 1] < 0
    clip2 = clip.copy()
    clip2[below] = 1.0
    clip2[:, 40:90] = 0.0
    assert "clipped" in measure_sun_from_shadows(env, clip2, alpha, _sun_dir()).reason
    env_low, clip_low, alpha_low, _ = _scene(el=6.0)
    assert "too low" in measure_sun_from_shadows(env_low, clip_low, alpha_low, _sun_dir(6.0)).reason


def test_unseen_ground_gives_no_estimate():
    env, clip, alpha, _ = _scene()
    alpha[equirect_directions(H, W)[..., 1] < 0] = 0.0
    check = measure_sun_from_shadows(env, clip, alpha, _sun_dir())
    assert check.irradiance_rgb is None and "too little" in check.reason
