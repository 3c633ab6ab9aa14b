"""Hand-computed pixels for the training-free operators."""

from __future__ import annotations

import numpy as np
import pytest

from singlehdr.classical import METHODS, expand, kovaleski_bef
from singlehdr.classical.bilateral import cross_bilateral
from singlehdr.errors import SingleHDRError


def const(v, h=8, w=8):
    return np.full((h, w, 3), v, np.float32)


def test_inverse_srgb_known_pixels():
    out = expand("inverse-srgb", const(0.5))
    # ((0.5 + 0.055) / 1.055) ** 2.4 = 0.214041
    np.testing.assert_allclose(out, 0.214041, atol=1e-5)
    np.testing.assert_allclose(expand("inverse-srgb", const(1.0)), 1.0, atol=1e-6)
    # linear segment: 0.04 / 12.92
    np.testing.assert_allclose(expand("inverse-srgb", const(0.04)), 0.04 / 12.92, rtol=1e-5)


def test_akyuz_linear_scaling_hand_computed():
    img = np.zeros((2, 2, 3), np.float32)
    img[0, 0] = 1.0  # white: L = 1 -> peak
    img[0, 1] = 0.5  # grey: L = 0.214041 -> 10 * 0.214041
    img[1, 0] = [1.0, 0.0, 0.0]  # red: L = 0.2126 -> keeps chromaticity
    out = expand("akyuz", img)  # L_min = 0, L_max = 1, k = 10, gamma = 1
    np.testing.assert_allclose(out[0, 0], 10.0, rtol=1e-5)
    np.testing.assert_allclose(out[0, 1], 2.14041, rtol=1e-4)
    np.testing.assert_allclose(out[1, 0], [10.0, 0.0, 0.0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out[1, 1], 0.0)


def test_akyuz_gamma_and_min_max():
    img = np.zeros((1, 3, 3), np.float32)
    img[0, 0] = 0.5  # L = 0.214041 (min)
    img[0, 1] = 1.0  # L = 1 (max)
    img[0, 2] = 0.8  # L = ((0.855/1.055)**2.4)
    lmid = ((0.8 + 0.055) / 1.055) ** 2.4
    lmin = ((0.5 + 0.055) / 1.055) ** 2.4
    out = expand("akyuz", img, peak=5.0, gamma=2.2)
    expect = 5.0 * ((lmid - lmin) / (1 - lmin)) ** 2.2
    np.testing.assert_allclose(out[0, 2], expect, rtol=1e-4)
    np.testing.assert_allclose(out[0, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[0, 1], 5.0, rtol=1e-5)


def test_kovaleski_no_saturation_is_inverse_srgb():
    np.testing.assert_allclose(expand("kovaleski", const(0.5)), 0.214041, atol=1e-5)


def test_kovaleski_full_saturation_boosts_four_times():
    np.testing.assert_allclose(expand("kovaleski", const(1.0)), 4.0, rtol=1e-5)


def test_kovaleski_map_is_edge_aware():
    # left half saturated white, right half dark: the boost stays on the left
    img = np.full((32, 64, 3), 0.1, np.float32)
    img[:, :32] = 1.0
    bef = kovaleski_bef(img, sigma_s=20.0)
    assert bef[:, :28].min() > 0.9
    assert bef[:, 36:].max() < 0.05
    out = expand("kovaleski", img, sigma_s=20.0)
    assert out[16, 5, 0] > 3.6
    np.testing.assert_allclose(out[16, 60], ((0.1 + 0.055) / 1.055) ** 2.4, rtol=0.05)


def test_kovaleski_small_highlight_partial_boost():
    # a 4x4 saturated spot in a mid-grey field: spread by the filter, so
    # the spot is boosted less than 4x but more than 1x
    img = np.full((64, 64, 3), 0.9, np.float32)  # 0.9 < 230/255 = 0.902
    img[30:34, 30:34] = 1.0
    out = expand("kovaleski", img, sigma_s=10.0)
    assert 1.0 < out[31, 31, 0] < 4.0
    far = ((0.9 + 0.055) / 1.055) ** 2.4
    assert out[0, 0, 0] >= far - 1e-6


def test_cross_bilateral_constant_and_step():
    guide = np.zeros((20, 40), np.float32)
    np.testing.assert_allclose(cross_bilateral(np.full((20, 40), 0.7), guide, 5, 0.1), 0.7, rtol=1e-5)
    guide[:, 20:] = 1.0
    vals = guide.copy()
    out = cross_bilateral(vals, guide, 10.0, 0.1)
    assert out[:, :18].max() < 1e-3 and out[:, 22:].min() > 0.999


@pytest.mark.parametrize("method", list(METHODS))
def test_all_methods_shape_dtype_nonnegative(method):
    rng = np.random.default_rng(0)
    img = rng.random((17, 23, 3), dtype=np.float32)
    out = expand(method, img)
    assert out.shape == (17, 23, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and np.isfinite(out).all()
    # monotone in the input for the pure per-pixel operator
    if method == "inverse-srgb":
        assert np.all(np.diff(np.sort(out.ravel())) >= 0)


def test_uint8_input_scaled():
    np.testing.assert_allclose(expand("inverse-srgb", np.full((2, 2, 3), 255, np.uint8)), 1.0, atol=1e-6)


def test_errors():
    with pytest.raises(SingleHDRError, match="unknown classical method"):
        expand("magic", const(0.5))
    with pytest.raises(SingleHDRError, match=r"\(H, W, 3\)"):
        expand("akyuz", np.zeros((4, 4), np.float32))
    with pytest.raises(SingleHDRError, match="bad parameter"):
        expand("akyuz", const(0.5), nonsense=1)
