"""``singlehdr reconstruct --brackets`` and RAW inputs through the real CLI; outputs read back with OpenImageIO."""

from __future__ import annotations

import numpy as np
import pytest
from merge_scenes import make_scene, shoot

from singlehdr.cli import main
from singlehdr.io import write_ldr

oiio = pytest.importorskip("OpenImageIO")
EVS = (-2.0, 0.0, 2.0)


def oiio_rgb(path) -> np.ndarray:
    buf = oiio.ImageBuf(str(path))
    px = buf.get_pixels(oiio.FLOAT)
    assert px is not None, oiio.geterror()
    return np.asarray(px)[..., :3]


@pytest.fixture
def bracket_files(tmp_path):
    scene = make_scene()
    return scene, [write_ldr(tmp_path / f"f{i}.png", shoot(scene, ev)) for i, ev in enumerate(EVS)]


def test_cli_brackets_write_the_merge(tmp_path, bracket_files, capsys):
    from singlehdr import ReconstructOptions
    from singlehdr.merge import MergeOptions, reconstruct_brackets

    scene, files = bracket_files
    out = tmp_path / "merged.exr"
    rc = main(["reconstruct", "--brackets", *map(str, files), "--ev", "-2", "0", "2", "--fill", "none",
               "--response", "srgb", "--float", "-o", str(out)])
    assert rc == 0
    line = capsys.readouterr().out
    assert "3 frames" in line and "still clipped" in line
    got = oiio_rgb(out)
    api = reconstruct_brackets(files, ReconstructOptions(), MergeOptions(ev=EVS, fill="none", response="srgb"))
    assert np.array_equal(got, api.hdr_linear)  # float EXR: exact
    ok = (scene.max(axis=-1) * 0.25 < 0.9) & (scene.min(axis=-1) * 4 > 0.05)
    assert np.median(got[ok] / scene[ok]) == pytest.approx(1.0, abs=0.01)
    # a folder of brackets, exposure values with commas
    out2 = tmp_path / "merged2.exr"
    assert main(["reconstruct", "--brackets", str(tmp_path), "--ev=-2,0,2", "--fill", "none", "--response", "srgb",
                 "--float", "-q", "-o", str(out2)]) == 0
    assert np.array_equal(oiio_rgb(out2), got)


@pytest.mark.parametrize("extra, text", [
    (["--ev", "0"], "needs at least 2 frames"),
])
def test_cli_single_bracket_is_one_line(tmp_path, bracket_files, capsys, extra, text):
    _, files = bracket_files
    rc = main(["reconstruct", "--brackets", str(files[0]), *extra, "-o", str(tmp_path / "x.exr")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and text in err and err.count("\n") == 1
    assert not (tmp_path / "x.exr").exists()


def test_cli_missing_exif_and_ev_without_brackets(tmp_path, bracket_files, capsys):
    _, files = bracket_files
    assert main(["reconstruct", "--brackets", *map(str, files), "-o", str(tmp_path / "x.exr")]) == 2
    assert "f0.png has no EXIF exposure time; pass --ev" in capsys.readouterr().err
    assert main(["reconstruct", *map(str, files), "--ev", "-2", "0", "2", "-o", str(tmp_path / "y")]) == 2
    assert "--ev applies to --brackets only" in capsys.readouterr().err
    assert main(["reconstruct", "--brackets", *map(str, files), "--ev", "-2", "0", "-o", str(tmp_path / "z.exr")]) == 2
    assert "--ev has 2 values for 3 brackets" in capsys.readouterr().err


def test_cli_raw_input(tmp_path, capsys):
    pytest.importorskip("rawpy")
    from pathlib import Path

    from singlehdr.io.raw import read_raw

    dng = Path(__file__).parent / "data" / "courtyard_96x48.dng"
    out = tmp_path / "raw.exr"
    assert main(["reconstruct", str(dng), "--fill", "none", "--float", "-o", str(out)]) == 0
    assert "RAW" in capsys.readouterr().out
    assert np.array_equal(oiio_rgb(out), read_raw(dng).hdr_linear)
    bad = tmp_path / "broken.cr2"
    bad.write_bytes(b"\x00" * 100)
    assert main(["reconstruct", str(bad), "-o", str(tmp_path / "b.exr")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read broken.cr2 as camera RAW") and err.count("\n") == 1


def test_cli_brackets_read_exposure_from_exif(tmp_path, capsys):
    """Real JPEG files whose EXIF ExposureTime (1/400, 1/100, 1/25 s) is the only exposure information."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    from singlehdr.camera.forward import to_uint8

    scene = make_scene()
    files = []
    for i, (ev, den) in enumerate(zip(EVS, (400, 100, 25))):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x829A] = IFDRational(1, den)  # Exif IFD, ExposureTime
        p = tmp_path / f"IMG_{i}.jpg"
        Image.fromarray(to_uint8(shoot(scene, ev))).save(p, quality=98, exif=exif.tobytes())
        files.append(p)
    out = tmp_path / "exif.exr"
    assert main(["reconstruct", "--brackets", *map(str, reversed(files)), "--fill", "none", "-o", str(out)]) == 0
    got = oiio_rgb(out)
    ok = (scene.max(axis=-1) * 0.25 < 0.9) & (scene.min(axis=-1) * 4 > 0.05)
    rel = got[ok] / scene[ok]
    assert np.median(rel / np.median(rel)) == pytest.approx(1.0, abs=0.01)
    assert np.percentile(np.abs(rel / np.median(rel) - 1), 90) < 0.08
    assert oiio.ImageBuf(str(out)).spec().getattribute("singlehdr:method") == "brackets"
