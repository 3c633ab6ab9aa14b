"""Camera RAW / DNG: linear, white balanced, black/white levels, the sensor clip point (singlehdr.io.raw)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from singlehdr.errors import SingleHDRError

rawpy = pytest.importorskip("rawpy")
pytest.importorskip("tifffile")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from make_test_dng import sensor_mosaic, write_dng  # noqa: E402

from singlehdr.io.raw import read_raw  # noqa: E402

DATA = Path(__file__).parent / "data"


def patches() -> np.ndarray:
    """(32, 48, 3): a 0.2/0.3/0.4 field, a dark 0.05/0.1/0.02 band, a saturating 3.0 block."""
    hdr = np.zeros((32, 48, 3), np.float32)
    hdr[:] = [0.2, 0.3, 0.4]
    hdr[:, :16] = [0.05, 0.1, 0.02]
    hdr[8:16, 30:40] = [3.0, 3.0, 3.0]
    return hdr


def test_dng_reads_back_linear_white_balanced_no_tone_curve(tmp_path):
    m, black, white = sensor_mosaic(patches(), bits=14, neutral=(0.5, 1.0, 0.7))
    assert m[0, 20] == round(black + 0.2 * 0.5 * (white - black))  # the red photosite before white balance
    path = write_dng(tmp_path / "p.dng", m, black, white, neutral=(0.5, 1.0, 0.7), exposure_time=0.01, f_number=8.0)
    raw = read_raw(path)
    assert raw.hdr_linear.shape == (32, 48, 3) and raw.hdr_linear.dtype == np.float32
    assert raw.black_level == [1024.0] * 4 and raw.white_level == [16383.0] * 4
    assert raw.wb_multipliers[:3] == pytest.approx([2.0, 1.0, 1 / 0.7], rel=1e-4)
    # linear and white balanced: the patches come back (14-bit steps, interior pixels away from edges)
    assert np.allclose(raw.hdr_linear[20, 24], [0.2, 0.3, 0.4], rtol=2e-3)
    assert np.allclose(raw.hdr_linear[20, 6], [0.05, 0.1, 0.02], rtol=5e-3)
    assert raw.exif["ExposureTime"] == pytest.approx(0.01) and raw.exif["FNumber"] == 8.0


def test_clip_mask_is_the_sensor_clip(tmp_path):
    m, black, white = sensor_mosaic(patches(), bits=12)
    raw = read_raw(write_dng(tmp_path / "c.dng", m, black, white))
    block = np.zeros((32, 48), bool)
    block[8:16, 30:40] = True
    grown = np.zeros_like(block)
    grown[7:17, 29:41] = True  # one photosite of demosaic reach
    assert np.array_equal(raw.clip, grown)
    assert np.allclose(raw.hdr_linear[9:15, 31:39], 1.0)  # held at the clip point: 1.0 = sensor saturation
    half = read_raw(tmp_path / "c.dng", half_size=True)
    assert half.hdr_linear.shape == (16, 24, 3)
    assert np.array_equal(half.clip, block[::2, ::2])  # one pixel per Bayer quad, no demosaic spread
    assert np.allclose(half.hdr_linear[10, 12], [0.2, 0.3, 0.4], rtol=2e-3)


def test_bundled_dng():
    """tests/merge/data/courtyard_96x48.dng: made by tools/make_test_dng.py from Blender's CC0 courtyard.exr."""
    raw = read_raw(DATA / "courtyard_96x48.dng")
    assert raw.hdr_linear.shape == (48, 96, 3)
    assert 0.001 < raw.clip.mean() < 0.3  # the sky and sun saturate the sensor at this exposure
    assert raw.hdr_linear[raw.clip].max() == pytest.approx(1.0, abs=1e-4)
    assert raw.hdr_linear[~raw.clip].max() < 1.0


def test_unreadable_raw_is_one_line(tmp_path):
    bad = tmp_path / "x.nef"
    bad.write_bytes(b"this is not a raw file" * 10)
    with pytest.raises(SingleHDRError, match=r"^cannot read x.nef as camera RAW: LibRaw says") as ei:
        read_raw(bad)
    assert "\n" not in str(ei.value)
    empty = tmp_path / "e.dng"
    empty.write_bytes(b"")
    with pytest.raises(SingleHDRError, match="e.dng is empty"):
        read_raw(empty)


def test_missing_rawpy_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rawpy", None)  # as if the extra were not installed
    with pytest.raises(SingleHDRError, match=r"needs rawpy; install it with: pip install 'singlehdr\[raw\]'"):
        read_raw(DATA / "courtyard_96x48.dng")
