"""Projections: solid angles integrate to 4 pi, conventions, inverses, round trips."""

import numpy as np
import pytest

from singlehdr.envmap import projections as P
from singlehdr.envmap.lighting import irradiance_error, sh9

FOUR_PI = 4 * np.pi


def test_equirect_solid_angle_hand_value_and_sum():
    om = P.equirect_solid_angles(2, 4)
    # top row spans elevation 90..0 deg over a quarter of the azimuth: (2 pi / 4) * (sin 90 - sin 0) = pi / 2
    assert om[0, 0] == pytest.approx(np.pi / 2)
    for h, w in ((2, 4), (33, 66), (128, 256)):
        assert P.equirect_solid_angles(h, w).sum() == pytest.approx(FOUR_PI, rel=1e-9)


@pytest.mark.parametrize("h,w,cx,cy,r", [(200, 200, 100, 100, 100), (90, 130, 61.3, 47.2, 40.7), (301, 257, 128.9, 140.1, 120.2)])
def test_ball_solid_angles_sum_to_4pi(h, w, cx, cy, r):
    assert P.ball_solid_angles(h, w, cx, cy, r).sum() == pytest.approx(FOUR_PI, rel=0.005)


def test_cube_and_perspective_solid_angles():
    assert 6 * P.cube_solid_angles(17).sum() == pytest.approx(FOUR_PI, rel=1e-9)
    # a 90 deg square pinhole photo is a cube face: same per-pixel solid angles
    np.testing.assert_allclose(P.perspective_solid_angles(16, 16, 90.0), P.cube_solid_angles(16), rtol=1e-9)
    # one pixel at the centre of a narrow photo ~ (angle per pixel)^2
    om = P.perspective_solid_angles(101, 101, 10.0)
    f = P.focal_pixels(101, 10.0)
    assert om[50, 50] == pytest.approx(1.0 / f**2, rel=1e-3)


def test_direction_conventions():
    d = P.equirect_directions(64, 128)
    np.testing.assert_allclose(P.sample_bilinear(d, np.array(64.0), np.array(32.0)), [0, 0, -1], atol=0.03)  # centre: -Z
    np.testing.assert_allclose(P.direction_from_angles(90.0, 0.0), [1, 0, 0], atol=1e-12)  # u = 0.75: +X
    assert d[0, 0, 1] > 0.999  # top row: +Y
    az, el = P.azimuth_elevation(np.array([0.0, 0.0, 1.0]))
    assert abs(az) == pytest.approx(180.0) and el == pytest.approx(0.0)
    # ball: centre reflects +Z (behind the camera), near the rim -Z
    np.testing.assert_allclose(P.ball_to_direction(0.0, 0.0), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(P.ball_to_direction(1.0, 0.0), [0, 0, -1], atol=1e-12)
    # ball point at 45 deg normal (x = sin 45) reflects to +X exactly
    np.testing.assert_allclose(P.ball_to_direction(np.sqrt(0.5), 0.0), [1, 0, 0], atol=1e-12)
    # a photo turned 90 deg right looks along +X; pitched 90 deg up looks along +Y
    np.testing.assert_allclose(P.perspective_directions(1, 1, 60, 90, 0)[0, 0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(P.perspective_directions(1, 1, 60, 0, 90)[0, 0], [0, 1, 0], atol=1e-12)
    # Blender: ours (x, y, z) -> Blender (-z, -x, y): the map centre (-Z, forward) is Blender's +X,
    # u = 0.75 (+X) is Blender's -Y, up stays up (as Cycles renders show, tests/hosts/test_blender_world.py)
    np.testing.assert_allclose(P.to_blender(np.array([0.0, 0.0, -1.0])), [1, 0, 0])
    np.testing.assert_allclose(P.to_blender(np.array([1.0, 0.0, 0.0])), [0, -1, 0])
    np.testing.assert_allclose(P.to_blender(np.array([0.0, 1.0, 0.0])), [0, 0, 1])


def test_inverses():
    rng = np.random.default_rng(0)
    d = P.normalize(rng.normal(size=(500, 3)))
    x, y = P.direction_to_ball(d)
    np.testing.assert_allclose(P.ball_to_direction(x, y), d, atol=1e-9)
    for face in P.CUBE_FACES:
        fd = P.cube_face_directions(face, 6)
        f, s, t = P.direction_to_cube(fd)
        assert np.all(f == P.CUBE_FACES.index(face))
        np.testing.assert_allclose(s, np.broadcast_to((np.arange(6) + 0.5) / 6, (6, 6)), atol=1e-12)
        np.testing.assert_allclose(t, np.broadcast_to(((np.arange(6) + 0.5) / 6)[:, None], (6, 6)), atol=1e-12)
    pd = P.perspective_directions(30, 40, 70, 25, -15)
    px, py, inside = P.direction_to_perspective(pd, 30, 40, 70, 25, -15)
    assert inside.all()
    np.testing.assert_allclose(px, np.broadcast_to(np.arange(40) + 0.5, (30, 40)), atol=1e-9)
    np.testing.assert_allclose(py, np.broadcast_to((np.arange(30) + 0.5)[:, None], (30, 40)), atol=1e-9)
    assert not P.direction_to_perspective(np.array([0.0, 0.0, 1.0]), 30, 40, 70)[2]  # behind the camera


def test_cube_face_orientation_opengl():
    # OpenGL Table 8.19: on +X, s = (-z / x + 1) / 2, t = (-y / x + 1) / 2 -> top-left pixel looks at (+1, +1, +1)
    np.testing.assert_allclose(P.cube_face_directions("px", 2, (0.0, 0.0))[0, 0], np.array([1, 1, 1]) / np.sqrt(3))
    np.testing.assert_allclose(P.cube_face_directions("py", 2, (0.0, 0.0))[0, 0], np.array([-1, 1, -1]) / np.sqrt(3))
    np.testing.assert_allclose(P.cube_face_directions("nz", 2, (0.0, 0.0))[0, 0], np.array([1, 1, -1]) / np.sqrt(3))


def test_round_trips_keep_irradiance(load_world):
    env = load_world("city", 256)
    ball = P.equirect_to_ball(env, 256)
    back = P.ball_to_equirect(ball, 128.0, 128.0, 128.0, 256)
    err = irradiance_error(sh9(back), sh9(env))
    assert err < 0.02
    faces = P.equirect_to_cube(env, 64)
    assert irradiance_error(sh9(P.cube_to_equirect(faces, 256)), sh9(env)) < 0.02
    # energy of the resize is preserved exactly for integer factors
    small = P.resize_equirect(env, 64)
    e_big = np.sum(env * P.equirect_solid_angles(128, 256)[..., None], axis=(0, 1))
    e_small = np.sum(small * P.equirect_solid_angles(32, 64)[..., None], axis=(0, 1))
    np.testing.assert_allclose(e_small, e_big, rtol=1e-5)


def test_hfov_from_exif():
    # 36 mm-equivalent 24 mm lens on a 3:2 image: horizontal FOV = 2 atan(18 / 24) = 73.74 deg
    assert P.hfov_from_exif({"FocalLengthIn35mmFilm": 24}, 3000, 2000) == pytest.approx(np.degrees(2 * np.arctan(18 / 24)), abs=1e-6)
    assert P.hfov_from_exif({}, 3000, 2000) is None


def test_reported_convention_matches_to_blender():
    from singlehdr.envmap.make import CONVENTION

    np.testing.assert_allclose(P.to_blender(np.array([1.0, 2.0, 3.0])), [-3.0, -1.0, 2.0])
    assert "(x_b, y_b, z_b) = (-z, -x, y)" in CONVENTION
