"""The IBL evaluation's metrics (bench/ibl_metrics.py) against hand-computed values."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import ibl_metrics as M  # noqa: E402


def test_solid_angles_sum_to_the_sphere_and_follow_the_cosine():
    om = M.equirect_solid_angles(8, 16)
    assert om.sum() == pytest.approx(4 * math.pi, rel=1e-12)
    # the top row spans elevations 90 .. 67.5 deg: (2 pi / 16) (1 - sin 67.5 deg)
    assert om[0, 0] == pytest.approx(2 * math.pi / 16 * (1 - math.sin(math.radians(67.5))), rel=1e-12)
    assert om[3, 5] == pytest.approx(2 * math.pi / 16 * math.sin(math.radians(22.5)), rel=1e-12)


def test_directions_follow_the_house_convention():
    d = M.equirect_directions(4, 8)
    # column 4 of 8 has u = 4.5 / 8: azimuth 22.5 deg right of -Z, row 1 of 4: elevation 22.5 deg
    az, el = math.radians(22.5), math.radians(22.5)
    np.testing.assert_allclose(d[1, 4], [math.cos(el) * math.sin(az), math.sin(el), -math.cos(el) * math.cos(az)], atol=1e-12)
    np.testing.assert_allclose(M.direction_from_angles(90, 0), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(M.direction_from_angles(0, 90), [0, 1, 0], atol=1e-12)


def test_energy_of_a_constant_map_is_4_pi_times_its_luminance():
    env = np.full((16, 32, 3), 2.0, np.float32)
    assert M.map_energy(env) == pytest.approx(8 * math.pi, rel=1e-9)
    half = env.copy()
    half[8:] = 0.0  # upper hemisphere only: 2 pi x 2
    assert M.energy_ratio(half, env) == pytest.approx(0.5, rel=1e-9)
    tinted = np.zeros_like(env)
    tinted[..., 1] = 1.0  # pure green: Y = 0.7152
    assert M.map_energy(tinted) == pytest.approx(0.7152 * 4 * math.pi, rel=1e-9)


def test_fit_scale_recovers_a_global_factor_on_the_mask_only():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.1, 2.0, (16, 32, 3)).astype(np.float32)
    env = ref / 4.0
    env[:2] = 1000.0  # a wrong, masked-out region
    mask = np.ones((16, 32), bool)
    mask[:2] = False
    assert M.fit_scale(env, ref, mask) == pytest.approx(4.0, rel=1e-6)
    # on two pixels with ratios 2 and 8 of equal solid angle: geometric mean 4
    e2 = np.ones((16, 32, 3), np.float32)
    r2 = e2.copy()
    r2[8, 0] = 2.0
    r2[8, 1] = 8.0
    m2 = np.zeros((16, 32), bool)
    m2[8, :2] = True
    assert M.fit_scale(e2, r2, m2) == pytest.approx(4.0, rel=1e-6)
    with pytest.raises(ValueError):
        M.fit_scale(env, ref, np.zeros((16, 32), bool))


def test_well_exposed_mask():
    x = np.array([[[0.5, 0.5, 0.5], [1.0, 0.5, 0.5], [0.5, 0.01, 0.5], [0.05, 0.9, 0.2]]], np.float32)
    np.testing.assert_array_equal(M.well_exposed_mask(x), [[True, False, False, True]])


def test_dominant_light_of_a_delta_light_is_its_pixel():
    env = np.full((64, 128, 3), 0.01, np.float32)
    env[20, 97] = 5000.0
    d = M.dominant_light(env)
    want = M.equirect_directions(64, 128)[20, 97]
    assert M.angle_deg(d, want) < 0.05
    # a second map with the light 10 pixels (= 28.125 deg of azimuth) away along the same row
    env2 = np.full((64, 128, 3), 0.01, np.float32)
    env2[20, 107] = 5000.0
    el = math.radians(90 - (20.5 / 64) * 180)
    want_angle = math.degrees(math.acos(math.sin(el) ** 2 + math.cos(el) ** 2 * math.cos(math.radians(28.125))))
    assert M.dominant_light_angle(env, env2) == pytest.approx(want_angle, abs=0.05)


def test_dominant_light_prefers_a_bright_region_to_a_hot_pixel_and_wraps_the_seam():
    env = np.full((64, 128, 3), 0.01, np.float32)
    env[30:34, 0:3] = 10.0  # a flat clipped plateau across the seam (columns 125..127 and 0..2)
    env[30:34, 125:128] = 10.0
    env[10, 60] = 30.0  # one hot pixel, far less energy
    d = M.dominant_light(env)
    # the plateau is symmetric about azimuth +-180 deg (behind, +Z) at elevation 0
    assert M.angle_deg(d, [0.0, 0.0, 1.0]) < 0.5


def test_sh9_error_is_zero_for_identical_maps_and_one_for_black():
    rng = np.random.default_rng(1)
    env = rng.uniform(0.0, 3.0, (16, 32, 3))
    assert M.sh9_irradiance_error(env, env) == 0.0
    assert M.sh9_irradiance_error(np.zeros_like(env), env) == pytest.approx(1.0)
    assert M.sh9_irradiance_error(2 * env, env) == pytest.approx(1.0)  # twice the light: error 100 %


def test_sh9_irradiance_of_a_constant_map_is_pi():
    env = np.ones((32, 64, 3))
    e = M.sh_irradiance(M.sh9(env), np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(e, math.pi, rtol=1e-3)  # E = integral of cos over the hemisphere = pi (pixel-centre basis: 5e-4 off)


def test_render_errors():
    t = np.ones((4, 4, 3))
    assert M.render_rel_rmse(t, t) == 0.0
    assert M.render_rel_rmse(np.zeros_like(t), t) == pytest.approx(1.0)
    assert M.render_rel_rmse(1.5 * t, t) == pytest.approx(0.5)
    # a mirror highlight: one pixel 10^4 x brighter than the rest, missing in the other render
    hi = np.ones((20, 20, 3))
    hi[3, 4] = 1e4
    flat = np.ones((20, 20, 3))
    assert M.render_rel_rmse(flat, hi) == pytest.approx(math.sqrt((1e4 - 1) ** 2 / (399 + 1e8)), rel=1e-9)  # ~1
    assert M.highlight_clamp(hi) == 1.0  # 99.5th percentile of 400 pixels: not the one highlight
    assert M.render_rel_rmse(flat, hi, clamp=M.highlight_clamp(hi)) == 0.0
    assert M.render_rel_rmse(0.5 * flat, hi, clamp=1.0) == pytest.approx(0.5)
    assert M.render_log2_rmse(2 * t, t) == pytest.approx(1.0)  # one stop everywhere
    assert M.render_log2_rmse(0.25 * t, t) == pytest.approx(2.0)
    # luminance below 1 % of the truth's mean counts as 1 % of it: black vs 1 -> log2(100) stops
    assert M.render_log2_rmse(np.zeros_like(t), t) == pytest.approx(math.log2(100.0))


def test_shadow_masks_and_contrast_on_a_synthetic_image():
    h, w = 10, 20
    without = np.full((h, w, 3), 2.0)
    with_obj = without.copy()
    with_obj[6:9, 4:10] = 0.4  # a cast shadow: ratio 0.2
    with_obj[6:9, 10:12] = 1.6  # penumbra: ratio 0.8, neither shadow nor lit
    ground = np.zeros((h, w), bool)
    ground[5:, :] = True  # the lower half is ground; the top is sphere / sky
    with_obj[:5] = 0.0
    shadow, lit = M.shadow_masks(with_obj, without, ground)
    assert shadow.sum() == 18 and shadow[6:9, 4:10].all()
    assert lit.sum() == 5 * 20 - 18 - 6 and not lit[:5].any()
    assert M.shadow_contrast(with_obj, shadow, lit) == pytest.approx(0.2)
    # a render lit by a uniform sky shows no shadow: contrast 1
    assert M.shadow_contrast(without, shadow, lit) == pytest.approx(1.0)
    # mixed: shadow 0.5, lit 1.0 -> 0.5
    r = np.ones((h, w, 3))
    r[shadow] = 0.5
    assert M.shadow_contrast(r, shadow, lit) == pytest.approx(0.5)
    # too few shadow pixels: no mask, contrast undefined
    tiny = without.copy()
    tiny[9, 0] = 0.1
    s2, _ = M.shadow_masks(tiny, without, ground)
    assert not s2.any() and math.isnan(M.shadow_contrast(tiny, s2, lit))


def test_target_checks():
    jpeg = {"energy_ratio": 0.4, "shadow_contrast": 0.65, "shadow_contrast_truth": 0.2, "light_angle_deg": 20.0,
            "render_rel_rmse": 0.9, "sh9_error": 0.6}
    good = {"energy_ratio": 1.1, "shadow_contrast": 0.28, "shadow_contrast_truth": 0.2, "light_angle_deg": 2.0,
            "render_rel_rmse": 0.29, "sh9_error": 0.3}
    assert M.target_checks(good, jpeg) == {"energy": True, "shadow": True, "light": True, "render": True, "sh9": True}
    bad = dict(good, energy_ratio=1.3, shadow_contrast=0.31, light_angle_deg=3.5, render_rel_rmse=0.31, sh9_error=0.31)
    assert M.target_checks(bad, jpeg) == {"energy": False, "shadow": False, "light": False, "render": False, "sh9": False}
    assert M.target_checks(jpeg, jpeg)["render"] is False  # the JPEG row never beats itself by 3x
    no_shadow = dict(good, shadow_contrast_truth=float("nan"))
    assert M.target_checks(no_shadow, None)["shadow"] is None and M.target_checks(no_shadow, None)["render"] is None


def _sky_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sky_hdrs_t", Path(__file__).resolve().parents[2] / "tools" / "make_sky_hdrs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sky_test_set_split_and_parameters_are_fixed():
    sky = _sky_tool()
    params = [sky.sky_params(i) for i in range(24)]
    assert [p["index"] for p in params if p["split"] == "heldout"] == [2, 5, 8, 11, 14, 17, 20, 23]
    assert params == [sky.sky_params(i) for i in range(24)]  # deterministic
    held = [p for p in params if p["split"] == "heldout"]
    assert {p["family"] for p in held} == {"sky", "ground"} and {p["sky_type"] for p in held} == set(sky.SKY_TYPES)
    for p in params:
        assert 2.0 <= p["sun_elevation_deg"] <= 70.0 and 0.0 <= p["sun_rotation_deg"] < 360.0
        for b in p.get("boxes", []):  # buildings never stand in front of the sun
            assert abs((b["azimuth_deg"] - p["sun_rotation_deg"] + 180.0) % 360.0 - 180.0) > 35.0
    # Blender sun at rotation 90 deg, elevation 0 looks along Blender +X = house -Z (the map centre)
    d = sky.sun_direction(dict(params[0], sun_rotation_deg=90.0, sun_elevation_deg=0.0))
    np.testing.assert_allclose(d["blender"], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(d["house"], [0, 0, -1], atol=1e-12)
    assert d["azimuth_deg"] == pytest.approx(0.0) and d["elevation_deg"] == pytest.approx(0.0)


def test_lambertian_ground_below_the_horizon():
    sky = _sky_tool()
    env = np.zeros((8, 16, 3), np.float32)
    env[:4] = 1.0  # unit-radiance upper hemisphere: horizontal irradiance pi
    out = sky.lambertian_ground(env, 0.3)
    np.testing.assert_allclose(out[:4], 1.0)
    # exact per-band sum of sin(el) d omega, not pi: a 4-row hemisphere integrates cos to pi within a few %
    el = (0.5 - (np.arange(8) + 0.5) / 8) * np.pi
    e = np.sum((2 * np.pi / 16) * (np.pi / 8) * np.cos(el[:4]) * np.sin(el[:4])) * 16
    np.testing.assert_allclose(out[4:], 0.3 * e / np.pi, rtol=1e-6)
    assert 0.3 * e / np.pi == pytest.approx(0.3, rel=0.05)


def test_haze_bank_parameters():
    """The haze-layer bank (stop 23): low suns in Preetham / Hosek-Wilkie skies behind a haze slab whose slant optical
    depth towards the sun is the one asked for (the disc is dimmed by exp(-depth)); same split rule; deterministic."""
    sky = _sky_tool()
    params = [sky.sky_params(i, "haze") for i in range(24)]
    assert params == [sky.sky_params(i, "haze") for i in range(24)]
    assert [p["index"] for p in params if p["split"] == "heldout"] == [2, 5, 8, 11, 14, 17, 20, 23]
    assert {p["sky_type"] for p in params} == {"PREETHAM", "HOSEK_WILKIE"} and {p["family"] for p in params} == {"ground"}
    for p in params:
        hz = p["haze"]
        assert p["name"].startswith("haze_") and 1.5 <= p["sun_elevation_deg"] <= 8.0
        assert 0.0 <= hz["depth"] <= 5.0 and 300.0 <= hz["height_m"] <= 1500.0 and 0.65 <= hz["anisotropy"] <= 0.85
        # the path to the sun through the slab: its top for these heights and elevations (never its 30 km side)
        e = math.radians(p["sun_elevation_deg"])
        assert sky.haze_path_m(p) == pytest.approx(min(hz["height_m"] / math.sin(e), sky.HAZE_EXTENT_M / math.cos(e)))
        assert sky.haze_transmittance(p) == pytest.approx([math.exp(-hz["depth"])] * 3)  # grey
    assert sky.haze_transmittance(sky.sky_params(0)) == [1.0, 1.0, 1.0]  # the other banks have no layer
    depths = sorted(p["haze"]["depth"] for p in params)
    assert depths[0] < 1.0 and depths[-1] > 4.0  # near-clear to thick
    # the coloured-haze bank: its own draws, an Angstrom exponent, a sun reddened beyond the grey layer's
    coloured = [sky.sky_params(i, "hazec") for i in range(24)]
    assert all(c["name"].startswith("hazec_") and 0.5 <= c["haze"]["angstrom"] <= 1.5 for c in coloured)
    c = coloured[0]
    t = sky.haze_transmittance(c)
    k = [(550.0 / lam) ** c["haze"]["angstrom"] for lam in (610.0, 550.0, 465.0)]
    assert t == pytest.approx([math.exp(-c["haze"]["depth"] * x) for x in k]) and t[0] > t[1] > t[2]


def test_ibl_tables_have_a_section_for_every_family():
    """bench/ibl.py's tables: every family in FAMILIES has a titled section (the haze family's missing title was a
    KeyError after a whole --set haze run), with the row's means and the targets checked on them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_ibl_t", Path(__file__).resolve().parents[2] / "bench" / "ibl.py")
    ibl = importlib.util.module_from_spec(spec)
    sys.modules["bench_ibl_t"] = ibl
    spec.loader.exec_module(ibl)  # type: ignore[union-attr]
    rows = [ibl.Row(ibl.JPEG_ROW, "inverse-srgb", {}), ibl.Row("singlehdr", "singlehdr", {})]
    records = []
    for fam in ibl.FAMILIES:
        for row, err in ((ibl.JPEG_ROW, 0.6), ("singlehdr", 0.1)):
            rec = {"scene": f"{fam}_1", "family": fam, "row": row, "sky_type": "PREETHAM", "render_rel_rmse": err,
                   "render_log2_rmse": err, "shadow_contrast": 0.3, "shadow_contrast_truth": 0.25, "energy_ratio": 1.0,
                   "light_angle_deg": 1.0, "sh9_error": err}
            records.append(rec)
        jrow = records[-2]
        for rec in records[-2:]:
            rec["targets"] = M.target_checks(rec, jrow)
    text = ibl.markdown_tables(ibl.summarise(records, rows))
    assert text.count("| singlehdr | 1 |") >= len(ibl.FAMILIES)  # one section per family
    assert "Low suns behind ground haze" in text and "Mean over all scenes" in text
    assert "| singlehdr | 4 | 0.1 |" in text  # the mean over all four families' scenes
