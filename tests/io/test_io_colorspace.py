"""Colour-space conversions against published matrices."""

import numpy as np
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io.colorspace import COLORSPACES, conversion_matrix, convert_linear


def rgb_to_xyz(chroma):
    """RGB->XYZ matrix from xy primaries + white (SMPTE RP 177-1993, section 3.3)."""
    rx, ry, gx, gy, bx, by, wx, wy = chroma
    prim = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in ((rx, ry), (gx, gy), (bx, by))]).T
    white = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
    return prim * np.linalg.solve(prim, white)


def test_rec709_to_acescg_matches_published_matrix():
    # ACEScg from linear sRGB, Bradford-adapted D65 -> ACES white (ACES TB-2014-004 / OCIO ACES config)
    m = conversion_matrix("lin_rec709", "acescg")
    np.testing.assert_allclose(m[0], [0.6131, 0.3395, 0.0474], atol=2e-4)
    np.testing.assert_allclose(m[1], [0.0702, 0.9164, 0.0135], atol=2e-4)
    np.testing.assert_allclose(m[2], [0.0206, 0.1096, 0.8698], atol=2e-4)


def test_acescg_to_aces2065_matches_ap1_to_ap0():
    # S-2014-004 (ACEScg), AP1 -> AP0 matrix
    ref = [[0.6954522414, 0.1406786965, 0.1638690622],
           [0.0447945634, 0.8596711185, 0.0955343182],
           [-0.0055258826, 0.0040252103, 1.0015006723]]
    np.testing.assert_allclose(conversion_matrix("acescg", "aces2065_1"), ref, atol=2e-4)


def test_rec709_to_rec2020_matches_chromaticities_and_bt2087():
    m = conversion_matrix("lin_rec709", "lin_rec2020")
    # ITU-R BT.2087-0, eq. (1)
    np.testing.assert_allclose(m, [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]], atol=2e-4)
    # and the same from our stored chromaticities (same D65 white: no adaptation)
    ours = np.linalg.solve(rgb_to_xyz(COLORSPACES["lin_rec2020"].chromaticities),
                           rgb_to_xyz(COLORSPACES["lin_rec709"].chromaticities))
    np.testing.assert_allclose(m, ours, atol=5e-4)


def test_ap1_chromaticities_match_ocio_to_ap0():
    # AP1 -> AP0 computed from our chromaticities (same ACES white) equals OCIO's matrix
    ours = np.linalg.solve(rgb_to_xyz(COLORSPACES["aces2065_1"].chromaticities),
                           rgb_to_xyz(COLORSPACES["acescg"].chromaticities))
    np.testing.assert_allclose(conversion_matrix("acescg", "aces2065_1"), ours, atol=5e-4)


def test_convert_linear_pixels_white_and_round_trip():
    rng = np.random.default_rng(1)
    hdr = (rng.random((5, 7, 3)) * 100).astype(np.float32)
    out = convert_linear(hdr, "lin_rec709", "acescg")
    assert out.shape == hdr.shape and out.dtype == np.float32
    m = conversion_matrix("lin_rec709", "acescg")
    np.testing.assert_allclose(out, hdr @ m.T, rtol=1e-5, atol=1e-4)
    # white stays white (the configs adapt white to white)
    np.testing.assert_allclose(convert_linear(np.ones((1, 1, 3), np.float32), "lin_rec709", "aces2065_1"), 1.0, atol=1e-4)
    back = convert_linear(out, "acescg", "lin_rec709")
    np.testing.assert_allclose(back, hdr, rtol=1e-4, atol=1e-3)
    assert convert_linear(hdr, "acescg", "acescg") is not hdr


def test_unknown_colorspace_is_user_error():
    with pytest.raises(SingleHDRError, match="colour space"):
        convert_linear(np.zeros((1, 1, 3), np.float32), "lin_rec709", "srgb")
