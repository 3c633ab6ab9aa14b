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

from nuke_fixtures import GIZMO_DIR, fresh_nuke, gizmo, nuke, popen_spy  # noqa: F401 (fixtures)
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


# ------------------------------------------------------------------ Nuke


def test_nuke_argv_parses_with_the_real_cli(nuke_runner):
    from singlehdr.cli import build_parser
    from singlehdr.io.raw import RAW_EXTENSIONS

    runner = nuke_runner
    assert runner.split_brackets('a.jpg b.jpg,c.jpg\n"my shots/d e.jpg", C:\\sh\\f.jpg') == [
        "a.jpg", "b.jpg", "c.jpg", "my shots/d e.jpg", "C:\\sh\\f.jpg"]
    with pytest.raises(runner.NodeError, match="close the quotes"):
        runner.split_brackets('"a.jpg b.jpg')
    s = runner.Settings(method="akyuz", mode=runner.MODE_ENVMAP, width=64, brackets=["a.jpg", "b.jpg", "c.jpg"],
                        ev="-2, 0, 2")
    argv = runner.build_envmap_argv(s, "/py", "ignored.jpg", "env.exr")
    assert argv[3:6] == ["envmap", "--brackets", "a.jpg"] and "ignored.jpg" not in argv and argv[-1] == "--ev=-2,0,2"
    args = build_parser().parse_args(argv[3:])
    assert (args.brackets, args.input, args.more, args.ev, args.output) == (True, "a.jpg", ["b.jpg", "c.jpg"], ["-2,0,2"], "env.exr")
    hdr = runner.build_argv(runner.Settings(method="akyuz", brackets=["shots/"], ev="-2 0 2"), "/py", "x.jpg", "o.exr")
    args = build_parser().parse_args(hdr[3:])
    assert args.func.__name__ == "run_reconstruct"
    assert (args.brackets, args.inputs, args.ev, args.output, args.overwrite) == (True, ["shots/"], ["-2,0,2"], "o.exr", True)
    # no brackets: the input as before, and no --ev unless an EV list is typed (the CLI then says it needs brackets)
    plain = runner.build_envmap_argv(runner.Settings(mode=runner.MODE_ENVMAP), "/py", "IMG.dng", "env.exr")
    assert plain[4] == "IMG.dng" and not [a for a in plain if a.startswith("--ev") or a == "--brackets"]
    # a Read of a camera RAW is handed to singlehdr as the file (it reads RAW with rawpy)
    assert runner.RAW_EXTENSIONS == RAW_EXTENSIONS
    assert all(runner.is_direct_input(f"IMG{e.upper()}") for e in RAW_EXTENSIONS)


def _bracket_gizmo(nuke, node, shots, out: Path, mode: str, **knobs):  # noqa: F811
    nuke.user_sets(node, "mode", mode)
    node["method"].setValue("akyuz")
    node["envmap_width"].setValue(64)
    nuke.user_sets(node, "brackets", " ".join(f'"{p}"' for p in shots))  # nothing connected to the input
    node["output_file"].setValue(str(out))
    for name, value in knobs.items():
        nuke.user_sets(node, name, value)
    nuke.current_frame = 1
    node["reconstruct"].execute()
    nuke.process_events()


def test_nuke_gizmo_brackets_write_the_clis_envmap_and_hdr(nuke, gizmo, tmp_path):  # noqa: F811
    shots = make_brackets(tmp_path / "my shots")  # a space in the folder: the knob quotes the paths
    assert gizmo["ev_list"].enabled() is False  # the EV list matters only with brackets
    cli_env = tmp_path / "cli" / "env.exr"
    cli("envmap", "--brackets", *shots, "-o", cli_env, "--method", "akyuz", "--width", "64", "--sun", "auto")
    _bracket_gizmo(nuke, gizmo, shots, tmp_path / "nuke" / "env.####.exr", "Environment map")
    assert nuke.messages == []
    assert gizmo["ev_list"].enabled() is True
    px_n, attrs_n, type_n = read_openexr(tmp_path / "nuke" / "env.0001.exr")
    px_c, attrs_c, type_c = read_openexr(cli_env)
    assert px_n.shape == px_c.shape == (32, 64, 4) and type_n == type_c
    np.testing.assert_array_equal(px_n, px_c)
    assert px_c[..., :3].max() > 4.0 and attrs_c["singlehdr:method"] == "brackets+akyuz"
    assert_same_header(attrs_n, attrs_c)

    # HDR-image mode: singlehdr reconstruct --brackets, with an EV list
    cli_hdr = tmp_path / "cli" / "hdr.exr"
    cli("reconstruct", "--brackets", *shots, "-o", cli_hdr, "--method", "akyuz", "--ev=-2,0,2")
    _bracket_gizmo(nuke, gizmo, shots, tmp_path / "nuke" / "hdr.####.exr", "HDR image", ev_list="-2 0 2")
    assert nuke.messages == []
    px_n, attrs_n, type_n = read_openexr(tmp_path / "nuke" / "hdr.0001.exr")
    px_c, attrs_c, type_c = read_openexr(cli_hdr)
    assert px_n.shape == px_c.shape and px_c.shape[:2] == (32, 64) and type_n == type_c
    np.testing.assert_array_equal(px_n, px_c)
    assert px_c[..., :3].max() > 4.0
    assert_same_header(attrs_n, attrs_c)


def test_nuke_gizmo_bad_brackets_show_the_clis_line(nuke, gizmo, tmp_path):  # noqa: F811
    shots = make_brackets(tmp_path / "shots")
    plain = make_plain_jpeg(tmp_path / "shots" / "shot_3.jpg")
    expected = cli_error("envmap", "--brackets", *shots, plain, "-o", tmp_path / "x.exr", "--method", "akyuz", "--width", "64")
    assert "shot_3.jpg has no EXIF exposure time; pass --ev" in expected
    _bracket_gizmo(nuke, gizmo, [*shots, plain], tmp_path / "nuke" / "env.####.exr", "Environment map")
    assert nuke.messages == [f"SingleHDR: {expected}"]
    assert gizmo["status"].value() == f"error: {expected}"
    assert not (tmp_path / "nuke" / "env.0001.exr").exists()
    # an EV list without brackets: the CLI's own line
    nuke.messages.clear()
    jpg = make_plain_jpeg(tmp_path / "one.jpg")
    expected = cli_error("reconstruct", jpg, "-o", tmp_path / "y.exr", "--method", "akyuz", "--ev=0")
    gizmo.setInput(0, nuke.nodes.Read(file=str(jpg)))
    nuke.user_sets(gizmo, "brackets", "")
    nuke.user_sets(gizmo, "mode", "HDR image")
    nuke.user_sets(gizmo, "ev_list", "0")
    gizmo["reconstruct"].execute()
    nuke.process_events()
    assert nuke.messages == [f"SingleHDR: {expected}"]


def test_nuke_farm_bakes_brackets_once_as_a_still(nuke, gizmo, tmp_path, monkeypatch, popen_spy):  # noqa: F811
    from test_nuke_production import save_script, write_node

    shots = make_brackets(tmp_path / "shots")
    cli_exr = tmp_path / "cli" / "env.exr"
    cli("envmap", "--brackets", *shots, "-o", cli_exr, "--method", "akyuz", "--width", "64", "--sun", "auto", "--ev=-2,0,2")
    before = len(popen_spy)
    nuke.user_sets(gizmo, "mode", "Environment map")
    gizmo["method"].setValue("akyuz")
    gizmo["envmap_width"].setValue(64)
    nuke.user_sets(gizmo, "brackets", f"{shots[0]}, {shots[1]}, {shots[2]}")
    nuke.user_sets(gizmo, "ev_list", "-2,0,2")
    gizmo["output_file"].setValue(str(tmp_path / "maps" / "env.####.exr"))
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(3)
    gizmo["bake_on_render"].setValue(True)
    gizmo["python"].setValue("")  # the farm's Python comes from its environment
    out = write_node(nuke, gizmo, tmp_path / "out.####.exr")
    script = save_script(nuke, tmp_path / "shot")

    monkeypatch.setenv("SINGLEHDR_PYTHON", sys.executable)
    farm = fresh_nuke(monkeypatch, gui=False)
    farm.scriptOpen(str(script))
    farm.execute(farm.toNode(out.name()), 1, 3)  # beforeRender: one envmap --brackets run (a still: frame 1 only)
    runs = popen_spy[before:]
    assert len(runs) == 1 and runs[0][3:8] == ["envmap", "--brackets", *map(str, shots)] and runs[0][-1] == "--ev=-2,0,2"
    assert sorted(p.name for p in (tmp_path / "maps").glob("*.exr")) == ["env.0001.exr"]
    np.testing.assert_array_equal(read_openexr(tmp_path / "maps" / "env.0001.exr")[0], read_openexr(cli_exr)[0])
    farm.execute(farm.toNode(out.name()), 1, 3)  # the map is there: no new run
    assert len(popen_spy) == before + 1
