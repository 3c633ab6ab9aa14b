"""The `singlehdr reconstruct | info | preview` commands, end to end on real files."""

import json
import subprocess
import sys

import numpy as np
import OpenImageIO as oiio
import pytest
from PIL import Image

from singlehdr.cli import main
from singlehdr.io import read_hdr, write_hdr


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_user_error(rc, err, pattern):
    assert rc == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert pattern in lines[0], lines[0]


def oiio_pixels(path):
    buf = oiio.ImageBuf(str(path))
    px = buf.get_pixels(oiio.FLOAT)
    assert px is not None, oiio.geterror()
    return px, buf.spec()


def test_reconstruct_sample_to_exr_values_above_one(tmp_path, capsys, sample_jpg):
    out = tmp_path / "sample.exr"
    rc, stdout, err = run(capsys, "reconstruct", sample_jpg, "-o", out, "--method", "akyuz")
    assert rc == 0, err
    px, spec = oiio_pixels(out)
    assert (spec.width, spec.height, spec.nchannels) == (1024, 512, 3)
    assert spec.format == oiio.HALF
    assert px.max() > 1.0 and (px > 1.0).mean() > 0.01  # the clipped sun is expanded
    assert spec.get_string_attribute("singlehdr:method") == "akyuz"
    assert spec.get_string_attribute("singlehdr:input_kind") == "equirect"
    assert "1024x512" in stdout and "peak" in stdout and "stops" in stdout


def test_reconstruct_inverse_srgb_hand_value_and_options(tmp_path, capsys):
    a = np.full((8, 16, 3), 128, np.uint8)
    a[0, 0] = (255, 0, 64)
    Image.fromarray(a).save(tmp_path / "in.png")
    out = tmp_path / "o.exr"
    rc, _, err = run(capsys, "reconstruct", tmp_path / "in.png", "-o", out, "--method", "inverse-srgb",
                     "--float", "--compression", "piz", "--colorspace", "lin_rec709")
    assert rc == 0, err
    px, spec = oiio_pixels(out)
    assert spec.format == oiio.FLOAT and spec.get_string_attribute("compression") == "piz"
    # inverse sRGB (IEC 61966-2-1): ((128/255 + 0.055) / 1.055)^2.4 = 0.2158605
    np.testing.assert_allclose(px[4, 4], 0.2158605, atol=1e-6)
    np.testing.assert_allclose(px[0, 0], [1.0, 0.0, 0.0512695], atol=1e-6)
    # ACEScg output: the colour space is converted and tagged
    rc, _, err = run(capsys, "reconstruct", tmp_path / "in.png", "-o", tmp_path / "aces.exr", "--method",
                     "inverse-srgb", "--colorspace", "acescg")
    assert rc == 0, err
    hdr, meta = read_hdr(tmp_path / "aces.exr")
    assert meta["colorspace"] == "acescg"
    np.testing.assert_allclose(hdr[0, 0, 0], 0.6131 + 0.0474 * 0.0512695, atol=2e-3)  # first row of 709->AP1
    # Radiance output, by extension
    rc, _, err = run(capsys, "reconstruct", tmp_path / "in.png", "-o", tmp_path / "o.hdr", "--method", "inverse-srgb")
    assert rc == 0, err
    px, _ = oiio_pixels(tmp_path / "o.hdr")
    np.testing.assert_allclose(px[4, 4], 0.2158605, rtol=1 / 128)


def test_reconstruct_sequence_to_folder(tmp_path, capsys):
    for f in (1001, 1002, 1003):
        Image.fromarray(np.full((4, 6, 3), f - 1000, np.uint8)).save(tmp_path / f"plate.{f}.png")
    rc, stdout, err = run(capsys, "reconstruct", tmp_path / "plate.####.png", "--frames", "1002-1003",
                          "-o", tmp_path / "hdr", "--method", "inverse-srgb")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "hdr").iterdir()) == ["plate.1002.exr", "plate.1003.exr"]
    assert len(stdout.strip().splitlines()) == 2
    got, _ = read_hdr(tmp_path / "hdr" / "plate.1003.exr")
    np.testing.assert_allclose(got[0, 0, 0], 3 / 255 / 12.92, rtol=1e-3)  # sRGB linear segment
    rc, _, err = run(capsys, "reconstruct", tmp_path / "plate.1001-1003#.png", "-o", tmp_path / "seq.%04d.hdr",
                     "--method", "inverse-srgb", "-q")
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.glob("seq.*")) == ["seq.1001.hdr", "seq.1002.hdr", "seq.1003.hdr"]


def test_reconstruct_bad_inputs_are_one_line_errors_without_output(tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "good.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    Image.new("RGB", (8, 8)).save(tmp_path / "fake.png", format="JPEG")
    write_hdr(tmp_path / "already.exr", np.ones((4, 4, 3), np.float32))
    cases = [
        (["reconstruct", tmp_path / "missing.jpg", "-o", tmp_path / "o.exr"], "does not exist"),
        (["reconstruct", tmp_path / "empty.jpg", "-o", tmp_path / "o.exr"], "empty (0 bytes)"),
        (["reconstruct", tmp_path / "fake.png", "-o", tmp_path / "o.exr", "--method", "akyuz"], "rename it to .jpg"),
        (["reconstruct", tmp_path / "already.exr", "-o", tmp_path / "o.exr", "--method", "akyuz"], "already an HDR"),
        (["reconstruct", tmp_path / "good.png", "-o", tmp_path / "o.exr", "--method", "akyuz", "--max-pixels", "10"],
         "raise --max-pixels"),
        (["reconstruct", tmp_path / "good.png", "-o", tmp_path / "o.tif"], "does not end in .exr"),
        (["reconstruct", tmp_path / "good.png", "-o", tmp_path / "good.png", "--overwrite"], "also an input"),
        (["reconstruct", tmp_path / "good.png", "-o", tmp_path / "already.exr"], "already exists; pass --overwrite"),
        (["reconstruct", tmp_path / "s.####.jpg", "-o", tmp_path / "out"], "no files match"),
        (["reconstruct", tmp_path / "good.png", "-o", tmp_path / "o.exr", "--exposure", "median",
          "--exposure-target", "-1"], "positive"),
        (["info", tmp_path / "missing.exr"], "does not exist"),
        (["preview", tmp_path / "good.png", "-o", tmp_path / "p.png"], "not an HDR image"),
        (["preview", tmp_path / "already.exr", "-o", tmp_path / "already.exr", "--overwrite"], "also an input"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, pattern in cases:
        rc, _, err = run(capsys, *argv)
        assert_user_error(rc, err, pattern)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert read_hdr(tmp_path / "already.exr")[0].max() == 1.0


def test_entry_point_exit_code_and_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "singlehdr.cli", "reconstruct", str(tmp_path / "nope.jpg"),
                           "-o", str(tmp_path / "o.exr")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: input {tmp_path / 'nope.jpg'} does not exist; check the path"
    assert list(tmp_path.iterdir()) == []


def test_info_hdr_and_ldr(tmp_path, capsys):
    hdr = np.ones((4, 8, 3), np.float32)
    hdr[0, 0] = 64.0
    hdr[0, 1] = 0.25
    write_hdr(tmp_path / "h.exr", hdr, colorspace="acescg", attributes={"singlehdr:model_id": "m"})
    rc, out, err = run(capsys, "info", tmp_path / "h.exr", "--json")
    assert rc == 0, err
    info = json.loads(out)
    assert (info["width"], info["height"], info["channels"], info["pixel_type"]) == (8, 4, ["R", "G", "B"], "half")
    assert info["compression"] == "zip" and info["colorspace"] == "acescg"
    assert info["max_luminance"] == pytest.approx(64.0) and info["median_luminance"] == pytest.approx(1.0)
    assert info["dynamic_range_stops"] == pytest.approx(8.0)  # log2(64 / 0.25)
    assert info["attributes"]["singlehdr:model_id"] == "m"
    rc, out, _ = run(capsys, "info", tmp_path / "h.exr")
    assert "8 x 4" in out and "acescg" in out and "8.0 stops" in out
    a = np.zeros((2, 5, 3), np.uint8)
    a[0, :2] = 255
    Image.fromarray(a).save(tmp_path / "l.png")
    rc, out, _ = run(capsys, "info", tmp_path / "l.png", "--json")
    info = json.loads(out)
    assert info["clipped_fraction"] == pytest.approx(0.2) and info["bit_depth"] == 8


def test_preview(tmp_path, capsys):
    write_hdr(tmp_path / "h.exr", np.full((4, 6, 3), 2.0, np.float32))
    rc, _, err = run(capsys, "preview", tmp_path / "h.exr", "-o", tmp_path / "p.png", "--exposure", "-1")
    assert rc == 0, err
    # 2.0 at -1 EV = 1.0 -> Reinhard 0.5 -> sRGB 0.735357 -> 188
    assert np.asarray(Image.open(tmp_path / "p.png"))[0, 0].tolist() == [188, 188, 188]
    rc, _, err = run(capsys, "preview", tmp_path / "h.exr", "-o", tmp_path / "f.png", "--false-colour")
    assert rc == 0, err
    assert np.asarray(Image.open(tmp_path / "f.png")).shape == (4 + 28, 6, 3)


def test_reconstruct_exposure_median_default_target(tmp_path, capsys):
    # --exposure median without --exposure-target uses the documented default 0.18
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    out = tmp_path / "m.exr"
    rc, _, err = run(capsys, "reconstruct", tmp_path / "grey.png", "-o", out, "--method", "inverse-srgb",
                     "--exposure", "median", "--float")
    assert rc == 0, err
    px, spec = oiio_pixels(out)
    lum = px[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    assert np.median(lum) == pytest.approx(0.18, rel=1e-3)
    assert spec.getattribute("singlehdr:exposure_mode") == "median"


@pytest.mark.parametrize("ev", ["nan", "inf", "-inf"])
def test_preview_non_finite_exposure_is_one_line_error(tmp_path, capsys, ev):
    write_hdr(tmp_path / "h.exr", np.full((4, 6, 3), 2.0, np.float32))
    rc, _, err = run(capsys, "preview", tmp_path / "h.exr", "-o", tmp_path / "p.png", f"--exposure={ev}")
    assert_user_error(rc, err, "finite number of stops")
    assert not (tmp_path / "p.png").exists()


def test_reconstruct_default_depth_does_not_clip_beyond_half(tmp_path, capsys):
    # --exposure absolute on a daylight exposure puts LDR white near 1.4e6 cd/m^2, far above half's 65504:
    # the default must not silently clip it (explicit --half still may).
    from PIL.TiffImagePlugin import IFDRational

    im = Image.fromarray(np.full((16, 16, 3), 200, np.uint8))
    exif = im.getexif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A], ifd[0x829D], ifd[0x8827] = IFDRational(1, 4000), IFDRational(16, 1), 50
    im.save(tmp_path / "sunny.jpg", exif=exif, quality=95)
    out = tmp_path / "abs.exr"
    rc, _, err = run(capsys, "reconstruct", tmp_path / "sunny.jpg", "-o", out, "--method", "inverse-srgb",
                     "--exposure", "absolute")
    assert rc == 0, err
    px, spec = oiio_pixels(out)
    assert px.max() > 65504 * 4 and spec.format == oiio.FLOAT
    rc, _, err = run(capsys, "reconstruct", tmp_path / "sunny.jpg", "-o", tmp_path / "h.exr", "--method",
                     "inverse-srgb")
    assert rc == 0, err
    assert oiio_pixels(tmp_path / "h.exr")[1].format == oiio.HALF  # in range: still half by default


def test_reconstruct_refuses_integer_arrays_other_than_uint8_uint16():
    import numpy as np
    import pytest

    from singlehdr import ReconstructOptions, SingleHDRError, reconstruct

    with pytest.raises(SingleHDRError, match="uint8 or uint16"):
        reconstruct(np.full((8, 8, 3), 200, np.int32), ReconstructOptions(method="inverse-srgb"))
    out = reconstruct(np.full((8, 8, 3), 255, np.uint8), ReconstructOptions(method="inverse-srgb"))
    assert np.allclose(out.hdr_linear, 1.0)


def test_damaged_exr_through_the_real_process_prints_one_line_only(tmp_path):
    """OpenEXR writes to the process's stdout/stderr itself: through a real `singlehdr`
    process, a truncated EXR gives exactly our one line (stdout empty), and --verbose
    shows the library's own lines as well."""
    good = tmp_path / "good.exr"
    write_hdr(good, np.random.default_rng(0).random((64, 48, 3), np.float32) * 4)
    bad = tmp_path / "cut.exr"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for argv in (["info", str(bad)], ["preview", str(bad), "-o", str(tmp_path / "p.png")]):
        proc = subprocess.run([sys.executable, "-m", "singlehdr.cli", *argv], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: cannot read EXR cut.exr:"), proc.stderr
        assert "EXR_ERR" in lines[0]
    proc = subprocess.run([sys.executable, "-m", "singlehdr.cli", "--verbose", "info", str(bad)], capture_output=True,
                          text=True, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) >= 2 and lines[-1].startswith("error: cannot read EXR")
    assert all(line.startswith("[OpenEXR] ") for line in lines[:-1])
    assert list(tmp_path.iterdir()) == [good, bad] or sorted(tmp_path.iterdir()) == sorted([good, bad])
