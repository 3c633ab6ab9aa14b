"""Tone mapping, brackets and false colour against hand-computed pixels."""

import numpy as np
import pytest
from PIL import Image

from singlehdr.errors import SingleHDRError
from singlehdr.preview import (auto_exposure, exposure_brackets, false_colour, false_colour_with_legend, legend,
                               luminance, tonemap, write_preview)
from singlehdr.preview.falsecolor import palette


def px(v):
    return np.array(v, np.float32).reshape(1, 1, 3)


def test_luminance_bt709():
    assert luminance(px([1, 0, 0]))[0, 0] == pytest.approx(0.2126)
    assert luminance(px([1, 1, 1]))[0, 0] == pytest.approx(1.0)


def test_reinhard_hand_computed():
    # grey 1.0: 1/(1+1) = 0.5 -> sRGB 1.055 * 0.5^(1/2.4) - 0.055 = 0.735357
    np.testing.assert_allclose(tonemap(px([1, 1, 1])), 0.735357, atol=1e-5)
    # (0.5, 0.25, 0): Y = 0.2851, ratio 1/1.2851 = 0.778150 -> sRGB(0.389075) = 0.656923, sRGB(0.194537) = 0.478339
    np.testing.assert_allclose(tonemap(px([0.5, 0.25, 0.0]))[0, 0], [0.656923, 0.478339, 0.0], atol=1e-5)
    # huge values approach white, never exceed 1
    assert tonemap(px([1e6, 1e6, 1e6])).max() <= 1.0 and tonemap(px([1e6] * 3)).min() > 0.999


def test_clip_and_exposure():
    # 0.25 at -1 EV = 0.125 -> sRGB 1.055 * 0.125^(1/2.4) - 0.055 = 0.388573
    np.testing.assert_allclose(tonemap(px([0.25] * 3), -1.0, "clip"), 0.388573, atol=1e-5)
    np.testing.assert_allclose(tonemap(px([4.0, -1.0, 0.5]), 1.0, "clip")[0, 0], [1.0, 0.0, 1.0], atol=1e-6)
    with pytest.raises(SingleHDRError, match="operator"):
        tonemap(px([1, 1, 1]), operator="aces")
    with pytest.raises(SingleHDRError, match="NaN"):
        tonemap(px([np.nan, 0, 0]))


def test_brackets_and_auto_exposure():
    hdr = px([0.5, 0.5, 0.5])
    br = exposure_brackets(hdr, stops=(-1, 0, 1))
    assert [ev for ev, _ in br] == [-1.0, 0.0, 1.0]
    np.testing.assert_allclose(br[2][1], 1.0)  # 0.5 * 2 = 1.0 -> white
    np.testing.assert_allclose(br[0][1], tonemap(px([0.25] * 3), 0, "clip"))
    # log-average of a constant image is the constant: EV = log2(0.18 / 0.72) = -2
    assert auto_exposure(np.full((4, 4, 3), 0.72, np.float32)) == pytest.approx(-2.0, abs=1e-4)


def test_false_colour_bins_and_legend():
    pal = palette(15)  # ev -6 .. +8
    hdr = np.concatenate([px([0.18] * 3), px([0.18 * 8] * 3), px([0, 0, 0]), px([1e5] * 3)], axis=1)
    fc = false_colour(hdr, -6, 8)
    np.testing.assert_allclose(fc[0, 0], pal[6])  # 0 stops = middle grey
    np.testing.assert_allclose(fc[0, 1], pal[9])  # +3 stops
    np.testing.assert_allclose(fc[0, 2], pal[0])  # black -> lowest bin
    np.testing.assert_allclose(fc[0, 3], pal[14])  # far above -> top bin
    leg = legend(150, -6, 8)
    assert leg.shape == (28, 150, 3) and leg.dtype == np.uint8
    assert tuple(leg[2, 3]) == tuple((pal[0] * 255 + 0.5).astype(np.uint8))  # first swatch, off the label
    assert false_colour_with_legend(np.full((10, 150, 3), 0.18, np.float32)).shape == (38, 150, 3)


def test_write_preview_png(tmp_path):
    out = write_preview(tmp_path / "p.png", np.full((4, 6, 3), 1.0, np.float32))
    got = np.asarray(Image.open(out))
    assert got.shape == (4, 6, 3) and int(got[0, 0, 0]) == round(0.735357 * 255)
    with pytest.raises(SingleHDRError, match="already exists"):
        write_preview(out, np.ones((4, 6, 3), np.float32))
