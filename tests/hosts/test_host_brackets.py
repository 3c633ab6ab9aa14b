"""Exposure brackets and camera RAW in the hosts: Blender's *World from Photo* (multi-select + EV list)
and the Nuke gizmo's "brackets" / "EV list" knobs run ``singlehdr envmap|reconstruct --brackets ...``.

Three 64x32 JPEGs whose only exposure information is EXIF ExposureTime (1/400, 1/100, 1/25 s) are made
here from a known HDR scene with a clipped blob; the method is akyuz (training-free, fast).  The maps
the hosts keep are compared pixel for pixel with the CLI's, read back with OpenEXR; a bad bracket set
gives the CLI's one line in each host.  Nuke is the recording fake (tests/hosts/fake_nuke.py); bpy is
the real bpy 5.0.1; the singlehdr child processes are real.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nuke_fixtures import GIZMO_DIR, gizmo, nuke  # noqa: F401 (fixtures)
from test_host_parity import assert_same_header, cli, read_openexr

DENOMINATORS = (400, 100, 25)  # ExposureTime 1/400, 1/100, 1/25 s: -2, 0, +2 stops around the middle frame


def make_brackets(folder: Path, h: int = 32, w: int = 64) -> list[Path]:
    """Three sRGB JPEGs of one HDR scene at 1/400, 1/100, 1/25 s, exposure only in EXIF; a blob of 20 clips in all."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    hdr = np.stack([0.05 + 0.6 * x / w, 0.04 + 0.5 * y / h, 0.1 + 0.3 * (x + y) / (w + h)], axis=2)
    hdr *= (0.3 + 0.7 * np.sin(x / 3) ** 2)[..., None]
    hdr[(x - 0.62 * w) ** 2 + (y - 0.3 * h) ** 2 <= (0.06 * w) ** 2] = 20.0
    paths = []
    for i, den in enumerate(DENOMINATORS):
        lin = np.clip(hdr * (100 / den) / 2, 0.0, 1.0)
        srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)  # IEC 61966-2-1
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x829A] = IFDRational(1, den)  # Exif IFD, ExposureTime
        path = folder / f"shot_{i}.jpg"
        Image.fromarray(np.round(srgb * 255).astype(np.uint8)).save(path, quality=95, exif=exif.tobytes())
        paths.append(path)
    return paths


def make_plain_jpeg(path: Path, h: int = 32, w: int = 64) -> Path:
    """A JPEG without EXIF (for the 'no EXIF exposure' error)."""
    from PIL import Image

    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(path, quality=95)
    return path


def cli_error(*argv: str) -> str:
    """The CLI's one-line error for a command that must fail."""
    proc = subprocess.run([sys.executable, "-m", "singlehdr.cli", *map(str, argv)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr[len("error: "):].strip()


@pytest.fixture
def nuke_runner(nuke):  # noqa: F811
    sys.path.insert(0, str(GIZMO_DIR))
    from singlehdr_nuke import runner

    return runner


# ------------------------------------------------------------------ Blender


@pytest.mark.bpy
def test_blender_argv_parses_with_the_real_cli(addon):
    from singlehdr.cli import build_parser
    from singlehdr.io.raw import RAW_EXTENSIONS

    argv = addon.runner.envmap_argv("/py", "a.jpg", "env.exr", "r.json", method="akyuz", width=64,
                                    brackets=["a.jpg", "b.jpg", "c.jpg"], ev=" -2, 0  2 ")
    assert argv[3:6] == ["envmap", "--brackets", "a.jpg"] and argv[-1] == "--ev=-2,0,2"
    args = build_parser().parse_args(argv[3:])
    assert (args.brackets, args.input, args.more, args.ev) == (True, "a.jpg", ["b.jpg", "c.jpg"], ["-2,0,2"])
    assert (args.output, args.report, args.method, args.width) == ("env.exr", "r.json", "akyuz", 64)
    # no EV list: exposure from EXIF (no --ev); a single RAW file: passed as the input, nothing else
    plain = addon.runner.envmap_argv("/py", "IMG.CR2", "env.exr", "r.json")
    assert not [a for a in plain if a.startswith("--ev") or a == "--brackets"]
    args = build_parser().parse_args(plain[3:])
    assert (args.input, args.more, args.brackets, args.ev) == ("IMG.CR2", [], False, None)
    # the file browser offers every RAW extension singlehdr reads
    assert addon.operators.RAW_EXTENSIONS == RAW_EXTENSIONS
    shown = set(addon.operators.WORLD_GLOB.split(";"))
    assert {f"*{e}" for e in RAW_EXTENSIONS} <= shown and "*.jpg" in shown


@pytest.mark.bpy
def test_blender_world_from_brackets_is_the_clis_envmap(blender, addon, tmp_path):
    bpy = blender
    shots = make_brackets(tmp_path / "shots")
    cli_exr = tmp_path / "cli" / "env.exr"
    cli("envmap", "--brackets", *shots, "-o", cli_exr, "--method", "akyuz", "--width", "64", "--sun", "auto")
    # the file browser's multi-selection (directory + files), in an order other than the names'
    result = bpy.ops.singlehdr.world_from_photo(
        directory=str(tmp_path / "shots"), files=[{"name": p.name} for p in reversed(shots)],
        filepath=str(shots[-1]), method="akyuz", width=64, sun="MAP", directory_out=str(tmp_path / "blender"))
    assert result == {"FINISHED"}
    px_b, attrs_b, type_b = read_openexr(tmp_path / "blender" / "shot_0_singlehdr.exr")
    px_c, attrs_c, type_c = read_openexr(cli_exr)
    assert px_b.shape == px_c.shape == (32, 64, 4) and type_b == type_c
    np.testing.assert_array_equal(px_b, px_c)
    assert px_c[..., :3].max() > 4.0  # the merge holds range the middle JPEG clipped (its white is 1)
    assert_same_header(attrs_b, attrs_c)
    assert attrs_c["singlehdr:method"] == "brackets+akyuz"  # the merge, akyuz filling what all three clip
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    np.testing.assert_array_equal(addon.blender_io.read_pixels(image), px_c)

    # an EV list says the same as the EXIF here: the same map
    cli_ev = tmp_path / "cli" / "env_ev.exr"
    cli("envmap", "--brackets", *shots, "-o", cli_ev, "--method", "akyuz", "--width", "64", "--sun", "auto", "--ev=-2,0,2")
    assert bpy.ops.singlehdr.world_from_photo(
        directory=str(tmp_path / "shots"), files=[{"name": p.name} for p in shots], method="akyuz", width=64,
        sun="MAP", ev="-2, 0, 2", directory_out=str(tmp_path / "blender_ev")) == {"FINISHED"}
    np.testing.assert_array_equal(read_openexr(tmp_path / "blender_ev" / "shot_0_singlehdr.exr")[0],
                                  read_openexr(cli_ev)[0])


@pytest.mark.bpy
def test_blender_bad_brackets_report_the_clis_line(blender, addon, tmp_path, capsys):
    bpy = blender
    shots = make_brackets(tmp_path / "shots")
    plain = make_plain_jpeg(tmp_path / "shots" / "shot_3.jpg")
    names = [p.name for p in (*shots, plain)]
    expected = cli_error("envmap", "--brackets", *shots, plain, "-o", tmp_path / "x.exr", "--method", "akyuz", "--width", "64")
    assert "shot_3.jpg has no EXIF exposure time; pass --ev" in expected
    world_before = bpy.context.scene.world
    with pytest.raises(RuntimeError) as info:
        bpy.ops.singlehdr.world_from_photo(directory=str(tmp_path / "shots"), files=[{"name": n} for n in names],
                                           method="akyuz", width=64, directory_out=str(tmp_path / "out"))
    assert str(info.value).strip().splitlines()[-1].strip() == f"Error: {expected}"
    # a wrong EV list: the CLI's line too
    expected_ev = cli_error("envmap", "--brackets", *shots, "-o", tmp_path / "x.exr", "--method", "akyuz", "--ev=-2,0")
    with pytest.raises(RuntimeError) as info:
        bpy.ops.singlehdr.world_from_photo(directory=str(tmp_path / "shots"), files=[{"name": p.name} for p in shots],
                                           ev="-2,0", method="akyuz", width=64, directory_out=str(tmp_path / "out"))
    assert str(info.value).strip().splitlines()[-1].strip() == f"Error: {expected_ev}"
    assert bpy.context.scene.world == world_before
    assert not (tmp_path / "out").exists() or not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
