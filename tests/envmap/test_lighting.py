"""SH irradiance, dominant light: hand-computed values (the sun disc: test_sun.py)."""

import numpy as np
import pytest

from singlehdr.envmap import lighting as L
from singlehdr.envmap.calibrate import luminance
from singlehdr.envmap.projections import angle_between_deg, direction_from_angles, equirect_directions, equirect_solid_angles
from singlehdr.errors import SingleHDRError


def test_sh_constant_env_irradiance_is_pi():
    env = np.ones((32, 64, 3), np.float32)
    e = L.sh_irradiance(L.sh9(env), np.array([[0.0, 1.0, 0.0], [0.3, -0.4, np.sqrt(0.75)]]))
    np.testing.assert_allclose(e, np.pi, rtol=1e-3)  # R&H constants are given to 6 digits


def test_sh_linear_env_hand_value():
    # L(w) = 1 + 0.5 w_y  ->  E(n) = pi + 0.5 * (2 pi / 3) n_y exactly (bands 0 and 1 only)
    d = equirect_directions(64, 128)
    env = np.repeat((1.0 + 0.5 * d[..., 1])[..., None], 3, axis=2).astype(np.float32)
    n = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
    want = np.pi + 0.5 * (2 * np.pi / 3) * n[:, 1]
    np.testing.assert_allclose(L.sh_irradiance(L.sh9(env), n)[:, 0], want, rtol=2e-3)
    np.testing.assert_allclose(L.irradiance_brute_force(env, n)[:, 0], want, rtol=2e-3)


def _spot_env(az, el, h=64, w=128, width_deg=3.0, peak=500.0):
    d = equirect_directions(h, w)
    c = direction_from_angles(az, el)
    ang = np.degrees(np.arccos(np.clip(d @ c, -1, 1)))
    y = 0.2 + peak * np.exp(-0.5 * (ang / width_deg) ** 2)
    return np.repeat(y[..., None], 3, axis=2).astype(np.float32)


@pytest.mark.parametrize("az,el", [(30.0, 40.0), (-120.0, 10.0), (179.0, 25.0)])
def test_dominant_light_direction(az, el):
    env = _spot_env(az, el)
    li = L.dominant_light(env)
    assert angle_between_deg(li.direction, direction_from_angles(az, el)) < 0.5
    assert li.azimuth_deg == pytest.approx(az, abs=1.0) or abs(abs(li.azimuth_deg) - 180) < 1.5
    assert 0.0 < li.energy_fraction < 1.0 and li.solid_angle_sr > 0


def test_dominant_light_region_wraps_the_seam():
    env = _spot_env(180.0, 0.0, width_deg=4.0)
    li = L.dominant_light(env)
    # both halves of the spot form one region; its direction is behind (+Z)
    assert angle_between_deg(li.direction, [0, 0, 1]) < 0.5
    assert li.mask[:, 0].any() and li.mask[:, -1].any()


def test_dominant_light_picks_most_energy_among_equal_peaks():
    env = np.full((64, 128, 3), 0.1, np.float32)
    env[20, 10] = 1.0  # a single clipped pixel
    env[30:36, 80:90] = 1.0  # a big clipped light
    li = L.dominant_light(env)
    assert li.mask[32, 85] and not li.mask[20, 10]


def test_black_map_is_a_user_error():
    with pytest.raises(SingleHDRError):
        L.dominant_light(np.zeros((8, 16, 3), np.float32))
