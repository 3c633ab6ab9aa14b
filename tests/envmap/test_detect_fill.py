"""Ball detection on synthetic chrome-ball photos; pull-push filling."""

import numpy as np
import pytest

from singlehdr.envmap.detect import detect_ball, detect_kind, parse_ball
from singlehdr.envmap.fill import fill_envmap, pull_push
from singlehdr.envmap.projections import equirect_to_ball
from singlehdr.errors import SingleHDRError
from singlehdr.types import LDRImage


def ball_photo(env, cx, cy, r, expose_ldr, h=300, w=420, ev=-2.0):
    """An LDR photo of a mirror ball of radius r at (cx, cy) reflecting ``env`` in front of a gradient wall."""
    from singlehdr.envmap.calibrate import luminance

    size = int(2 * r)
    ball = equirect_to_ball(env, size)
    s = 0.18 / np.mean(luminance(ball)[luminance(ball) > 0]) * 2.0**ev
    img = np.ones((h, w, 3), np.float32) * np.linspace(0.05, 0.4, w, dtype=np.float32)[None, :, None]
    img += np.random.default_rng(3).normal(0, 0.01, img.shape).astype(np.float32)
    x0, y0 = int(round(cx - r)), int(round(cy - r))
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    inside = (xx - r) ** 2 + (yy - r) ** 2 <= r * r
    sub = img[y0 : y0 + size, x0 : x0 + size]
    img[y0 : y0 + size, x0 : x0 + size] = np.where(inside[..., None], ball * s, sub)
    return expose_ldr(img, 1.0), (x0 + r, y0 + r, r), s


@pytest.mark.parametrize("name", ["city", "studio", "sunset"])
def test_detect_ball(load_world, camera, name):
    env = load_world(name, 256)
    ldr, (cx, cy, r), _ = ball_photo(env, 250, 141, 90, camera[0])
    c = detect_ball(ldr.astype(np.float32) / 255)
    assert c is not None
    assert np.hypot(c.cx - cx, c.cy - cy) < 2.5
    assert c.r == pytest.approx(r, rel=0.02)
    kind, circle, why = detect_kind(LDRImage.from_array(ldr))
    assert kind == "ball" and circle is not None and why == ""


def test_detect_kind_photo_and_equirect():
    rng = np.random.default_rng(0)
    from scipy import ndimage

    tex = ndimage.gaussian_filter(rng.random((120, 180, 3)), (3, 3, 0)).astype(np.float32)
    assert detect_kind(LDRImage.from_array(tex))[0] == "photo"
    assert detect_kind(LDRImage.from_array(np.zeros((64, 128, 3), np.float32)))[0] == "equirect"
    pano = LDRImage.from_array(np.zeros((50, 300, 3), np.float32), xmp={"GPano:ProjectionType": "equirectangular"})
    assert detect_kind(pano)[0] == "equirect"


def test_parse_ball():
    c = parse_ball("512, 384.5,300")
    assert (c.cx, c.cy, c.r) == (512.0, 384.5, 300.0)
    for bad in ("1,2", "a,b,c", "1,2,-3"):
        with pytest.raises(SingleHDRError):
            parse_ball(bad)


def test_pull_push_keeps_known_and_fills_constant():
    img = np.zeros((16, 32, 3), np.float32)
    w = np.zeros((16, 32), np.float32)
    img[4:8, 2:6] = [0.5, 1.0, 2.0]
    w[4:8, 2:6] = 1.0
    out = pull_push(img, w)
    np.testing.assert_allclose(out[4:8, 2:6], img[4:8, 2:6], rtol=1e-6)
    np.testing.assert_allclose(out, np.broadcast_to([0.5, 1.0, 2.0], out.shape), rtol=1e-5)


def test_pull_push_wraps_the_seam():
    img = np.zeros((8, 32, 1), np.float32)
    w = np.zeros((8, 32), np.float32)
    img[:, 0:4] = 1.0
    img[:, 8:28] = 0.0
    w[:, 0:4] = 1.0
    w[:, 8:28] = 1.0
    out = pull_push(img, w)[..., 0]
    # the gap at columns 28..31 borders the 1.0 block across the seam, so it is filled brighter than the gap 4..7's far side
    assert out[:, 31].mean() > 0.3 and out[:, 30].mean() > out[:, 28].mean() - 1e-6


def test_fill_envmap_sky_and_ground_prior():
    h, w = 32, 64
    env = np.zeros((h, w, 3), np.float32)
    cov = np.zeros((h, w), np.float32)
    env[12:20, 20:40] = 1.0
    env[12:14, 20:40] = [0.2, 0.4, 0.9]  # "sky" rows at the top of the seen band
    env[18:20, 20:40] = [0.3, 0.2, 0.1]  # "ground" rows
    cov[12:20, 20:40] = 1.0
    out = fill_envmap(env, cov, ramp_deg=30.0, band=0.25)
    np.testing.assert_allclose(out[0, 5], [0.2, 0.4, 0.9], atol=1e-5)  # zenith -> top-rows mean
    np.testing.assert_allclose(out[-1, 5], [0.3, 0.2, 0.1], atol=1e-5)  # nadir -> bottom-rows mean
    np.testing.assert_allclose(out[12:20, 20:40], env[12:20, 20:40])


@pytest.mark.parametrize("frac", [0.05, 0.125])
def test_detect_kind_small_ball_in_a_busy_photo(load_world, camera, frac):
    """A ball a tenth (and a quarter) of the short side high (radius 0.05 / 0.125 of it), in front of a textured
    wall with boxes: found as a ball, centre and radius within 1.5 px (or 5 % / 3 % of the radius)."""
    from scipy import ndimage

    env = load_world("courtyard", 256)
    h, w = 480, 640
    r = frac * h
    cx, cy = 0.62 * w, 0.55 * h
    ldr, (tx, ty, tr), s = ball_photo(env, cx, cy, r, camera[0], h=h, w=w)
    img = ldr.astype(np.float32) / 255
    rng = np.random.default_rng(5)
    tex = ndimage.gaussian_filter(rng.random((h, w, 3)), (4, 4, 0)).astype(np.float32) * 0.5
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    outside = (xx - tx) ** 2 + (yy - ty) ** 2 > (tr + 2) ** 2
    busy = 0.5 * img + tex
    busy[40:140, 30:200] = [0.8, 0.3, 0.2]  # a box
    busy[300:420, 60:160] = [0.1, 0.5, 0.2]
    img = np.where(outside[..., None], np.clip(busy, 0, 1), img)
    kind, circle, why = detect_kind(LDRImage.from_array(img))
    assert kind == "ball", why
    # measured: r = 24 px found 1.1 px off, radius 1.2 px short; r = 60 px within 1 px (the ball's rim reflects
    # colours close to the wall's, so its edge is weak)
    assert np.hypot(circle.cx - tx, circle.cy - ty) < max(1.5, 0.05 * tr) and abs(circle.r - tr) < max(1.5, 0.03 * tr)


def test_detect_kind_says_why_no_ball():
    rng = np.random.default_rng(1)
    from scipy import ndimage

    tex = ndimage.gaussian_filter(rng.random((120, 180, 3)), (3, 3, 0)).astype(np.float32)
    kind, circle, why = detect_kind(LDRImage.from_array(tex))
    assert kind == "photo" and circle is None and why


def test_fill_keeps_ground_below_and_sky_above():
    """A photo band whose lower half is sand and upper half blue sky: the unseen sphere stays blue above the horizon
    and sand-coloured below it, everywhere around."""
    from singlehdr.envmap.projections import azimuth_elevation, equirect_directions

    h, w = 64, 128
    _, el = azimuth_elevation(equirect_directions(h, w))
    env = np.zeros((h, w, 3), np.float32)
    cov = np.zeros((h, w), np.float32)
    band = (np.abs(el) < 25) & (np.arange(w)[None, :] >= 54) & (np.arange(w)[None, :] < 74)
    cov[band] = 1.0
    sky, sand = np.array([0.3, 0.5, 1.2], np.float32), np.array([0.8, 0.6, 0.35], np.float32)
    env[band & (el >= 0)] = sky
    env[band & (el < 0)] = sand
    out = fill_envmap(env, cov)
    for col in (0, 20, 100, 127):
        for row in range(h):
            if abs(el[row, col]) < 4:
                continue
            want = sky if el[row, col] > 0 else sand
            np.testing.assert_allclose(out[row, col], want, rtol=1e-3, atol=1e-4)


def test_lift_clipped_is_smooth_hue_true_and_only_raises():
    from singlehdr.envmap.calibrate import luminance
    from singlehdr.envmap.fill import lift_clipped

    h, w = 64, 128
    env = np.full((h, w, 3), 0.2, np.float32)
    clip = np.zeros((h, w), np.float32)
    clip[10:40, 30:90] = 1.0
    env[10:40, 30:90] = [0.9, 0.7, 0.5]  # a warm clipped plateau (luminance 0.7198)
    env[25, 60] = [5.0, 4.0, 3.0]  # the reconstruction already expanded this one
    out = lift_clipped(env, clip, white=1.0, gain=1.3, scale_deg=3.0)
    np.testing.assert_array_equal(out[clip == 0], env[clip == 0])
    np.testing.assert_array_equal(out[25, 60], env[25, 60])
    # hue kept: every lifted pixel is the plateau colour times a scalar
    lifted = out[10:40, 30:90].reshape(-1, 3)
    ratio = lifted / np.array([0.9, 0.7, 0.5], np.float32)
    keep = ~np.all(np.isclose(lifted, [5.0, 4.0, 3.0]), axis=1)
    np.testing.assert_allclose(ratio[keep], ratio[keep][:, :1].repeat(3, 1), rtol=1e-5)
    # at the rim (distance 1 px = 2.8 deg) f = 1 + 0.3 (1 - exp(-2.8125 / 3)); deep inside (15 px) ~1.3
    y = luminance(out)
    assert y[10, 60] == pytest.approx(1 + 0.3 * (1 - np.exp(-2.8125 / 3)), rel=1e-4)
    assert y[24, 45] == pytest.approx(1 + 0.3 * (1 - np.exp(-15 * 2.8125 / 3)), rel=1e-4)
    # monotone from the rim inwards: no edge, no plateau jump
    col = y[10:26, 45]
    assert np.all(np.diff(col) >= -1e-6)
