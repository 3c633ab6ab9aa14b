"""Metrics against hand-computed values and against pycvvdp (when installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from singlehdr.train import metrics as M


def _img(h=16, w=24, seed=0):
    rng = np.random.default_rng(seed)
    return (2.0 ** rng.uniform(-6, 3, (h, w, 3))).astype(np.float32)


def test_luminance_rec709_weights():
    px = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]])
    np.testing.assert_allclose(M.luminance(px)[0], [0.2126, 0.7152, 0.0722, 1.0], atol=1e-12)


def test_clipped_mask_any_channel_at_threshold():
    ldr = np.zeros((1, 4, 3), np.float32)
    ldr[0, 1, 2] = 0.95
    ldr[0, 2, 0] = 0.9499
    ldr[0, 3] = 1.0
    assert M.clipped_mask(ldr).tolist() == [[False, True, False, True]]


def test_optimal_scale_log_recovers_known_factor_and_is_log_mean():
    ref = _img()
    assert M.optimal_scale(ref / 8.0, ref) == pytest.approx(8.0, rel=1e-5)
    # two pixels, ratios 2 and 8 -> log-domain optimum is the geometric mean 4
    ref2 = np.array([[[2.0, 2.0, 2.0], [8.0, 8.0, 8.0]]], np.float32)
    pred2 = np.ones_like(ref2)
    assert M.optimal_scale(pred2, ref2, domain="log") == pytest.approx(4.0, rel=1e-6)
    # linear least squares: sum(p r) / sum(p^2) = (2 + 8) / 2 = 5
    assert M.optimal_scale(pred2, ref2, domain="linear") == pytest.approx(5.0, rel=1e-6)
    with pytest.raises(ValueError):
        M.optimal_scale(pred2, ref2, domain="nope")


def test_log_psnr_one_stop_error_is_20log10_16():
    ref = _img()
    # unscaled prediction one stop high everywhere, all pixels above the 16-stop floor
    assert M.log_psnr(ref * 2.0, ref) == pytest.approx(20 * math.log10(16.0), abs=1e-4)
    assert M.log_psnr(ref, ref) == math.inf
    # after optimal scaling, a global factor costs nothing
    assert M.log_psnr(M.scaled_prediction(ref * 5.0, ref), ref) > 100.0


def test_log_psnr_floor_clamps_dark_pixels_and_mask_selects():
    ref = np.ones((1, 4, 3), np.float32)
    ref[0, 0] = 2.0**-30  # below the 16-stop floor (ref max = 1)
    pred = ref.copy()
    pred[0, 0] = 2.0**-20  # also below the floor: no error counted
    pred[0, 3] = 2.0  # one stop error on one of 4 pixels -> rmse 0.5
    assert M.log_psnr(pred, ref) == pytest.approx(20 * math.log10(16 / 0.5), abs=1e-6)
    mask = np.array([[True, True, True, False]])
    assert M.log_psnr(pred, ref, mask) == math.inf
    assert math.isnan(M.log_psnr(pred, ref, np.zeros((1, 4), bool)))


def test_pu21_encode_design_points():
    # PU21 maps 0.005 cd/m^2 to ~0 and SDR white 100 cd/m^2 to ~256 (8-bit code values)
    v = M.pu21_encode(np.array([0.001, 0.005, 100.0, 10000.0, 20000.0]))
    assert abs(v[0]) < 1e-6 and abs(v[1]) < 1e-6  # clipped to L_min
    assert v[2] == pytest.approx(256.0, abs=0.5)
    assert v[3] == v[4]  # clipped to L_max
    # by hand from the banding_glare parameters at Y = 1 cd/m^2
    p = M.PU21_PARAMS["banding_glare"]
    expect = p[6] * (((p[0] + p[1]) / (1 + p[2])) ** p[4] - p[5])
    assert M.pu21_encode(np.array(1.0)) == pytest.approx(expect, rel=1e-12)
    assert np.all(np.diff(M.pu21_encode(np.geomspace(0.005, 1e4, 200))) > 0)


def test_display_luminance_standard_hdr_linear():
    y = M.display_luminance(np.array([0.0, 50.0, 5000.0]))
    refl = 10.0 / math.pi * 0.005
    np.testing.assert_allclose(y, [0.005 + refl, 50.0 + refl, 1500.0 + refl], rtol=1e-12)


def test_pu21_psnr_hand_value():
    # uniform images, no display model: PSNR = 20 log10(PU(100) / |PU(a) - PU(b)|)
    a = np.full((4, 4, 3), 10.0, np.float32)
    b = np.full((4, 4, 3), 20.0, np.float32)
    pa, pb, peak = M.pu21_encode(np.array([10.0, 20.0, 100.0]))
    assert M.pu21_psnr(a, b, display=False) == pytest.approx(20 * math.log10(peak / abs(pa - pb)), rel=1e-9)


def test_pu21_psnr_matches_pycvvdp():
    mod = M.load_pycvvdp()
    if mod is None:
        pytest.skip("pycvvdp (pip install cvvdp) not importable")
    import torch

    torch.set_num_threads(1)
    ref = M.to_absolute(_img(32, 48, 1), white=1.0)
    test = ref * np.float32(1.3) + np.float32(2.0)
    theirs = float(mod.pu_psnr_y(display_name="standard_hdr_linear", device=torch.device("cpu")).predict(test, ref, dim_order="HWC")[0])
    assert M.pu21_psnr(test, ref) == pytest.approx(theirs, abs=0.02)


def test_cvvdp_jod_identical_is_10_and_noise_lowers_it():
    if M.load_pycvvdp() is None:
        pytest.skip("pycvvdp not importable")
    import torch

    torch.set_num_threads(1)
    yy, xx = np.mgrid[0:64, 0:96]
    ref = np.repeat((10.0 + 100.0 * (np.sin(xx / 5.0) > 0))[..., None], 3, axis=2).astype(np.float32)
    assert M.cvvdp_jod(ref, ref) == pytest.approx(10.0, abs=1e-3)
    noisy = np.clip(ref + np.random.default_rng(0).normal(0, 20, ref.shape), 0.01, None).astype(np.float32)
    lo = M.cvvdp_jod(noisy, ref)
    assert 0.0 < lo < 9.9


def test_sh9_constant_environment_gives_irradiance_pi():
    from singlehdr.envmap.lighting import sh_basis

    env = np.ones((32, 64, 3), np.float32)
    e = M.sh9_irradiance(env)
    assert e[0, 0] == pytest.approx(math.pi * math.sqrt(4 * math.pi), rel=1e-5)
    # l > 0 vanish up to the midpoint quadrature in elevation (< 2e-4 of E_00 at 32 rows)
    assert np.abs(e[1:]).max() < 2e-4 * e[0, 0]
    # irradiance at any normal: sum_lm E_lm Y_lm(n) = pi
    n = np.array([0.3, 0.5, -0.812404])
    n /= np.linalg.norm(n)
    assert float(sh_basis(n) @ e[:, 1]) == pytest.approx(math.pi, rel=1e-4)


def test_sh9_relative_error_and_light_direction():
    from singlehdr.envmap.projections import equirect_directions

    h, w = 32, 64
    env = np.full((h, w, 3), 0.1, np.float32)
    env[4, 40] = 500.0  # a small "sun"
    assert M.sh9_relative_error(env, env) == 0.0
    assert M.sh9_relative_error(env * 2, env) == pytest.approx(1.0, rel=1e-9)
    dirs = equirect_directions(h, w)
    np.testing.assert_allclose(M.brightest_direction(env), dirs[4, 40], atol=1e-9)
    moved = np.roll(env, 16, axis=1)  # 16 of 64 columns = 90 degrees of azimuth
    # by hand: row 4 of 32 has elevation el = 90 - 180 * 4.5 / 32 degrees; two directions
    # at that elevation 90 degrees of azimuth apart have cos(angle) = sin(el)^2
    el = math.radians(90.0 - 180.0 * 4.5 / 32)
    expect = math.degrees(math.acos(math.sin(el) ** 2))
    assert M.light_direction_error(moved, env) == pytest.approx(expect, abs=1e-6)
    assert M.angular_error_deg(np.array([1, 0, 0]), np.array([0, 0, 2])) == pytest.approx(90.0)
    assert math.isnan(M.light_direction_error(np.zeros_like(env), env))


def test_image_metrics_scale_invariant_and_clipped_region():
    ref = _img(16, 32, 3)
    ldr = np.clip(ref / 2.0, 0, 1)  # white at 2.0
    got = M.image_metrics(ref * 0.25, ref, ldr, white=2.0, equirect=True)
    assert got["scale"] == pytest.approx(4.0, rel=1e-5)
    assert got["log_psnr"] > 100 and got["pu21_psnr"] > 80
    assert got["sh9_rel_error"] < 1e-5 and got["light_angle_deg"] < 1e-3
    assert got["clipped_fraction"] == pytest.approx(float(np.any(ldr >= 0.95, -1).mean()))
    assert math.isnan(got["jod"])
    # a reconstruction that clips at LDR white loses only in the clipped region
    clipped = np.minimum(ref, 2.0)
    bad = M.image_metrics(clipped, ref, ldr, white=2.0)
    assert bad["clipped_log_psnr"] < bad["log_psnr"] < 100
