"""EXR writing/reading with the official bindings, checked by OpenImageIO."""

import numpy as np
import OpenImageIO as oiio
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_hdr, write_hdr
from singlehdr.io.colorspace import COLORSPACES


def oiio_read(path):
    """(pixels float32 (H, W, C), spec) via OpenImageIO, an independent reader."""
    buf = oiio.ImageBuf(str(path))
    px = buf.get_pixels(oiio.FLOAT)
    assert px is not None, oiio.geterror()
    return px, buf.spec()


@pytest.mark.parametrize("compression", ["zip", "piz", "none"])
@pytest.mark.parametrize("half", [True, False])
def test_lossless_round_trip_bit_exact_and_oiio(tmp_path, hdr_image, compression, half):
    path = tmp_path / f"out_{compression}_{half}.exr"
    write_hdr(path, hdr_image, half=half, compression=compression)
    expected = hdr_image.astype(np.float16).astype(np.float32) if half else hdr_image
    got, meta = read_hdr(path)
    assert got.dtype == np.float32 and got.shape == hdr_image.shape
    assert np.array_equal(got, expected)
    assert meta["compression"] == compression
    assert meta["pixel_type"] == ("half" if half else "float")
    assert meta["alpha"] is None
    px, spec = oiio_read(path)
    assert spec.nchannels == 3 and list(spec.channelnames) == ["R", "G", "B"]
    assert spec.format == (oiio.HALF if half else oiio.FLOAT)
    assert np.array_equal(px, expected)
    assert spec.get_string_attribute("compression") == compression


def test_rgba_and_values_above_one(tmp_path, hdr_image, rng):
    alpha = rng.random(hdr_image.shape[:2]).astype(np.float32)
    path = write_hdr(tmp_path / "rgba.exr", hdr_image, alpha=alpha, half=False)
    got, meta = read_hdr(path)
    assert np.array_equal(meta["alpha"], alpha)
    px, spec = oiio_read(path)
    assert list(spec.channelnames) == ["R", "G", "B", "A"]
    assert np.array_equal(px[..., 3], alpha)
    assert px[..., :3].max() > 100.0


def test_half_clips_to_half_range_not_inf(tmp_path):
    hdr = np.full((2, 2, 3), 1e6, np.float32)
    got, _ = read_hdr(write_hdr(tmp_path / "big.exr", hdr, half=True))
    assert np.all(got == 65504.0)


def test_lossy_dwaa_close(tmp_path, rng):
    hdr = (rng.random((32, 32, 3)) * 4).astype(np.float32)
    got, meta = read_hdr(write_hdr(tmp_path / "d.exr", hdr, compression="dwaa"))
    assert meta["compression"] == "dwaa"
    assert np.abs(got - hdr).mean() < 0.05


@pytest.mark.parametrize("key", list(COLORSPACES))
def test_chromaticities_and_provenance_attributes(tmp_path, hdr_image, key):
    attrs = {"singlehdr:model_id": "singlehdr-full-v1", "singlehdr:exposure_scale": 2.5,
             "singlehdr:version": "0.1.0", "singlehdr:frames": [1, 2]}
    path = write_hdr(tmp_path / "a.exr", hdr_image, colorspace=key, attributes=attrs)
    _, meta = read_hdr(path)
    assert meta["colorspace"] == key
    np.testing.assert_allclose(meta["chromaticities"], COLORSPACES[key].chromaticities, atol=1e-6)
    assert meta["attributes"]["singlehdr:model_id"] == "singlehdr-full-v1"
    assert meta["attributes"]["singlehdr:exposure_scale"] == 2.5
    assert meta["attributes"]["singlehdr:frames"] == "[1, 2]"
    _, spec = oiio_read(path)
    assert spec.get_string_attribute("singlehdr:model_id") == "singlehdr-full-v1"
    assert spec.get_string_attribute("singlehdr:colorspace") == key
    chroma = spec.getattribute("chromaticities")
    np.testing.assert_allclose(chroma, COLORSPACES[key].chromaticities, atol=1e-6)


def test_colorspace_recognised_from_chromaticities_only(tmp_path, hdr_image):
    # an EXR written by another tool: chromaticities but no singlehdr attribute
    buf = oiio.ImageBuf(oiio.ImageSpec(8, 4, 3, oiio.HALF))
    buf.specmod().attribute("chromaticities", oiio.TypeDesc("float[8]"), COLORSPACES["acescg"].chromaticities)
    assert buf.write(str(tmp_path / "o.exr"))
    _, meta = read_hdr(tmp_path / "o.exr")
    assert meta["colorspace"] == "acescg"


def test_read_oiio_written_luminance_and_float(tmp_path, rng):
    y = (rng.random((6, 5, 1)) * 8).astype(np.float32)
    spec = oiio.ImageSpec(5, 6, 1, oiio.FLOAT)
    spec.channelnames = ("Y",)
    buf = oiio.ImageBuf(spec)
    buf.set_pixels(oiio.ROI(), y)
    assert buf.write(str(tmp_path / "y.exr"))
    got, meta = read_hdr(tmp_path / "y.exr")
    assert got.shape == (6, 5, 3)
    assert np.array_equal(got[..., 1], y[..., 0]) and np.array_equal(got[..., 0], got[..., 2])


def test_unknown_compression_and_bad_arrays(tmp_path, hdr_image):
    with pytest.raises(SingleHDRError, match="compression"):
        write_hdr(tmp_path / "x.exr", hdr_image, compression="lzw")
    with pytest.raises(SingleHDRError, match="NaN"):
        write_hdr(tmp_path / "x.exr", np.full((2, 2, 3), np.nan, np.float32))
    with pytest.raises(SingleHDRError, match="shape"):
        write_hdr(tmp_path / "x.exr", np.zeros((2, 2), np.float32))
    with pytest.raises(SingleHDRError, match=".exr or .hdr"):
        write_hdr(tmp_path / "x.tif", hdr_image)
    assert list(tmp_path.iterdir()) == []


def test_write_result_provenance(tmp_path, hdr_image):
    from singlehdr.io import write_result
    from singlehdr.types import HDRResult

    res = HDRResult(hdr_linear=hdr_image, alpha=None, colorspace="acescg", scale=3.25,
                    metadata={"singlehdr_version": "0.1.0", "method": "singlehdr", "model_id": "singlehdr-full",
                              "exposure_mode": "median", "source_exif": {"FNumber": 1.8, "Make": "Acme"}})
    path = write_result(tmp_path / "r.exr", res, half=False)
    got, meta = read_hdr(path)
    assert np.array_equal(got, hdr_image)
    a = meta["attributes"]
    assert a["singlehdr:version"] == "0.1.0" and a["singlehdr:model_id"] == "singlehdr-full"
    assert a["singlehdr:exposure_scale"] == 3.25 and a["singlehdr:exposure_mode"] == "median"
    assert a["singlehdr:exif:Make"] == "Acme" and a["singlehdr:exif:FNumber"] == pytest.approx(1.8)
    assert meta["colorspace"] == "acescg"
