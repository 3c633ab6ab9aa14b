"""Hostile and unusual EXR files: damaged files give our one line only (OpenEXR's own
messages captured at the fd level), luminance/chroma files decode as OpenEXR's RGBA
interface (OpenImageIO) does, foreign primaries are converted, deep files refused."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_hdr, write_hdr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exr_builder import FLOAT, HALF, rgb_to_yc, write_exr_raw  # noqa: E402


def _oiio_read(path):
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    try:
        return np.asarray(inp.read_image("float"), dtype=np.float32)
    finally:
        inp.close()


@pytest.fixture
def good_exr(tmp_path, rng):
    p = tmp_path / "good.exr"
    write_hdr(p, (rng.random((64, 48, 3)) * 4).astype(np.float32))
    return p


@pytest.mark.parametrize("frac", [0.1, 0.5, 0.99])
def test_truncated_exr_one_line_with_the_library_reason_and_nothing_printed(tmp_path, good_exr, capfd, frac):
    data = good_exr.read_bytes()
    bad = tmp_path / f"cut{int(frac * 100)}.exr"
    bad.write_bytes(data[: int(len(data) * frac)])
    with pytest.raises(SingleHDRError) as err:
        read_hdr(bad)
    out, errout = capfd.readouterr()
    assert out == "" and errout == "", (out, errout)  # OpenEXR printed nothing past us
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"cannot read EXR {bad.name}:")
    assert "0 parts" not in msg and "EXR_ERR" in msg, msg  # the library's reason, not the binding's


def test_verbose_shows_the_captured_library_lines(tmp_path, good_exr, capfd):
    from singlehdr.io import native

    bad = tmp_path / "cut.exr"
    bad.write_bytes(good_exr.read_bytes()[:900])
    native.set_verbose(True)
    try:
        with pytest.raises(SingleHDRError):
            read_hdr(bad)
    finally:
        native.set_verbose(False)
    _, errout = capfd.readouterr()
    assert errout and all(line.startswith("[OpenEXR] ") for line in errout.strip().splitlines())


def test_mutated_exr_headers_and_data_give_one_line_or_pixels(tmp_path, good_exr, capfd):
    data = bytearray(good_exr.read_bytes())
    rng = np.random.default_rng(7)
    outcomes = {"error": 0, "ok": 0}
    for i in range(60):
        m = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, 400 if i % 2 else len(m)))  # half the mutations hit the header
            m[pos] = int(rng.integers(0, 256))
        p = tmp_path / f"m{i}.exr"
        p.write_bytes(bytes(m))
        try:
            hdr, meta = read_hdr(p, allow_nonfinite=True)
            assert hdr.ndim == 3 and hdr.shape[2] == 3 and hdr.dtype == np.float32
            outcomes["ok"] += 1
        except SingleHDRError as exc:
            assert "\n" not in str(exc)
            outcomes["error"] += 1
    out, errout = capfd.readouterr()
    assert out == "" and errout == ""
    assert outcomes["error"] > 0


def _smooth_rgb(h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([0.5 + 0.4 * np.sin(xx / 5), 0.5 + 0.3 * np.cos(yy / 4), 0.3 + 0.2 * np.sin((xx + yy) / 6)], -1)


@pytest.mark.parametrize("shape,smooth", [((32, 40), True), ((30, 48), False), ((64, 64), False)])
def test_luminance_chroma_exr_matches_openimageio(tmp_path, rng, shape, smooth):
    h, w = shape
    rgb = _smooth_rgb(h, w) if smooth else rng.random((h, w, 3)) * 5 + 0.01
    y, ry, by = rgb_to_yc(rgb)
    p = write_exr_raw(tmp_path / "yc.exr", {"Y": (y, HALF, 1, 1), "RY": (ry, HALF, 2, 2), "BY": (by, HALF, 2, 2)})
    ours, meta = read_hdr(p)
    ref = _oiio_read(p)  # OpenImageIO reads Y/RY/BY through OpenEXR's RgbaInputFile
    assert ours.shape == ref.shape == (h, w, 3)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-3)
    assert rel.max() <= 2.0**-10, rel.max()  # within half precision (one half ULP is 2^-11 .. 2^-10)
    if smooth:  # and a smooth image comes back close to what was stored
        assert np.median(np.abs(ours - rgb) / rgb) < 2e-3
    assert meta["channels"] == ["BY", "RY", "Y"] or set(meta["channels"]) == {"Y", "RY", "BY"}


def test_luminance_chroma_uses_the_files_chromaticities_for_its_weights(tmp_path):
    from singlehdr.io.exr_yc import luminance_weights

    assert np.allclose(luminance_weights(), [0.2126, 0.7152, 0.0722], atol=1e-4)
    p3 = (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290)
    assert np.allclose(luminance_weights(p3), [0.2290, 0.6917, 0.0793], atol=1e-3)


def test_luminance_only_exr_is_grey(tmp_path):
    y = np.linspace(0.1, 10, 12 * 8, dtype=np.float32).reshape(12, 8)
    p = write_exr_raw(tmp_path / "y.exr", {"Y": (y, FLOAT, 1, 1)})
    hdr, _ = read_hdr(p)
    for c in range(3):
        assert np.allclose(hdr[..., c], y.astype(np.float16).astype(np.float32), rtol=1e-3)
    assert np.allclose(hdr, _oiio_read(p), rtol=1e-3)


def test_foreign_primaries_are_converted_to_rec709(tmp_path):
    """Display-P3 primaries (D65): (1, 0, 0) in P3 is (1.2249, -0.0421, -0.0196) in linear
    Rec.709 (the published P3-D65 -> sRGB matrix); white stays white."""
    p3 = (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290)
    px = np.zeros((4, 4, 3), np.float32)
    px[0, 0] = (1, 0, 0)
    px[0, 1] = (0, 1, 0)
    px[1] = 1.0
    p = write_exr_raw(tmp_path / "p3.exr", {c: (px[..., i], FLOAT, 1, 1) for i, c in enumerate("RGB")},
                      chromaticities=p3)
    hdr, meta = read_hdr(p)
    assert meta["colorspace"] == "lin_rec709" and meta["converted_from_chromaticities"] is not None
    assert np.allclose(hdr[0, 0], [1.2249, -0.0421, -0.0196], atol=2e-3)
    assert np.allclose(hdr[0, 1], [-0.2249, 1.0421, -0.0786], atol=2e-3)
    assert np.allclose(hdr[1], 1.0, atol=1e-4)


def test_xyz_primaries_white_maps_to_white(tmp_path):
    """XYZ.exr-style primaries (R=(1,0), G=(0,1), B=(0,0), white E): equal XYZ is the E
    white, which Bradford adaptation takes to the D65 white = (1, 1, 1) in Rec.709."""
    px = np.ones((2, 2, 3), np.float32) * 0.5
    p = write_exr_raw(tmp_path / "xyz.exr", {c: (px[..., i], FLOAT, 1, 1) for i, c in enumerate("RGB")},
                      chromaticities=(1, 0, 0, 1, 0, 0, 1 / 3, 1 / 3))
    hdr, meta = read_hdr(p)
    assert np.allclose(hdr, 0.5, atol=1e-3), hdr[0, 0]


def test_degenerate_chromaticities_refused_naming_them(tmp_path):
    px = np.ones((2, 2, 3), np.float32)
    p = write_exr_raw(tmp_path / "bad.exr", {c: (px[..., i], FLOAT, 1, 1) for i, c in enumerate("RGB")},
                      chromaticities=(0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3127, 0.329))
    with pytest.raises(SingleHDRError, match=r"chromaticities \(0.3, 0.3, 0.3"):
        read_hdr(p)


def test_deep_exr_refused_in_one_line(tmp_path):
    spec = oiio.ImageSpec(4, 3, 4, oiio.FLOAT)
    spec.channelnames = ("R", "G", "B", "A")
    spec.deep = True
    buf = oiio.ImageBuf(spec)
    for y in range(3):
        for x in range(4):
            buf.set_deep_samples(x, y, 0, 1 + (x + y) % 2)
    p = tmp_path / "deep.exr"
    assert buf.write(str(p)), buf.geterror()
    with pytest.raises(SingleHDRError, match="deep OpenEXR image") as err:
        read_hdr(p)
    assert "\n" not in str(err.value)


def test_attribute_of_an_unknown_type_is_tolerated(tmp_path):
    """Found by the fuzz test: a singlehdr:colorspace attribute whose type name was
    damaged comes back from the binding as an unhashable opaque object."""
    px = np.full((4, 4, 3), 0.5, np.float32)
    p = write_exr_raw(tmp_path / "opaque.exr", {c: (px[..., i], FLOAT, 1, 1) for i, c in enumerate("RGB")},
                      extra_attrs=[("singlehdr:colorspace", "bogustype", b"acescg")])
    hdr, meta = read_hdr(p)
    assert np.allclose(hdr, 0.5) and meta["colorspace"] == "lin_rec709"
