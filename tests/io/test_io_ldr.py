"""LDR reading: bit depths, modes, EXIF orientation, EXIF exposure, GPano XMP."""

import numpy as np
import OpenImageIO as oiio
import pytest
from PIL import Image, ImageOps, TiffImagePlugin

from singlehdr.io import read_ldr, write_ldr
from singlehdr.io.ldr import apply_orientation, parse_gpano_xmp


def test_16bit_png_keeps_16_bits(tmp_path, rng):
    a = rng.integers(0, 65536, size=(7, 9, 3), dtype=np.uint16)
    a[0, 0] = (1, 258, 65534)  # not multiples of 257: an 8-bit decode cannot produce these
    spec = oiio.ImageSpec(9, 7, 3, oiio.UINT16)
    buf = oiio.ImageBuf(spec)
    buf.set_pixels(oiio.ROI(), a)
    assert buf.write(str(tmp_path / "p16.png"))
    img = read_ldr(tmp_path / "p16.png")
    assert img.bit_depth == 16
    back = np.round(img.pixels * 65535).astype(np.int64)
    assert np.array_equal(back, a)
    assert np.any(back % 257 != 0)


def test_16bit_gray_and_tiff(tmp_path, rng):
    g = rng.integers(0, 65536, size=(5, 6), dtype=np.uint16)
    Image.fromarray(g).save(tmp_path / "g16.png")  # mode I;16
    img = read_ldr(tmp_path / "g16.png")
    assert img.bit_depth == 16
    assert np.array_equal(np.round(img.pixels[..., 1] * 65535).astype(np.uint16), g)
    assert np.array_equal(img.pixels[..., 0], img.pixels[..., 2])
    a = rng.integers(0, 65536, size=(4, 6, 3), dtype=np.uint16)
    write_ldr(tmp_path / "t16.tif", a)
    t = read_ldr(tmp_path / "t16.tif")
    assert t.bit_depth == 16 and np.array_equal(np.round(t.pixels * 65535).astype(np.uint16), a)


def test_8bit_png_values_modes_and_alpha(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (255, 128, 0, 64)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = read_ldr(tmp_path / "a.png")
    assert img.bit_depth == 8 and img.pixels.shape == (2, 3, 3) and img.pixels.dtype == np.float32
    np.testing.assert_allclose(img.pixels[0, 0], [1.0, 128 / 255, 0.0], atol=1e-7)
    np.testing.assert_allclose(img.alpha[0, 0], 64 / 255, atol=1e-7)
    # grayscale -> 3 equal channels
    Image.fromarray(np.array([[10, 200]], np.uint8), "L").save(tmp_path / "l.png")
    np.testing.assert_allclose(read_ldr(tmp_path / "l.png").pixels[0, 1], [200 / 255] * 3, atol=1e-7)
    # palette -> RGB
    pal = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.save(tmp_path / "p.png")
    np.testing.assert_allclose(read_ldr(tmp_path / "p.png").pixels[0], [[1, 0, 0], [0, 0, 1]], atol=1e-7)
    # CMYK JPEG -> RGB (pure cyan-free white)
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(tmp_path / "c.jpg", quality=100)
    np.testing.assert_allclose(read_ldr(tmp_path / "c.jpg").pixels, 1.0, atol=2 / 255)


def test_webp_and_heic(tmp_path):
    a = np.full((16, 16, 3), (200, 50, 10), np.uint8)
    Image.fromarray(a).save(tmp_path / "a.webp", lossless=True)
    np.testing.assert_allclose(read_ldr(tmp_path / "a.webp").pixels[3, 3], a[3, 3] / 255, atol=1e-7)
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    Image.fromarray(a).save(tmp_path / "a.heic", quality=95)
    got = read_ldr(tmp_path / "a.heic").pixels[8, 8]
    np.testing.assert_allclose(got, a[8, 8] / 255, atol=8 / 255)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_orientation_matches_pillow(orientation):
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    im = Image.fromarray(a)
    ex = im.getexif()
    ex[0x0112] = orientation
    im.info["exif"] = ex.tobytes()
    ref = np.asarray(ImageOps.exif_transpose(im))
    assert np.array_equal(apply_orientation(a, orientation), ref)


def test_pillow_exif_transpose_cannot_turn_16_bit_rgb():
    """Why io.ldr keeps apply_orientation: 16-bit RGB is decoded into numpy (Pillow has no
    16-bit RGB mode), so there is no Pillow image for ImageOps.exif_transpose to turn."""
    with pytest.raises(TypeError):
        Image.fromarray(np.zeros((2, 3, 3), np.uint16))


@pytest.mark.parametrize("orientation, upright", [(6, lambda a: np.rot90(a, k=-1)), (3, lambda a: a[::-1, ::-1]),
                                                  (8, lambda a: np.rot90(a, k=1))])
def test_16_bit_tiff_with_orientation_is_turned_once(tmp_path, orientation, upright):
    tifffile = pytest.importorskip("tifffile")
    a = (np.arange(2 * 3 * 3).reshape(2, 3, 3) * 1000 + 7).astype(np.uint16)
    tifffile.imwrite(tmp_path / "o.tif", a, photometric="rgb", extratags=[(274, "H", 1, orientation, False)])
    img = read_ldr(tmp_path / "o.tif")
    assert img.bit_depth == 16 and img.exif["Orientation"] == orientation
    assert np.array_equal(np.round(img.pixels * 65535).astype(np.uint16), upright(a))


def make_exif(orientation=6):
    ex = Image.Exif()
    ex[0x0112] = orientation
    ex[0x010F] = "Acme"
    ex[0x0110] = "Phone 9"
    ifd = ex.get_ifd(0x8769)
    ifd[0x829A] = TiffImagePlugin.IFDRational(1, 250)
    ifd[0x829D] = TiffImagePlugin.IFDRational(18, 10)
    ifd[0x8827] = 100
    ifd[0x9204] = TiffImagePlugin.IFDRational(-2, 3)
    ifd[0x920A] = TiffImagePlugin.IFDRational(435, 100)
    ifd[0xA405] = 26
    return ex


def test_exif_orientation_6_turns_pixels_and_exposure_exif(tmp_path):
    # stored 2 rows x 4 cols, left half red / right half blue; orientation 6 = turn 90 deg clockwise
    a = np.zeros((32, 64, 3), np.uint8)
    a[:, :32] = (255, 0, 0)
    a[:, 32:] = (0, 0, 255)
    Image.fromarray(a).save(tmp_path / "o.jpg", exif=make_exif(6), quality=95)
    img = read_ldr(tmp_path / "o.jpg")
    assert img.shape == (64, 32)
    # after a clockwise turn the stored left (red) half is on top
    assert img.pixels[5, 16, 0] > 0.9 and img.pixels[5, 16, 2] < 0.1
    assert img.pixels[60, 16, 2] > 0.9 and img.pixels[60, 16, 0] < 0.1
    e = img.exif
    assert e["Orientation"] == 6
    assert e["Make"] == "Acme" and e["Model"] == "Phone 9"
    assert e["ExposureTime"] == pytest.approx(0.004)
    assert e["FNumber"] == pytest.approx(1.8)
    assert e["ISO"] == 100 and e["ISOSpeedRatings"] == 100
    assert e["ExposureBias"] == pytest.approx(-2 / 3)
    assert e["FocalLength"] == pytest.approx(4.35)
    assert e["FocalLengthIn35mmFilm"] == 26


XMP = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/"
 GPano:ProjectionType="equirectangular" GPano:UsePanoramaViewer="True"
 GPano:CroppedAreaImageWidthPixels="64" GPano:FullPanoWidthPixels="64" GPano:CroppedAreaLeftPixels="0">
<GPano:PoseHeadingDegrees>12.5</GPano:PoseHeadingDegrees></rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_gpano_xmp(tmp_path):
    Image.fromarray(np.zeros((32, 64, 3), np.uint8)).save(tmp_path / "pano.jpg", xmp=XMP)
    x = read_ldr(tmp_path / "pano.jpg").xmp
    assert x["GPano:ProjectionType"] == "equirectangular"
    assert x["GPano:CroppedAreaImageWidthPixels"] == 64 and x["GPano:CroppedAreaLeftPixels"] == 0
    assert x["GPano:PoseHeadingDegrees"] == 12.5
    assert parse_gpano_xmp(None) == {}


def test_write_ldr_float_rounding_and_jpeg(tmp_path):
    a = np.array([[[0.0, 0.5, 1.0], [0.2, 1.5, -1.0]]], np.float32)
    write_ldr(tmp_path / "x.png", a)
    got = np.asarray(Image.open(tmp_path / "x.png"))
    assert got.tolist() == [[[0, 128, 255], [51, 255, 0]]]
    write_ldr(tmp_path / "x.jpg", np.full((8, 8, 3), 0.5, np.float32), quality=90)
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"
