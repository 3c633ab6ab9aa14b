"""Radiance RGBE: known encodings, RLE, round trips, OpenImageIO agreement."""

import numpy as np
import OpenImageIO as oiio
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_hdr, write_hdr
from singlehdr.io.radiance import _encode_channel, decode_pixels, encode_rle, float_to_rgbe, rgbe_to_float


def test_rgbe_known_values():
    # 1.0 = 0.5 * 2^1 -> mantissa 128, exponent 1 + 128 = 129 (Ward, Graphics Gems II)
    hdr = np.array([[[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [3.0, 1.5, 0.75]]], np.float32)
    rgbe = float_to_rgbe(hdr)
    assert rgbe[0, 0].tolist() == [128, 64, 0, 129]
    assert rgbe[0, 1].tolist() == [0, 0, 0, 0]
    assert rgbe[0, 2].tolist() == [192, 96, 48, 130]  # 3 = 0.75 * 2^2
    np.testing.assert_array_equal(rgbe_to_float(rgbe), hdr)


def test_rle_channel_encoding_by_hand():
    row = np.array([7] * 6 + [1, 2, 3] + [9] * 4, np.uint8)
    # run of 6 -> (128+6, 7); literal of 3 -> (3, 1, 2, 3); run of 4 -> (132, 9)
    assert _encode_channel(row) == bytes([134, 7, 3, 1, 2, 3, 132, 9])
    long = np.full(300, 5, np.uint8)
    assert _encode_channel(long) == bytes([255, 5, 255, 5, 128 + 46, 5])


@pytest.mark.parametrize("width", [5, 8, 40, 300])
def test_rle_round_trip(rng, width):
    rgbe = rng.integers(0, 4, size=(3, width, 4), dtype=np.uint8)  # many short runs
    rgbe[1, : width // 2] = 200  # a long run
    assert np.array_equal(decode_pixels(encode_rle(rgbe), 3, width), rgbe)


def test_round_trip_within_rgbe_precision_and_oiio(tmp_path, hdr_image):
    path = write_hdr(tmp_path / "a.hdr", hdr_image, attributes={"singlehdr:model_id": "m1"})
    got, meta = read_hdr(path)
    err = np.abs(got - hdr_image) / hdr_image.max(axis=2, keepdims=True)
    assert err.max() < 1 / 128
    assert meta["compression"] == "rle" and meta["colorspace"] == "lin_rec709"
    assert meta["attributes"]["singlehdr:model_id"] == "m1"
    buf = oiio.ImageBuf(str(path))
    px = buf.get_pixels(oiio.FLOAT)
    assert px.shape == hdr_image.shape
    np.testing.assert_array_equal(px, got)


def test_reads_oiio_written_hdr(tmp_path, hdr_image):
    buf = oiio.ImageBuf(oiio.ImageSpec(hdr_image.shape[1], hdr_image.shape[0], 3, oiio.FLOAT))
    buf.set_pixels(oiio.ROI(), hdr_image)
    assert buf.write(str(tmp_path / "o.hdr"))
    got, _ = read_hdr(tmp_path / "o.hdr")
    err = np.abs(got - hdr_image) / hdr_image.max(axis=2, keepdims=True)
    assert err.max() < 1 / 128


def test_negative_clipped_and_truncated(tmp_path, hdr_image):
    neg = hdr_image.copy()
    neg[0, 0] = (-1.0, 2.0, 0.0)
    got, _ = read_hdr(write_hdr(tmp_path / "n.hdr", neg))
    assert got[0, 0].tolist() == [0.0, 2.0, 0.0]
    data = (tmp_path / "n.hdr").read_bytes()
    (tmp_path / "t.hdr").write_bytes(data[: len(data) // 2])
    with pytest.raises(SingleHDRError, match="truncated or corrupt"):
        read_hdr(tmp_path / "t.hdr")
