"""Sun recovery: hand-computed disc energy, candidate finding, the clear-sky fit on a sky made from the table, no sun
on Blender's sunless HDRIs, a sun within 3 degrees on the sunny ones, bad inputs."""

import numpy as np
import pytest

from singlehdr.envmap import EnvmapOptions, make_envmap
from singlehdr.envmap import sun as S
from singlehdr.envmap.calibrate import LUMA_709, luminance
from singlehdr.envmap.lighting import dominant_light
from singlehdr.envmap.projections import (
    angle_between_deg,
    azimuth_elevation,
    direction_from_angles,
    equirect_directions,
    equirect_solid_angles,
    resize_equirect,
)
from singlehdr.errors import SingleHDRError
from singlehdr.options import ReconstructOptions

REC = ReconstructOptions(method="inverse-srgb")


def _energy(env):
    return float(np.sum(luminance(env).astype(np.float64) * equirect_solid_angles(*env.shape[:2])))


def test_place_sun_energy_and_centroid():
    h, w = 128, 256
    env = np.full((h, w, 3), 0.5, np.float32)
    d = direction_from_angles(40.0, 30.0)
    out = S.place_sun(env, d, np.array([30.0, 20.0, 10.0]), 0.53)
    om = equirect_solid_angles(h, w)
    added = (out - env).astype(np.float64)
    np.testing.assert_allclose(np.sum(added * om[..., None], axis=(0, 1)), [30.0, 20.0, 10.0], rtol=1e-5)
    y = luminance(added)
    c = np.sum(equirect_directions(h, w) * (y * om)[..., None], axis=(0, 1))
    assert angle_between_deg(c, d) < 0.5
    assert S.disc_solid_angle(0.53) == pytest.approx(2 * np.pi * (1 - np.cos(np.radians(0.265))), rel=1e-12)


def test_find_candidate_compact_blob_only_above_horizon():
    h, w = 128, 256
    d = equirect_directions(h, w)
    alpha = np.ones((h, w), np.float32)
    sun = direction_from_angles(-70.0, 25.0)
    clip = (np.degrees(np.arccos(np.clip(d @ sun, -1, 1))) < 3.0).astype(np.float32)
    c, why = S.find_candidate(clip, alpha)
    assert c is not None and why == ""
    assert angle_between_deg(c.direction, sun) < 0.5 and c.compactness > 0.6
    # a wide clipped band (bright overcast sky) is no sun: wider than MAX_GLARE_RADIUS_DEG no candidate, narrower
    # a band-shaped one (its confidence's compactness factor is ~0)
    _, el = azimuth_elevation(d)
    assert S.find_candidate(((el > 5) & (el < 75)).astype(np.float32), alpha)[0] is None
    band = S.find_candidate(((el > 20) & (el < 60)).astype(np.float32), alpha)[0]
    assert band is None or band.compactness < 0.5
    # a compact blob below the horizon (a reflection, a lamp on the floor) is no sun
    low = direction_from_angles(10.0, -30.0)
    assert S.find_candidate((np.degrees(np.arccos(np.clip(d @ low, -1, 1))) < 3.0).astype(np.float32), alpha)[0] is None
    # nothing clipped: says so
    c, why = S.find_candidate(np.zeros((h, w), np.float32), alpha)
    assert c is None and "nothing is clipped" in why


def test_specks_inside_a_glare_do_not_break_it_up():
    """Unclipped specks inside a sun's glare (JPEG noise) are filled before its shape is measured: the speckled
    glare is one compact candidate on the sun; a large enclosed hole (a dark object inside a clipped ring) stays."""
    h, w = 256, 512
    d = equirect_directions(h, w)
    alpha = np.ones((h, w), np.float32)
    sun = direction_from_angles(120.0, 55.0)
    ang = np.degrees(np.arccos(np.clip(d @ sun, -1, 1)))
    clip = (ang < 8.0).astype(np.float32)
    rng = np.random.default_rng(3)
    specks = (rng.random((h, w)) < 0.04) & (ang < 7.0)
    clip[specks] = 0.0
    assert int(specks.sum()) > 20
    cands, _ = S.find_candidates(clip, alpha)
    assert cands[0].compactness > 0.8 and angle_between_deg(cands[0].direction, sun) < 1.0
    assert sum(c.region == cands[0].region for c in cands) == 1  # one peak, not a glare split into several
    ring = np.zeros((64, 64), bool)
    yy, xx = np.mgrid[0:64, 0:64]
    rr = np.hypot(yy - 32, xx - 32)
    ring[(rr < 20)] = True
    ring[(rr < 8)] = False  # 200 px hole in a 1050 px region: stays open
    ring[32, 14] = False  # a one-pixel speck: filled
    filled = S._fill_specks(ring)
    assert filled[32, 14] and not filled[32, 32]


@pytest.mark.parametrize("blue_minus_red", [0.02, 0.06, 0.1])
@pytest.mark.parametrize("clipped", [0.01, 0.04])
def test_no_sun_on_an_overcast_sky(camera, blue_minus_red, clipped):
    """A CIE standard overcast sky (brightest at the zenith, no sun; tools/make_sky_hdrs.py cie_overcast) exposed so
    a cap around the zenith clips gets no sun, neutral or bluish (the training split's overcast skies are b - r 0,
    0.04, 0.08, 0.12 with albedo 0.25; these are others).  Before the aureole step (stop 11) a bluish one got a sun
    of confidence 0.9-1.0 at the zenith."""
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    spec = importlib.util.spec_from_file_location("make_sky_hdrs_t", root / "tools" / "make_sky_hdrs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    sky = mod.cie_overcast(512, blue_minus_red, albedo=0.4)
    expose, _ = camera
    t = 1.0 / float(np.percentile(sky.max(axis=-1), 100 * (1 - clipped)))
    ldr = expose(sky, t)
    assert 0.5 * clipped < float(np.mean(ldr.max(axis=-1) == 255)) < 0.1  # a zenith cap clips (pixels, not solid angle)
    res = make_envmap(ldr, EnvmapOptions(width=512, reconstruct=REC))
    assert res.sun is None, res.sun_assessment.get("features")
    considered = res.sun_assessment.get("considered") or []
    assert considered and max(c["confidence"] for c in considered) < S.AUTO_CONFIDENCE


def test_aureole_reference_is_ldr_white_for_every_method(camera):
    """The aureole feature compares the sky just outside a glare with LDR white as the reconstruction maps it
    (envmap's measured gain on bright measured pixels): the same for inverse sRGB, the default model and Akyuz's
    x10 expansion, so an operator choice does not hide the sun.  (A multiple-scattering table sky, sun 45 deg up,
    half a stop over: until stop 13 a hand-made sky of linear ramps, which the tighter sky-fit step now rejects.)"""
    expose, meter = camera
    env, _, _ = _model_sky(64, 128, "MULTIPLE_SCATTERING", -72.0, 45.0, 0.5, 1.5)
    ldr = expose(env, meter(env, 0.5))
    vals = {}
    for method in ("inverse-srgb", "akyuz", None):
        rec = ReconstructOptions(method=method) if method else ReconstructOptions()
        res = make_envmap(ldr, EnvmapOptions(width=128, reconstruct=rec))
        assert res.sun is not None, (method, res.notes)
        vals[method] = res.sun_assessment["raw"]["near_over_white"]
    assert max(vals.values()) < 1.1 * min(vals.values()) and max(vals.values()) < 0.5, vals


def test_a_small_sun_is_not_crowded_out_by_a_speckled_sunlit_ground():
    """Only clipped regions reaching above the horizon compete for the 12 places: twenty larger clipped patches on a
    sunlit ground (below the horizon) no longer hide a two-pixel sun (training sky_028 at 0 EV)."""
    h, w = 128, 256
    alpha = np.ones((h, w), np.float32)
    clip = np.zeros((h, w), np.float32)
    rng = np.random.default_rng(7)
    for _ in range(20):
        y, x = int(rng.integers(80, 120)), int(rng.integers(0, 250))
        clip[y:y + 3, x:x + 4] = 1.0  # 12-px patches, 10-40 deg below the horizon
    sun = direction_from_angles(50.0, 40.0)
    d = equirect_directions(h, w)
    i = np.unravel_index(np.argmax(d @ sun), (h, w))
    clip[i[0], i[1]:i[1] + 2] = 1.0
    cands, why = S.find_candidates(clip, alpha)
    assert cands, why
    assert min(angle_between_deg(c.direction, sun) for c in cands) < 1.5


def _table_sky(h, w, sun_az, sun_el, ia, ib, scale):
    """A panorama made of the table's own sky (upper hemisphere), a grey ground, and its sun, x scale."""
    tab = S.sky_table()
    log_sky, sun_irr, sky_h = tab.at(sun_el)
    d = equirect_directions(h, w)
    az, el = azimuth_elevation(d)
    relaz = (az - sun_az + 180.0) % 360.0 - 180.0
    lum = np.exp(S._sample_model(log_sky[ia, ib], np.maximum(el, 0.0), relaz))
    col = sky_h[ia, ib] / float(sky_h[ia, ib] @ LUMA_709)
    env = lum[..., None] * col[None, None, :]
    env[el < 0] = 0.2 * float(sky_h[ia, ib] @ LUMA_709) / np.pi
    env = env * scale
    sun_dir = direction_from_angles(sun_az, sun_el)
    return S.place_sun(env.astype(np.float32), sun_dir, sun_irr[ia, ib] * scale, 0.53), sun_dir, float(sun_irr[ia, ib] @ LUMA_709) * scale


@pytest.mark.parametrize("sun_el,ia,ib", [(15.0, 0, 1), (30.0, 1, 2), (60.0, 0, 0)])
def test_sky_fit_recovers_the_sun_of_a_table_sky(camera, sun_el, ia, ib):
    """A sky made from the table itself, photographed (clipped, sRGB, 8 bit): the fit finds its entry and the sun's
    energy to a few per cent, and its direction to a degree (the map is 1.4 deg per pixel)."""
    expose, meter = camera
    env, sun_dir, sun_lum = _table_sky(128, 256, -35.0, sun_el, ia, ib, 1.0)
    s = meter(env, 0.0)
    res = make_envmap(expose(env, s), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is not None, res.notes
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.0
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum * s, rel=0.1)
    assert _energy(res.hdr_linear) == pytest.approx(_energy(env) * s, rel=0.1)
    assert res.sun["confidence"] >= S.AUTO_CONFIDENCE
    # the contract: hdr_without_sun differs from the map only around the disc, by exactly the sun's energy
    diff = (res.hdr_linear - res.hdr_without_sun).astype(np.float64)
    assert _energy(diff) == pytest.approx(res.sun["irradiance_luminance"], rel=1e-3)
    far = np.degrees(np.arccos(np.clip(equirect_directions(128, 256) @ np.asarray(res.sun["direction"]), -1, 1))) > 3
    assert np.abs(diff[far]).max() == 0.0
    assert res.sun["diameter_deg"] == 0.53 and len(res.sun["radiance_rgb"]) == 3
    np.testing.assert_allclose(np.asarray(res.sun["radiance_rgb"]) * res.sun["solid_angle_sr"], res.sun["irradiance_rgb"], rtol=1e-9)


def _model_sky(h, w, family, sun_az, sun_el, a, b):
    """A panorama made of one sky model's table entry at fractional node indices (a, b), a grey ground and its sun."""
    tab = S.sky_table(family)
    log_sky, sun_irr, sky_h = tab.at(sun_el)
    d = equirect_directions(h, w)
    az, el = azimuth_elevation(d)
    lum = np.exp(S._sample_model(S._lerp2(log_sky, a, b), np.maximum(el, 0.0), (az - sun_az + 180.0) % 360.0 - 180.0))
    sh = S._lerp2(sky_h, a, b)
    env = lum[..., None] * (sh / float(sh @ LUMA_709))[None, None, :]
    env[el < 0] = 0.2 * float(sh @ LUMA_709) / np.pi
    sun_dir = direction_from_angles(sun_az, sun_el)
    sun = S._lerp2(sun_irr, a, b)
    return S.place_sun(env.astype(np.float32), sun_dir, sun, 0.53), sun_dir, float(sun @ LUMA_709)


@pytest.mark.parametrize("family,sun_el,a,b,param", [
    ("MULTIPLE_SCATTERING", 30.0, 0.5, 1.5, ("aerosol_density", 1.73)),
    ("SINGLE_SCATTERING", 25.0, 0.25, 2.25, None),
    ("PREETHAM", 40.0, 0.0, 3.5, ("turbidity", 4.47)),
    ("HOSEK_WILKIE", 20.0, 0.0, 2.5, ("turbidity", 3.46)),
])
def test_the_fit_tells_the_sky_models_apart(camera, family, sun_el, a, b, param):
    """A sky of each of the table's four models, between its grid nodes, photographed: the fit names the model (and
    its turbidity / aerosol), the sun is that model's alone (weight ~1) and within 10 %.  With the multiple-scattering
    table alone (stop 11) the Preetham / Hosek-Wilkie training suns came out 1.5-3.7x too strong."""
    expose, meter = camera
    env, sun_dir, sun_lum = _model_sky(128, 256, family, -35.0, sun_el, a, b)
    s = meter(env, 0.0)
    res = make_envmap(expose(env, s), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is not None, res.notes
    fit = res.sun_assessment["fit"]
    assert fit["sky_model"] == family
    assert fit["sun_weight_per_model"][family] > 0.99
    if param is not None:
        assert fit[param[0]] == pytest.approx(param[1], rel=0.05)
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum * s, rel=0.1)
    assert angle_between_deg(res.sun["direction"], sun_dir) < 3.0
    assert family in res.sun["method"] or S.FAMILY_LABELS[family] in res.sun["method"]


def test_a_low_suns_wide_glare_is_placed_by_the_sky_fit(camera):
    """A single-scattering sky (aerosol 1), sun 6 deg up, over-exposed by 0.5 EV: the clipped glare is a wide
    isophote merged with the bright horizon.  The glow fit alone puts the sun 1.5 deg too low, 4.5 deg up, where a sun
    is distrusted (confidence 0.26: no sun); the sky-model fit moves it to within 1 deg of the truth, 6 deg up, and its
    strength is within 10 % (bench/RESULTS.md, stop 12: 44 -> 57 of 59 training glares within 5 deg)."""
    expose, meter = camera
    env, sun_dir, sun_lum = _model_sky(128, 256, "SINGLE_SCATTERING", -35.0, 6.0, 0.5, 1.0)
    s = meter(env, 0.5)
    res = make_envmap(expose(env, s), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is not None, res.notes
    moved = res.sun_assessment["placement"]["sky_fit"]
    assert moved["moved"] is True and moved["spread_best"] < 0.8 * moved["spread_at_start"]
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.0
    assert res.sun["elevation_deg"] > 5.0
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum * s, rel=0.1)


def _photograph_model_sky(camera, family, sun_el, a, b, ev):
    """A :func:`_model_sky` panorama (sun at azimuth -35 deg) photographed ``ev`` stops over the metering and made
    into a 256-wide map: (ldr, result, sun direction, true sun luminance irradiance in the photo's units, env, scale)."""
    expose, meter = camera
    env, sun_dir, sun_lum = _model_sky(128, 256, family, -35.0, sun_el, a, b)
    s = meter(env, ev)
    ldr = expose(env, s)
    return ldr, make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC)), sun_dir, sun_lum * s, env, s


def test_a_low_suns_glare_band_is_recognised_by_its_isophote(camera, monkeypatch):
    """A Hosek-Wilkie sky, sun 7 deg up, over-exposed by 1 EV: the clipped glare is a wide band along the horizon
    (compactness ~0.5, which alone gives confidence ~0.35: no sun, as for 53 of 64 low-sun training records before
    stop 13).  It is the fitted clear sky's brightest part (isophote IoU > 0.8), so the sun is found, within 1.5 deg
    and 10 % of the truth, at confidence > 0.9; with the isophote factor switched off the shape factor is compactness's
    (< 0.6) and so is the confidence.  The same band tested against a sun 30 deg
    along the horizon, and an upright clipped window, do not match."""
    ldr, res, sun_dir, sun_lum, env, s = _photograph_model_sky(camera, "HOSEK_WILKIE", 7.0, 0.0, 2.0, 1.0)
    raw = res.sun_assessment["raw"]
    assert raw["compactness"] < 0.55 and raw["isophote_iou"] > 0.8
    assert res.sun is not None, res.notes
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.5
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum, rel=0.1)
    # on the true sky, clipped where the camera clipped it
    clip = (env.max(axis=-1) * s >= 1.0).astype(np.float32)
    alpha = np.ones(clip.shape, np.float32)
    shown = np.minimum(env, 1.0 / s)
    fit = S.fit_sky(shown, S.sky_pixels(shown, alpha, clip, sun_dir), sun_dir)
    assert S.isophote_match(fit, shown, clip, alpha, sun_dir) > 0.8
    away = direction_from_angles(-5.0, 7.0)  # the same band, the sun put 30 deg along the horizon: 0.35
    fit_away = S.fit_sky(shown, S.sky_pixels(shown, alpha, clip, away), away)
    assert S.isophote_match(fit_away, shown, clip, alpha, away) < 0.45
    az, el = azimuth_elevation(equirect_directions(*clip.shape))
    window = ((np.abs(az + 35.0) < 5.0) & (el > 3.0) & (el < 25.0)).astype(np.float32)  # an upright clipped window: 0.21
    at = direction_from_angles(-35.0, 14.0)
    fit_win = S.fit_sky(shown, S.sky_pixels(shown, alpha, window, at), at)
    assert S.isophote_match(fit_win, shown, window, alpha, at) < 0.3
    assert res.sun["confidence"] > 0.9
    monkeypatch.setitem(S.CONFIDENCE_STEPS, "isophote", ("isophote_iou", 9.0, 10.0))
    off = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC)).sun_assessment
    assert off["features"]["compactness"] < 0.6 and off["confidence"] < 0.6


def test_a_clear_low_sun_needs_neither_elevation_nor_a_blue_sky(camera):
    """A Hosek-Wilkie sky (turbidity ~4) with its sun 3 deg up: the sky is barely blue (b - r ~0.01) and the sun is
    below the elevation step, so before stop 14 its confidence was ~0.02 (as for 42 of 64 low-sun training records).
    Its seen sky fits a clear-sky model within 1 %: the sun is found within 1 deg and 10 % of its strength.  The same
    sky with a 10 % ripple around the horizon (cloud banks and haze the clear-sky models cannot explain; spread > 2.5
    %: a real low sun behind them may be far dimmer, Blender's sunset.exr is 84x) gets no sun."""
    expose, meter = camera
    env, sun_dir, sun_lum = _model_sky(128, 256, "HOSEK_WILKIE", -35.0, 3.0, 0.0, 3.0)
    s = meter(env, 0.0)
    res = make_envmap(expose(env, s), EnvmapOptions(width=256, reconstruct=REC))
    raw = res.sun_assessment["raw"]
    assert raw["elevation_deg"] < 4.0 and raw["blue_minus_red"] < 0.02 and raw["fit_spread"] < 0.01
    assert res.sun is not None, res.notes
    assert res.sun["confidence"] > 0.9
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.0
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum * s, rel=0.1)
    az, el = azimuth_elevation(equirect_directions(*env.shape[:2]))
    rippled = env * np.exp(0.1 * np.sin(np.radians(3 * az)) * np.cos(np.radians(el)))[..., None].astype(np.float32)
    res = make_envmap(expose(rippled, s), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun_assessment["raw"]["fit_spread"] > 0.025
    assert res.sun is None, res.sun


def test_the_sun_among_sunlit_facades_is_screened_in_by_the_sky(camera, monkeypatch):
    """A single-scattering sky, sun 22 deg up, and six sunlit facades opposite it clipped as round blobs 3-3.5 deg
    wide, 5-9 deg up: by shape the sun's smaller blob ranks seventh, and only four candidates get a full sky fit
    each.  Screening all twelve by a quick clear-sky fit with the sun at each (spread 0.015 at the sun, 0.18-0.2 at
    the facades) brings it in: found within 1 deg and 10 % of its strength.  Without the screening (the four
    best-shaped, as up to stop 13) it is not."""
    expose, meter = camera
    env, sun_dir, sun_lum = _model_sky(128, 256, "SINGLE_SCATTERING", -35.0, 22.0, 0.25, 1.0)
    s = meter(env, -0.5)
    d = equirect_directions(*env.shape[:2])
    for az, el, r in ((120, 5, 3.0), (140, 8, 3.5), (160, 6, 3.0), (-170, 7, 3.5), (100, 9, 3.0), (-150, 5, 3.0)):
        env[np.degrees(np.arccos(np.clip(d @ direction_from_angles(az, el), -1, 1))) < r] = 3.0 / s
    ldr = expose(env, s)
    res = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC))
    spreads = res.sun_assessment["screening"]["spreads"]
    assert res.sun_assessment["screening"]["screened"] == 7 and int(np.argmin(spreads)) == 6
    assert res.sun is not None, res.notes
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.0
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum * s, rel=0.1)
    monkeypatch.setattr(S, "SCREENED_CANDIDATES", S.ASSESSED_CANDIDATES)
    res = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is None or angle_between_deg(res.sun["direction"], sun_dir) > 60.0


def test_an_over_exposed_suns_wide_glare_is_a_candidate(camera, monkeypatch):
    """A Hosek-Wilkie sky, sun 35 deg up, photographed 1.5 EV over the metering: the clipped glare around the sun is a
    cap ~25 deg wide (training skies half a stop over the 1 % clip rule: 17-29 deg).  Up to stop 12 a clipped region
    wider than 18 deg was never a candidate (11 of 32 training suns at +0.5 EV lost); now the sun is found within
    1.5 deg and 10 % of its strength, and with the old bound it is not."""
    ldr, res, sun_dir, sun_lum, _, _ = _photograph_model_sky(camera, "HOSEK_WILKIE", 35.0, 0.0, 4.0, 1.5)
    raw = res.sun_assessment["raw"]
    cap = raw["compactness"] * raw["solid_angle_sr"]
    assert np.degrees(np.arccos(1 - cap / (2 * np.pi))) > 20.0  # the glare's inscribed radius
    assert res.sun is not None, res.notes
    assert angle_between_deg(res.sun["direction"], sun_dir) < 1.5
    assert res.sun["irradiance_luminance"] == pytest.approx(sun_lum, rel=0.1)
    monkeypatch.setattr(S, "MAX_GLARE_RADIUS_DEG", 18.0)
    assert make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC)).sun is None


def test_sun_modes(camera):
    expose, meter = camera
    env, sun_dir, sun_lum = _table_sky(64, 128, 50.0, 20.0, 0, 1, 1.0)
    ldr = expose(env, meter(env, 0.0))
    off = make_envmap(ldr, EnvmapOptions(width=128, reconstruct=REC, sun="off"))
    assert off.sun is None and off.hdr_without_sun is off.hdr_linear
    given = make_envmap(ldr, EnvmapOptions(width=128, reconstruct=REC, sun="on", sun_intensity=12.5))
    assert given.sun["irradiance_luminance"] == pytest.approx(12.5, rel=1e-6) and given.sun["method"] == "given intensity"
    assert EnvmapOptions(inject_sun=True).sun == "on"
    with pytest.raises(SingleHDRError, match="sun mode"):
        EnvmapOptions(sun="maybe")


SUNLESS = ["interior", "night", "studio", "forest", "courtyard"]


@pytest.mark.parametrize("name", SUNLESS)
@pytest.mark.parametrize("ev", [0.0, -2.0])
def test_no_sun_on_sunless_hdris(load_world, camera, name, ev):
    """Blender's indoor, night, studio, forest (sun hidden in foliage) and courtyard (sun behind the roof) scenes,
    photographed through an sRGB camera that clips: no sun is invented, and the notes say why."""
    expose, meter = camera
    src = load_world(name, 512)
    res = make_envmap(expose(src, meter(src, ev)), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is None, res.sun_assessment
    assert any(n.startswith("no sun added") for n in res.notes)
    assert res.hdr_without_sun is res.hdr_linear


@pytest.mark.parametrize("ev", [0.0, -2.0])
def test_no_clear_sky_sun_in_a_sunset_glow(load_world, camera, ev):
    """Blender's sunset.exr: its sun, 3.2 deg up behind haze, is ~84x dimmer than a clear sky fitted to its sky says,
    and its wide cloud glow is round enough for a clear sky's isophote (IoU 0.86 at +0 EV).  A clear-sky sun there
    made the map 4.6x the HDRI's energy (stop 13, before the isophote counted only on skies the clear-sky models fit
    within 1.5-2 %): the map's energy stays within 0.8-1.25x of the HDRI's."""
    expose, meter = camera
    src = load_world("sunset", 512)
    s = meter(src, ev)
    res = make_envmap(expose(src, s), EnvmapOptions(width=256, reconstruct=REC))
    ratio = _energy(res.hdr_linear) / (_energy(resize_equirect(src, 256)) * s)
    assert 0.8 < ratio < 1.25, (ratio, res.sun)


def _make_sky_hdrs():
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    spec = importlib.util.spec_from_file_location("make_sky_hdrs_t2", root / "tools" / "make_sky_hdrs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


# city's sun is held to its ground's shadows (test_city_sun_matches_its_own_shadows) and sunset's sun is 3 deg above
# the horizon behind haze (too low to trust): see the README's sun table
SUNNY = [("sunrise", 0.0), ("sunrise", -2.0)]


@pytest.mark.parametrize("name,ev", SUNNY)
def test_sun_on_sunny_hdris_within_3_degrees(load_world, camera, name, ev):
    """The sun of Blender's sunrise.exr is found within 3 deg, and its strength is physically plausible.

    The HDRI's own disc is saturated: its pixels are near-white at the capture's ceiling (~3.3e4 in every channel,
    blue/red 0.86), where a sun 8 deg up has passed ~7 air masses and is orange (blue/red 0.02-0.17 for Linke
    turbidity 7-2, Rayleigh + aerosol transmittance).  So the HDRI's energy is a lower bound, and the recovered sun
    is checked against the clear-sky physics instead: its irradiance over the map's own sky irradiance on a
    horizontal surface lies within ESRA's clear-sky beam/diffuse range at its elevation (Linke turbidity 2-7).
    """
    sky = _make_sky_hdrs()
    expose, meter = camera
    src = load_world(name, 512)
    truth = dominant_light(load_world(name, 1024), 0.5)
    peak = load_world(name, 1024).reshape(-1, 3)[int(np.argmax(luminance(load_world(name, 1024))))]
    el_true = float(np.degrees(np.arcsin(truth.direction[1])))
    assert peak[2] / peak[0] > 0.5 > 0.2 > sky.sun_colour(el_true, 2.0)[2] / sky.sun_colour(el_true, 2.0)[0]
    s = meter(src, ev)
    res = make_envmap(expose(src, s), EnvmapOptions(width=256, reconstruct=REC))
    assert res.sun is not None, (res.notes, res.sun_assessment)
    err = angle_between_deg(res.sun["direction"], truth.direction)
    ratio = _energy(res.hdr_linear) / (_energy(src) * s)
    h, w = res.hdr_without_sun.shape[:2]
    up = np.clip(equirect_directions(h, w)[..., 1], 0, None)
    e_h = float(np.sum(luminance(res.hdr_without_sun).astype(np.float64) * equirect_solid_angles(h, w) * up))
    beam_over_diffuse = res.sun["irradiance_luminance"] / e_h
    lo, hi = (sky.esra_clear_sky(res.sun["elevation_deg"], t) for t in (7.0, 2.0))
    print(f"{name} ev {ev}: sun {err:.2f} deg off, energy ratio {ratio:.3f} (a saturated disc's), beam/diffuse "
          f"{beam_over_diffuse:.2f} (clear sky {lo[0] / lo[1]:.2f}-{hi[0] / hi[1]:.2f}), confidence {res.sun['confidence']:.2f}")
    assert err < 3.0
    assert ratio > 0.8
    assert lo[0] / lo[1] <= beam_over_diffuse <= hi[0] / hi[1]


# ----------------------------------------------------------------------------
# bad input


def test_all_black_panorama_is_one_line_error():
    with pytest.raises(SingleHDRError, match="black"):
        make_envmap(np.zeros((64, 128, 3), np.uint8), EnvmapOptions(width=64, reconstruct=REC))


def test_all_clipped_panorama_says_so_and_adds_no_sun():
    res = make_envmap(np.full((64, 128, 3), 255, np.uint8), EnvmapOptions(width=64, reconstruct=REC, sun="on"))
    assert res.sun is None
    assert any("clipped" in n for n in res.notes)
    assert np.all(np.isfinite(res.hdr_linear))


def test_no_sky_panorama_adds_no_sun(load_world, camera):
    """A panorama whose upper half is a dark ceiling with one clipped lamp: no sun."""
    expose, meter = camera
    env = np.full((64, 128, 3), 0.05, np.float32)
    env[32:] = 0.2
    env[10:12, 40:42] = 500.0
    res = make_envmap(expose(env, meter(env, 0.0)), EnvmapOptions(width=128, reconstruct=REC))
    assert res.sun is None and any(n.startswith("no sun added") for n in res.notes)


@pytest.mark.parametrize("shape", [(1, 200, 3), (1, 2, 3), (5, 10, 3)])
def test_tiny_images_are_one_line_errors(shape):
    with pytest.raises(SingleHDRError, match="too small"):
        make_envmap(np.full(shape, 128, np.uint8), EnvmapOptions(width=64, reconstruct=REC, kind="equirect"))
    with pytest.raises(SingleHDRError, match="too small"):
        make_envmap(np.full(shape, 128, np.uint8), EnvmapOptions(width=64, reconstruct=REC))


# ----------------------------------------------------------------------------
# colour inside clipped regions


def _magenta_green_cast(est, truth, mask):
    """Mean over ``mask`` of the magenta-minus-green chromaticity difference, (r + b) / 2 - g of rgb / (r + g + b)."""
    def mg(x):
        c = x / np.maximum(x.sum(-1, keepdims=True), 1e-9)
        return 0.5 * (c[..., 0] + c[..., 2]) - c[..., 1]

    return float(np.mean(mg(est)[mask] - mg(truth)[mask]))


def _clipped_case(load_world, camera, name):
    from singlehdr.envmap.projections import resize_equirect

    expose, meter = camera
    src = load_world(name, 512)
    ldr = expose(src, meter(src, 0.0))
    clipped = resize_equirect((ldr.max(-1) >= 254).astype(np.float32)[..., None], 256)[..., 0] > 0.99
    assert clipped.sum() > 50
    return src, ldr, clipped


@pytest.mark.parametrize("name", ["sunset", "courtyard"])
def test_no_pink_or_green_cast_in_clipped_regions(load_world, camera, name):
    """The clipped sunset glow / courtyard sky opening photographed at 0 EV, through the shipped model: inside what
    clipped, the map's magenta-green chromaticity is within 0.03 of the truth's (a pink dome measures about +0.1).
    Measured since stop 20: sunset -0.013, courtyard -0.018 (stop 19: -0.020, -0.036, courtyard an xfail: where two
    channels clipped, the colour came from both sides of the light and a 2x cap made red and green equal)."""
    from singlehdr.envmap.projections import resize_equirect

    src, ldr, clipped = _clipped_case(load_world, camera, name)
    res = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=ReconstructOptions(method="singlehdr")))
    cast = _magenta_green_cast(res.hdr_without_sun, resize_equirect(src, 256), clipped)
    print(f"{name}: magenta-green cast {cast:+.4f} over {int(clipped.sum())} clipped pixels")
    assert abs(cast) < 0.03


@pytest.mark.parametrize("kind", ["ball", "photo"])
def test_sun_recovered_after_projection(camera, kind):
    """The same recovery for a chrome-ball shot and a 90-degree photo of a table sky (sun in the seen region): sun
    within 2 degrees and 15 % of its irradiance for both (measured: photo 0.3 deg, 1.00; ball 0.3 deg, 1.00)."""
    from singlehdr.envmap.projections import equirect_to_ball, perspective_directions, sample_equirect

    expose, _ = camera
    env, sun_dir, sun_lum = _table_sky(256, 512, -150.0, 30.0, 0, 1, 1.0)
    if kind == "ball":
        img = equirect_to_ball(env, 300)
        bg = 0.05 * float(np.mean(luminance(img)))
        img = np.where(img.sum(-1, keepdims=True) > 0, img, bg)
        img = np.pad(img, ((40, 40), (90, 90), (0, 0)), constant_values=bg)
        opts = EnvmapOptions(kind="ball", ball=(240.0, 190.0, 150.0), width=256, reconstruct=REC)
    else:
        img = sample_equirect(env, perspective_directions(240, 320, 90.0, -140.0, 20.0)).astype(np.float32)
        opts = EnvmapOptions(kind="photo", fov=90.0, yaw=-140.0, pitch=20.0, width=256, reconstruct=REC)
    s = 0.18 / float(np.mean(luminance(img)))
    res = make_envmap(expose(img, s), opts)
    assert res.kind == kind
    assert res.sun is not None, (res.notes, res.sun_assessment)
    assert angle_between_deg(res.sun["direction"], sun_dir) < 2.0
    assert 0.85 < res.sun["irradiance_luminance"] / (sun_lum * s) < 1.15


@pytest.mark.slow
@pytest.mark.bpy
def test_bpy_sky_panoramas_get_their_sun(camera):
    """Blender 5.0 Sky Texture panoramas off the table's grid (bench/envmap_sun.py renders them: sky-only pano + the
    disc's irradiance through a narrow camera): sun within 3 deg, total energy 0.8..1.25 of the truth's, SH9
    irradiance error at most half of the JPEG's.  The same skies seen in a chrome ball (300 px across): every sun
    found within 3 deg, its irradiance 0.75..1.25 of the truth's (measured at stop 17: 0.2-2.1 deg, 0.79-1.06)."""
    import importlib.util
    import sys
    from pathlib import Path

    from singlehdr.camera.transfer import srgb_to_linear
    from singlehdr.envmap.lighting import irradiance_error, sh9
    from singlehdr.envmap.projections import resize_equirect

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    spec = importlib.util.spec_from_file_location("bench_envmap_sun", root / "bench" / "envmap_sun.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    expose, meter = camera
    skies = bench.render_skies(len(bench.SKIES), 512)
    for name, env, sun_dir, sun_irr in skies[1:]:  # skies[0]: the sun 4 deg up merges with the clipped horizon (no sun)
        s = meter(env, 0.0)
        ldr = expose(env, s)
        res = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC))
        assert res.sun is not None, (name, res.notes)
        truth = resize_equirect(env, 256) * s
        jpeg = resize_equirect(srgb_to_linear(ldr.astype(np.float32) / 255), 256)
        err = angle_between_deg(res.sun["direction"], sun_dir)
        ratio = _energy(res.hdr_linear) / _energy(truth)
        sh_ours, sh_jpeg = irradiance_error(sh9(res.hdr_linear), sh9(truth)), irradiance_error(sh9(jpeg), sh9(truth))
        print(f"{name}: sun {err:.2f} deg off, energy {ratio:.3f}, SH9 error {sh_ours:.3f} (JPEG {sh_jpeg:.3f})")
        assert err < 3.0 and 0.8 < ratio < 1.25 and sh_ours <= 0.5 * sh_jpeg
    from singlehdr.envmap.projections import equirect_to_ball

    for name, env, sun_dir, sun_irr in skies:
        img = equirect_to_ball(env, 300)
        bg = 0.05 * float(np.mean(luminance(img)))
        img = np.pad(np.where(img.sum(-1, keepdims=True) > 0, img, bg), ((40, 40), (90, 90), (0, 0)), constant_values=bg)
        s = 0.18 / float(np.mean(luminance(img)))
        res = make_envmap(expose(img, s), EnvmapOptions(kind="ball", ball=(240.0, 190.0, 150.0), width=256, reconstruct=REC))
        assert res.sun is not None, (name, res.notes)
        err = angle_between_deg(res.sun["direction"], sun_dir)
        irr = res.sun["irradiance_luminance"] / (float(np.asarray(sun_irr) @ LUMA_709) * s)
        print(f"{name} in a ball: sun {err:.2f} deg off, irradiance {irr:.3f} of the truth's")
        assert err < 3.0 and 0.75 < irr < 1.25


def _warming_glow(h: int = 128, w: int = 256, trend: str = "log"):
    """(sun direction, elevation map, luminance, truth): a low sun's glow whose log R/G and log B/G are linear in the
    log (``trend="log"``) or the square root (``"sqrt"``) of the angle to the sun, ground below the horizon.  Blender's
    sunset.exr follows either within 0.076-0.077 / 0.126-0.132 rms in log R/G / B/G 1.5-45 deg from its sun;
    fill_glare's trend is the square root's since stop 25 (the log's until then)."""
    sun = direction_from_angles(-35.0, 5.0)
    d = equirect_directions(h, w)
    _, el = azimuth_elevation(d)
    ang = np.degrees(np.arccos(np.clip(d @ sun, -1, 1)))
    y = 0.3 + 3.0 * np.exp(-ang / 20.0)
    if trend == "sqrt":
        sg = np.sqrt(np.maximum(ang, 1.0))
        rg, bg = np.exp(0.93 - 0.175 * sg), np.exp(-1.23 + 0.21 * sg)
    else:
        lg = np.log(np.maximum(ang, 1.0))
        rg, bg = np.exp(0.9 - 0.25 * lg), np.exp(-1.2 + 0.3 * lg)
    g = y / (LUMA_709[0] * rg + LUMA_709[1] + LUMA_709[2] * bg)
    truth = np.stack([rg * g, g, bg * g], axis=-1).astype(np.float32)
    truth[el < 0] = 0.1
    return sun, el, y, truth


def test_a_wide_glare_takes_the_colour_trend_of_the_sky_around_it():
    """A low sun's glow whose colour warms steadily towards the sun (log R/G and log B/G linear in the square root of
    the angle to it, the trend's own form since stop 25: Blender's sunset.exr is so within 0.08 / 0.13 rms), clipped
    where it is brighter than white: the
    reconstruction's dome (flat, chroma faded to white) gets the colour back from the trend of the sky around it,
    within 0.05 in log chroma, and its luminance rises towards the sun as the sky around it does (never below the
    reconstruction's, at most GLARE_LUMINANCE_GAIN x the rim's: mean |log Y error| 0.23 -> 0.13 measured); nothing
    outside the glare changes."""
    h, w = 128, 256
    sun, el, y, truth = _warming_glow(h, w, trend="sqrt")
    blob = (y > 1.5) & (el >= 0)
    rec = truth.copy()
    rec[blob] = 1.6  # the reconstruction's dome: flat, white
    alpha = np.ones((h, w), np.float32)
    out = S.fill_glare(rec, blob, alpha, sun)
    from scipy import ndimage

    hole = ndimage.binary_dilation(blob, iterations=1)
    np.testing.assert_array_equal(out[~hole], rec[~hole])
    assert np.all(luminance(out[hole]) >= luminance(rec[hole]) * (1 - 1e-4))
    assert luminance(out[hole]).max() <= S.GLARE_LUMINANCE_GAIN * float(luminance(rec[hole & ~blob]).max()) * 1.001
    ly_err = lambda a: np.abs(np.log(luminance(a)) - np.log(luminance(truth)))[blob].mean()  # noqa: E731
    assert ly_err(rec) > 0.2 and ly_err(out) < 0.6 * ly_err(rec)
    err = lambda a: np.abs(np.log(a[..., 0] / a[..., 1]) - np.log(truth[..., 0] / truth[..., 1]))[blob]  # noqa: E731
    assert err(rec).mean() > 0.3
    assert err(out).mean() < 0.05
    errb = np.abs(np.log(out[..., 2] / out[..., 1]) - np.log(truth[..., 2] / truth[..., 1]))[blob]
    assert errb.mean() < 0.05


def test_a_wide_glares_measured_channels_stay_and_its_clipped_ones_stay_above_white():
    """With the map's LDR white given, a glare pixel whose blue was measured (a low sun's glow: blue still below the
    clip level while red and green clip) keeps its blue, its clipped channels take the sky's colour trend but stay at
    least white: closer to the truth's colour than the reconstruction's flat expansion; where green was measured, a
    clipped red is green times the trend's ratio (the truth's red, as the trend is exact here).  (Here the sky follows the
    trend exactly, so recolouring every channel would be closer still; on the hazy training skies, which do not, it
    was worse than the reconstruction on 17 of 28 glares, keeping the measured channels better on 27: stop 16.)"""
    h, w = 128, 256
    sun, el, y, truth = _warming_glow(h, w)
    truth *= np.array([1.4, 1.0, 1.0], np.float32)  # a redder glow: green and blue well under the clip in some of it
    blob = (truth.max(axis=-1) >= S.MEASURED_BELOW) & (el >= 0)
    rec = truth.copy()
    clipped = (truth >= S.MEASURED_BELOW) & blob[..., None]  # the 8-bit code 252.5 and above
    rec[clipped] = 1.3  # the reconstruction's expansion of the clipped channels: flat
    measured = blob[..., None] & ~clipped
    assert measured[..., 2].sum() > 50 and (clipped[..., 0] & measured[..., 2]).sum() > 50
    alpha = np.ones((h, w), np.float32)
    out = S.fill_glare(rec, blob, alpha, sun, white=1.0)
    # well under the clip they stay; a few codes under it (the sRGB code 0.9 and above) they are a lower bound
    # (JPEG's shared chroma pulls a saturated light's channels there: stop 21)
    low = measured & (rec < S.GLARE_NEAR_CLIP)
    assert low[..., 2].sum() > 50
    np.testing.assert_array_equal(out[low], rec[low])
    assert (out[measured] >= rec[measured]).all()
    assert (out[clipped] >= 1.0).all()
    every = S.fill_glare(rec, blob, alpha, sun)  # the trend alone, every channel recoloured
    part, full = clipped[..., 0] & measured[..., 2], clipped.all(axis=-1)
    err = lambda a, m: np.abs(np.log(a[..., 2] / a[..., 0]) - np.log(truth[..., 2] / truth[..., 0]))[m].mean()  # noqa: E731
    assert err(out, full) < 0.5 * err(rec, full), (err(out, full), err(rec, full))
    assert err(out, part) <= err(rec, part), (err(out, part), err(rec, part))
    # where green was measured and red clipped, red is green times the trend's ratio: the truth's, here
    gm = clipped[..., 0] & low[..., 1]
    assert gm.sum() > 50
    red_err = lambda a: np.median(np.abs(np.log(a[..., 0] / truth[..., 0]))[gm])  # noqa: E731
    assert red_err(out) < 0.05 < red_err(rec), (red_err(out), red_err(rec))
    assert np.abs(every[measured] - rec[measured]).max() > 0.05  # what keeping them prevents


def test_a_glare_clipped_in_every_channel_keeps_the_trends_hue(monkeypatch):
    """Where every channel of a glare pixel clipped, each is at least the clip level; until stop 25 a channel the warm
    trend put under it was raised alone (the README sample's dome: its blue lifted to white turned a peach glow
    lavender, B/G 1.0 where the truth's is 0.7-0.8).  Now the pixel rises at the trend's colour (by at most
    GLARE_CLIP_LIFT): over the fully clipped pixels the fill's log(B/G) is within 0.03 of the truth's (measured 0.008;
    raising the channel alone, GLARE_CLIP_LIFT = 1: 0.25) and every clipped channel is still at least white."""
    h, w = 128, 256
    sun, el, y, truth = _warming_glow(h, w, trend="sqrt")
    blob = (truth.max(axis=-1) >= S.MEASURED_BELOW) & (el >= 0)
    full = blob & (truth.min(axis=-1) >= S.MEASURED_BELOW)
    assert full.sum() > 50
    rec = truth.copy()
    rec[blob] = np.where(truth[blob] >= S.MEASURED_BELOW, 1.05, truth[blob])  # clipped channels expanded flat
    alpha = np.ones((h, w), np.float32)
    bg_err = lambda a: float(np.abs(np.log(a[..., 2] / a[..., 1]) - np.log(truth[..., 2] / truth[..., 1]))[full].mean())  # noqa: E731
    out = S.fill_glare(rec, blob, alpha, sun, white=1.0)
    assert (out[full] >= 1.0).all()
    monkeypatch.setattr(S, "GLARE_CLIP_LIFT", 1.0)
    alone = S.fill_glare(rec, blob, alpha, sun, white=1.0)
    print(f"log B/G error over the fully clipped pixels: {bg_err(out):.3f}, a channel raised alone {bg_err(alone):.3f}")
    assert bg_err(out) < 0.03 and bg_err(alone) > 0.1


def test_a_low_suns_glare_cut_by_the_horizon_still_brightens_and_warms_towards_the_sun():
    """A low sun's glow (5 deg up) whose clipped glare is cut off 3 deg above the horizon by a haze band at half the
    glow's brightness: the rim pixels under the sun are that band, not a fading glow.  Until stop 21 they anchored the
    fill next to the sun (the nearest rim), which stayed near the reconstruction's flat level there; since stop 21
    only the rim above the sun does (envmap/sun.py GLARE_RIM_ABOVE_SUN_DEG): within 8 deg of the sun the fill is at
    least 1.5x the reconstruction's dome (measured 1.69x; stop 20: 1.22x), its colour still the trend's."""
    h, w = 128, 256
    sun, el, y, truth = _warming_glow(h, w)
    band = (el >= 0) & (el < 3.0)
    truth[band] *= 0.5
    blob = (luminance(truth) > 1.5) & (el >= 3.0)
    assert (blob & (np.roll(band, -1, axis=0))).sum() > 5  # the glare sits on the haze band
    rec = truth.copy()
    rec[blob] = 1.6  # the reconstruction's dome: flat, white
    out = S.fill_glare(rec, blob, np.ones((h, w), np.float32), sun)
    d = equirect_directions(h, w)
    near = blob & (np.degrees(np.arccos(np.clip(d @ sun, -1, 1))) < 8.0)
    assert near.sum() > 10
    gain = float(np.median(luminance(out[near]) / luminance(rec[near])))
    rg = np.abs(np.log(out[..., 0] / out[..., 1]) - np.log(truth[..., 0] / truth[..., 1]))[near].mean()
    assert gain > 1.5 and rg < 0.1, (gain, rg)


def test_a_glares_near_white_channels_and_enclosed_specks_take_the_fill():
    """JPEG's shared chroma pulls a saturated light's channels a few codes under the clip: the README sample's sun
    reads 240, 249, 48 inside a glow clipped at 255, and next to it 250, 255, 91 where the truth's red is 5x its green.
    Kept as measured they were green dots and a speckle in the orange glow; since stop 21 a channel at the sRGB code
    0.9 or above (GLARE_NEAR_CLIP) in a glare pixel with a clipped channel, or in a pixel the glare encloses, is a
    lower bound: it takes the fill (at least its value); a channel well under it (blue, 0.5) stays."""
    h, w = 128, 256
    sun, el, y, truth = _warming_glow(h, w)
    blob = (truth.max(axis=-1) >= S.MEASURED_BELOW) & (el >= 0)
    rec = truth.copy()
    rec[blob] = np.maximum(rec[blob], 1.0) * 1.3  # clipped channels expanded flat
    d = equirect_directions(h, w)
    ang = np.degrees(np.arccos(np.clip(d @ sun, -1, 1)))
    i, j = np.unravel_index(int(np.argmin(np.where(blob, ang, np.inf))), ang.shape)
    i, j = i - 1, j  # one pixel above the sun: deep inside the glare
    assert blob[i - 2: i + 3, j - 2: j + 3].all()
    blob[i, j] = False  # an enclosed speck: every channel just under the clip
    rec[i, j] = [0.93, 0.93, 0.93]
    k = (i, j + 2)  # red pulled under the clip, green clipped, blue measured well below it
    rec[k] = [0.95, 1.3, 0.5]
    out = S.fill_glare(rec, blob, np.ones((h, w), np.float32), sun, white=1.0)
    around = out[i - 2: i + 3, j - 2: j + 3].reshape(-1, 3)
    assert luminance(out[i, j]) >= 0.9 * float(np.median(luminance(around)))
    assert abs(np.log(out[i, j, 0] / out[i, j, 1]) - np.median(np.log(around[:, 0] / around[:, 1]))) < 0.1
    assert out[k][0] > out[k][1] >= 1.0 and out[k][2] == pytest.approx(0.5)  # red above green, as the trend says


def test_the_readme_samples_hazy_glow_takes_the_skys_colour_and_its_sun_the_haze_prior(load_world):
    """The bundled sample (tools/make_sample.py: Blender's held-out sunset.exr, median 0.16, clipped, sRGB JPEG): its
    sun, 3.3 deg up behind haze, is ~50x dimmer than the best-fitting sky model says (spread 2.2 %), so up to stop 23
    no sun was added; since stop 24 its own pixels (blue 48 in a glow whose blue reads ~150, find_disc) place it
    within 0.2 deg of the truth's peak (the glare's centre was 16 deg off) and the haze prior sizes it: 2.4x the
    truth's disc (0.188 against 0.079; the training haze skies 0.09-5.2x).  Its glow is that sky's isophote (IoU 0.91)
    in a sky the models explain within 3.5-5 %: a hazy low sun's glow, whose colour is continued from the sky around
    it.  Inside the glow blue is still measured where red and green
    clip: the reconstruction keeps it (the default model's highlight_keep_measured, stop 16), which took the b/r
    error against the truth (warming towards the sun) from 0.52 (stop 15's pale lavender dome; the map's trend
    brought it to 0.46) to 0.33, and since stop 19 the reconstruction's clipped red continues the glow's own colour
    trend (highlights.ring_channel_estimate): b/r 0.30, g/r 0.186 (stop 18: 0.32, 0.22); since stop 20 its red and
    green, clipped where blue was measured, take the colour of the red-only rim on the same side of the sun (not the
    blue sky's beyond the dome; near-white pixels within the region size cap): b/r 0.226, g/r 0.116.  The map keeps
    those measured channels and holds clipped ones at least at white (the trend is fitted in the angle to the sun and
    the elevation, chosen on the training skies, bench/glare_colour.py): b/r 0.310, g/r 0.163 (stop 19: 0.324, 0.168);
    since stop 21 the trend is read over a band twice as wide (the colour changes with the angle to the sun, which the
    old band hardly spanned) and the fill is anchored on the rim above the sun, not on the horizon's haze band under
    it: b/r 0.155, g/r 0.050, and the glow brightens towards the sun (log luminance error 0.080, the reconstruction's
    0.126).  No colour edge where the last channel clips (99th percentile of |log R/G| and of |log B/G| between a
    fully and a partly clipped neighbour under 0.08; keeping the reconstruction's clipped red and green there, tried
    at stop 20, put an R/G edge of 0.24 there; stop 20's map had a B/G edge of 0.30, its warm band's measured blue
    against the dome's trend blue, ramped since stop 21); the map's energy stays within 3 % of the reconstruction's, between it and the truth's."""
    from PIL import Image

    from singlehdr.data import sample_path

    ldr = np.asarray(Image.open(sample_path()).convert("RGB"))
    h, w = ldr.shape[:2]
    truth = load_world("sunset", w)
    truth = truth * (0.16 / float(np.median(luminance(truth))))
    y = luminance(truth)
    i, j = np.unravel_index(int(np.argmax(y)), y.shape)
    ang = np.degrees(np.arccos(np.clip(equirect_directions(h, w) @ equirect_directions(h, w)[i, j], -1, 1)))
    res = make_envmap(ldr, EnvmapOptions(width=w))
    assert res.sun is not None and res.sun["method"].startswith("haze prior"), (res.notes, res.sun)
    assert angle_between_deg(res.sun["direction"], equirect_directions(h, w)[i, j]) < 0.5
    disc = ang < 1.0  # the truth's disc over its glow just outside
    true_sun = float(np.sum((luminance(truth) - np.median(luminance(truth)[(ang > 1.2) & (ang < 2.0)]))[disc]
                            * equirect_solid_angles(h, w)[disc]))
    assert 1.0 < res.sun["irradiance_luminance"] / true_sun < 4.0  # stop 24: 2.4 (the clear-sky fit: 49)
    assert any("behind haze" in n for n in res.notes)
    assert res.sun_assessment["features"]["hazy_glow"] > 0.5
    off = make_envmap(ldr, EnvmapOptions(width=w, sun="off")).hdr_linear
    glare = (ldr.max(axis=-1) >= 253) & (ang < 40) & (ang > 1.5)

    def chroma_err(a, k):  # log(B/R) (k = 2) or log(G/R) (k = 1) against the truth
        lr = lambda x: np.log(np.maximum(x[..., k], 1e-6) / np.maximum(x[..., 0], 1e-6))  # noqa: E731
        return float(np.mean(np.abs(lr(a) - lr(truth))[glare]))

    # stop 21 (the map's trend read over a band twice as wide, anchored on the rim above the sun): b/r 0.226 / 0.155,
    # g/r 0.116 / 0.050 (reconstruction / map; stop 20: map 0.310, 0.163; stop 19: 0.295 / 0.324, 0.186 / 0.168;
    # stop 18: 0.32 / 0.33, 0.22 / 0.17; stop 15: 0.52 / 0.46); stop 25 (the trend in the square root of the angle,
    # the pixel lifted at the trend's colour): map 0.129, 0.050
    assert chroma_err(off, 2) < 0.26 and chroma_err(res.hdr_without_sun, 2) < 0.2
    assert chroma_err(off, 1) < 0.15 and chroma_err(res.hdr_without_sun, 1) < 0.08

    def luma_err(a):  # the glow brightens towards the sun: log luminance against the truth (stop 21: 0.126 / 0.080;
        # stop 25: map 0.087)
        return float(np.mean(np.abs(np.log(np.maximum(luminance(a), 1e-6)) - np.log(luminance(truth)))[glare]))

    glow = res.hdr_without_sun  # the glow (the disc, inside 1.5 deg, is not in the glare mask either)
    assert luma_err(glow) < 0.1 < luma_err(off)
    full = (ldr >= 253).all(axis=-1)
    part = (ldr >= 253).any(axis=-1) & ~full
    for k in (0, 2):  # no colour edge where the last channel clips: log R/G (stop 20: 0.036) and log B/G (stop 21)
        lrg = np.log(np.maximum(glow[..., k], 1e-6) / np.maximum(glow[..., 1], 1e-6))
        edge = np.concatenate([np.abs(lrg - np.roll(lrg, sh, ax))[full & np.roll(part, sh, ax)]
                               for ax in (0, 1) for sh in (1, -1)])
        assert edge.size > 500 and np.percentile(edge, 99) < 0.08, (k, np.percentile(edge, 99))
    sat = ldr >= 253
    blue = sat[..., 0] & sat[..., 1] & ~sat[..., 2] & glare  # measured blue inside the glow: kept
    assert blue.sum() > 1000
    np.testing.assert_allclose(glow[blue, 2], off[blue, 2], rtol=1e-4)
    # its energy stays close to the reconstruction's, a little nearer the truth's (stop 21: 0.956 / 0.941 of it)
    assert _energy(off) < _energy(glow) < _energy(truth)
    assert _energy(glow) == pytest.approx(_energy(off), rel=0.03)


def test_a_low_sun_comes_with_a_haze_caveat(camera):
    """Stop 23: a sun added below LOW_SUN_CAVEAT_DEG says in the notes that haze may make it too strong (behind the
    haze bank's layers the fitted low sun was 2.5-91x the truth); a higher one, or one of a given intensity, does
    not."""
    expose, meter = camera
    for el, warned in ((5.0, True), (20.0, False)):
        env, _, _ = _table_sky(64, 128, 50.0, el, 0, 1, 1.0)
        ldr = expose(env, meter(env, 0.0))
        res = make_envmap(ldr, EnvmapOptions(width=128, reconstruct=REC, sun="on"))
        assert res.sun is not None and (res.sun["elevation_deg"] < S.LOW_SUN_CAVEAT_DEG) == warned
        assert any("ground haze can dim a low sun" in n for n in res.notes) == warned, res.notes
        if warned:
            given = make_envmap(ldr, EnvmapOptions(width=128, reconstruct=REC, sun="on", sun_intensity=3.0))
            assert not any("ground haze" in n for n in given.notes)


def test_find_disc_finds_a_sun_smaller_than_a_pixel():
    """Stop 25: in a map 512 wide a pixel is 0.7 deg, wider than the sun: its disc is blended with the glow, clipped
    in no more channels than the glow, but its least bright channel stands out (the haze bank's training skies at 512:
    1.54-2.92x the glow's and 0.32-0.65 above it; blue 240 in a glow whose blue reads 120).  A speck of up to
    DISC_SPECK_MAX_PX pixels whose least channel is at least DISC_SPECK[0] x and DISC_SPECK[1] above the glow's, and
    DISC_SPECK[0] x the median of the pixels right around it, is the sun; a fainter speck (1.33x, 0.15 above), a wider
    patch, or a pixel whose neighbours are nearly as bright is not."""
    ldr, clip, alpha, glare, where = _glare_with_spot((1.0, 1.0, 0.8))  # blue 0.8 in a glow whose blue is 0.45
    found = S.find_disc(ldr, clip, alpha, glare)
    assert found is not None and "smaller than a pixel" in found[1]["spot"]
    assert angle_between_deg(found[0], where) < 0.2 and found[1]["pixels"] == 4
    ldr, clip, alpha, glare, _ = _glare_with_spot((1.0, 0.9, 0.6))
    assert S.find_disc(ldr, clip, alpha, glare) is None
    ldr, clip, alpha, glare, _ = _glare_with_spot((1.0, 1.0, 0.8), radius_px=2)  # 16 pixels: a patch, not a speck
    assert S.find_disc(ldr, clip, alpha, glare) is None
    # a bright pixel that stands out from its 4 deg median but not from the pixels right around it (sky beside a dark
    # building: a training JPEG's horizon pair, 1.33x its ring, took a low sun 9 deg away): no sun
    ldr, clip, alpha, glare, where = _glare_with_spot((1.0, 0.75, 0.45))
    i, j = np.unravel_index(int(np.argmax(equirect_directions(*ldr.shape[:2]) @ where)), ldr.shape[:2])
    ldr[i, j] = (1.0, 1.0, 0.8)
    ldr[i - 1, j - 1: j + 2] = ldr[i, j - 1] = ldr[i, j + 1] = (1.0, 0.9, 0.66)  # 5 of its 8 neighbours nearly as bright
    assert S.find_disc(ldr, clip, alpha, glare) is None
    ldr[i - 1, j - 1: j + 2] = ldr[i, j - 1] = ldr[i, j + 1] = (1.0, 0.75, 0.45)  # the glow's all round: a sun's speck
    assert S.find_disc(ldr, clip, alpha, glare) is not None


def test_no_clear_sky_sun_in_a_red_glow(camera, monkeypatch):
    """Stop 23: a low sun whose sky 10-20 deg away is red (blue/red under HAZE_GLOW_BLUE_RED: a haze's aureole, the
    reddened sun's own light) gets no automatic clear-sky sun; the same sky with its own colour does, and
    ``sun="on"`` still adds one.  glow_blue_over_red reads the ring's median blue / red.  Stop 24: where its own
    pixels show (find_disc), such a sun gets the haze prior's strength (HAZY_SUN_OVER_AUREOLE x its glow's light
    1-10 deg around), weaker than the clear-sky fit's; where they do not, no sun and a note."""
    expose, meter = camera
    env, sun_dir, _ = _table_sky(128, 256, 50.0, 6.0, 0, 1, 1.0)
    d = equirect_directions(128, 256)
    ang = np.degrees(np.arccos(np.clip(d @ sun_dir, -1, 1)))
    red = env.copy()
    red[..., 2] *= 0.15 * red[..., 0] / np.maximum(red[..., 2], 1e-9)  # blue = 0.15 x red everywhere in the sky
    clip, alpha = np.zeros(ang.shape, np.float32), np.ones(ang.shape, np.float32)
    assert S.glow_blue_over_red(red, clip, alpha, sun_dir) == pytest.approx(0.15, rel=1e-3)
    assert S.glow_blue_over_red(env, clip, alpha, sun_dir) > S.HAZE_GLOW_BLUE_RED
    clear = make_envmap(expose(env, meter(env, 0.0)), EnvmapOptions(width=256, reconstruct=REC))
    assert clear.sun is not None and clear.sun["elevation_deg"] < S.LOW_SUN_CAVEAT_DEG, clear.notes
    ldr = expose(red, meter(red, 0.0))
    hazy = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC))
    assert hazy.sun is not None and hazy.sun["method"].startswith("haze prior"), (hazy.notes, hazy.sun)
    assert angle_between_deg(hazy.sun["direction"], sun_dir) < 1.0
    off = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC, sun="off"))  # the glow before any fill
    e = S.hazy_sun_irradiance(off.hdr_linear, off.alpha, np.asarray(hazy.sun["direction"]))[1]["aureole_irradiance_luminance"]
    assert hazy.sun["irradiance_luminance"] == pytest.approx(S.HAZY_SUN_OVER_AUREOLE * e, rel=1e-6)
    assert hazy.sun["irradiance_luminance"] < 0.5 * clear.sun["irradiance_luminance"] * meter(red, 0.0) / meter(env, 0.0)
    monkeypatch.setattr(S, "find_disc", lambda *a, **k: None)  # the sun's own pixels unseen: no sun, a note
    unseen = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC))
    assert unseen.sun is None and any("red glow" in n for n in unseen.notes), (unseen.notes, unseen.sun_assessment.get("confidence"))
    assert make_envmap(ldr, EnvmapOptions(width=256, reconstruct=REC, sun="on")).sun is not None


def _glare_with_spot(spot_rgb, radius_px=1):
    """A 256x512 map's encoded pixels: sky 0.5 grey, a glare 12 deg around (az 30, el 5) clipped in red only (green
    0.75, blue 0.45) and at (az 33, el 4) a spot of ``spot_rgb`` (radius_px around it); the glare's region."""
    h, w = 256, 512
    d = equirect_directions(h, w)
    centre, spot = direction_from_angles(30.0, 5.0), direction_from_angles(33.0, 4.0)
    ldr = np.full((h, w, 3), 0.5, np.float32)
    glare = np.degrees(np.arccos(np.clip(d @ centre, -1, 1))) < 12.0
    ldr[glare] = (1.0, 0.75, 0.45)
    i, j = np.unravel_index(int(np.argmax(d @ spot)), (h, w))
    ldr[i - radius_px + 1:i + radius_px + 1, j - radius_px + 1:j + radius_px + 1] = spot_rgb
    clip = (ldr.max(axis=-1) >= 0.99).astype(np.float32)
    return ldr, clip, np.ones((h, w), np.float32), glare, d[i, j] + d[i + 1, j + 1]


def test_find_disc_finds_the_suns_own_pixels_in_its_glare():
    """Stop 24: inside a glare clipped in red only, the sun's own pixels are a spot clipped in every channel (a sun
    behind haze), or a spot whose least bright channel is far under the glow's (a sun redder than its glow, as in the
    README sample: blue 48 in a glow whose blue reads ~150).  find_disc returns the spot's centre; nothing where the
    glare has no spot or the spot is wider than a sun's pixels (DISC_MAX_RADIUS_DEG)."""
    for spot_rgb, kind in (((1.0, 1.0, 1.0), "clipped in every channel"), ((1.0, 1.0, 0.1), "least bright")):
        ldr, clip, alpha, glare, where = _glare_with_spot(spot_rgb)
        found = S.find_disc(ldr, clip, alpha, glare)
        assert found is not None and kind in found[1]["spot"]
        assert angle_between_deg(found[0], where) < 0.2 and found[1]["pixels"] == 4
    ldr, clip, alpha, glare, _ = _glare_with_spot((1.0, 0.75, 0.45))  # no spot
    assert S.find_disc(ldr, clip, alpha, glare) is None
    ldr, clip, alpha, glare, _ = _glare_with_spot((1.0, 1.0, 1.0), radius_px=5)  # 3.5 deg wide: no sun's pixels
    assert S.find_disc(ldr, clip, alpha, glare) is None
