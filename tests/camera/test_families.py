"""Camera-curve families used by `singlehdr evaluate --families`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from singlehdr.camera.crf import is_valid_curve, srgb_curve
from singlehdr.camera.families import FAMILIES, FILM_VIEWS, draw_curve, phone_curve, view_curve


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_draws_valid_curves_deterministically(family):
    a = [draw_curve(family, np.random.default_rng(s)) for s in range(6)]
    b = [draw_curve(family, np.random.default_rng(s)) for s in range(6)]
    for (na, fa), (nb, fb) in zip(a, b):
        assert na == nb and np.array_equal(fa, fb)
        assert fa.shape == (1024,) and is_valid_curve(fa)


def test_named_family_shapes():
    np.testing.assert_array_equal(draw_curve("srgb", np.random.default_rng(0))[1], srgb_curve())
    name, f = draw_curve("gamma", np.random.default_rng(0))
    gm = float(name.split("-")[1])
    assert 1.8 <= gm <= 2.6
    np.testing.assert_allclose(f[512], (512 / 1023) ** (1 / gm), rtol=1e-3)
    # a contrast S darkens the shadows and brightens the highlights of sRGB; a toe lifts the shadows
    s = srgb_curve()
    c = phone_curve("contrast", 1.5)
    assert c[100] < s[100] and c[900] > s[900]
    t = phone_curve("toe", 0.5)
    assert t[50] > s[50] + 0.05


def test_film_views_are_s_curves_with_a_long_shoulder():
    for v in FILM_VIEWS:
        f = view_curve(v)
        # white is reached 4-7 stops above the exposure where the curve is at 0.5
        x_half = np.interp(0.5, f, np.linspace(0, 1, 1024))
        assert 2 ** -8 < x_half < 2 ** -3, (v, x_half)
    # Narkowicz: y(x) = x(2.51x + 0.03) / (x(2.43x + 0.59) + 0.14), then sRGB; white at x_w = 7.24
    f = view_curve("ACES (Narkowicz)")
    x = 0.1 * 7.2416
    y = x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)
    assert f[round(0.1 * 1023)] == pytest.approx(1.055 * y ** (1 / 2.4) - 0.055, abs=2e-3)


def test_view_tables_match_opencolorio_on_blenders_config():
    ocio = pytest.importorskip("PyOpenColorIO")
    bpy_dir = pytest.importorskip("bpy")  # noqa: F841  (only its data files are read)
    import bpy

    cfg_path = Path(bpy.utils.system_resource("DATAFILES", path="colormanagement")) / "config.ocio"
    if not cfg_path.is_file():
        pytest.skip("Blender's OCIO config not found")
    from singlehdr.camera.view_curves import CURVES, LOG2_MIN, STEP

    cfg = ocio.Config.CreateFromFile(str(cfg_path))
    for view in ("Filmic", "AgX", "ACES 1.3"):
        proc = cfg.getProcessor(ocio.DisplayViewTransform(src=cfg.getRoleColorSpace("scene_linear"), display="sRGB", view=view)).getDefaultCPUProcessor()
        idx = np.array([40, 100, 112, 130, 160])
        rgb = np.repeat((2.0 ** (LOG2_MIN + STEP * idx))[:, None], 3, 1).astype(np.float32).copy()
        proc.applyRGB(rgb)
        np.testing.assert_allclose(np.asarray(CURVES[view])[idx], np.clip(rgb.mean(1), 0, 1), atol=2e-6)
