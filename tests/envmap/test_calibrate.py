"""Exposure calibration: hand-computed values of the documented formulas."""

import math

import numpy as np
import pytest

from singlehdr.envmap.calibrate import absolute_scale, ev100, exif_exposure, exposure_scale, luminance, median_scale
from singlehdr.errors import SingleHDRError
from singlehdr.types import LDRImage


def _ldr(exif=None, alpha=None):
    return LDRImage(pixels=np.zeros((4, 4, 3), np.float32), exif=exif or {}, alpha=alpha)


def test_relative_is_one():
    assert exposure_scale(np.ones((4, 4, 3), np.float32), _ldr(), "relative") == 1.0


def test_ev100_sunny16():
    # f/16, 1/100 s, ISO 100: log2(256 * 100) = 14.644
    assert ev100(16, 0.01, 100) == pytest.approx(math.log2(25600), abs=1e-12)
    # doubling ISO lowers EV100 by exactly one stop
    assert ev100(16, 0.01, 200) == pytest.approx(ev100(16, 0.01, 100) - 1.0)


def test_absolute_hand_value():
    # f/8, 1/125 s, ISO 100: N^2/t = 8000 -> L_avg = 8000 * 12.5 / 100 = 1000 cd/m^2 at pixel 0.18
    ldr = _ldr({"FNumber": 8.0, "ExposureTime": "1/125", "ISO": 100})
    s = exposure_scale(np.ones((4, 4, 3), np.float32), ldr, "absolute")
    assert s == pytest.approx(1000.0 / 0.18, rel=1e-9)
    assert 0.18 * s == pytest.approx(1000.0, rel=1e-9)
    assert absolute_scale(8.0, 1 / 125, 100) == pytest.approx(s)


def test_exif_value_forms():
    n, t, s = exif_exposure({"FNumber": (28, 10), "ExposureTime": b"1/60", "ISOSpeedRatings": [400]})
    assert (n, t, s) == (pytest.approx(2.8), pytest.approx(1 / 60), 400.0)
    # APEX fallbacks: Av = 4 -> N = 4; Tv = 7 -> t = 1/128
    n, t, _ = exif_exposure({"ApertureValue": 4.0, "ShutterSpeedValue": 7.0})
    assert n == pytest.approx(4.0) and t == pytest.approx(1 / 128)


def test_absolute_missing_exif_says_what_to_do():
    with pytest.raises(SingleHDRError) as e:
        exposure_scale(np.ones((4, 4, 3), np.float32), _ldr({"FNumber": 2.0}), "absolute")
    msg = str(e.value)
    assert msg.startswith("absolute exposure needs EXIF ExposureTime, ISO but")
    assert "--exposure median" in msg


def test_median_scale_hits_target():
    rng = np.random.default_rng(0)
    hdr = rng.uniform(0.0, 4.0, (9, 11, 3)).astype(np.float32)
    s = exposure_scale(hdr, _ldr(), "median", 0.5)
    assert float(np.median(luminance(hdr * s))) == pytest.approx(0.5, rel=1e-5)


def test_median_ignores_transparent_pixels():
    hdr = np.ones((2, 2, 3), np.float32)
    hdr[0, 0] = 100.0
    alpha = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
    # only the 100.0 pixel counts -> scale 0.18 / 100
    assert median_scale(hdr, 0.18, alpha) == pytest.approx(0.0018, rel=1e-6)


def test_median_black_image_errors():
    with pytest.raises(SingleHDRError):
        exposure_scale(np.zeros((4, 4, 3), np.float32), _ldr(), "median", 0.18)
