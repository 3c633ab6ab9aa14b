"""The gizmo's Environment-map mode: ``singlehdr envmap`` in a child process.

Nuke is the strict recording fake (tests/hosts/fake_nuke.py); the singlehdr
CLI (real child process, a training-free method), the JPEG, the EXRs (read
back with OpenImageIO) and the JSON report are real.  The byte-level
comparison with ``singlehdr envmap`` is in test_host_parity.py.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from nuke_fixtures import GIZMO_DIR, fresh_nuke, gizmo, nuke, popen_spy, read_exr  # noqa: F401 (fixtures)
from singlehdr import choices
from test_host_parity import make_jpeg


@pytest.fixture
def runner(nuke):  # noqa: F811
    sys.path.insert(0, str(GIZMO_DIR))
    from singlehdr_nuke import runner

    return runner


def press(nuke, node, button: str) -> None:  # noqa: F811
    node[button].execute()
    nuke.process_events()


def envmap_node(nuke, node, jpg: Path, out: Path, **knobs):  # noqa: F811
    """The gizmo in Environment-map mode on a Read of ``jpg`` (read directly by singlehdr), akyuz, 128 wide."""
    node.setInput(0, nuke.nodes.Read(file=str(jpg)))
    nuke.user_sets(node, "mode", "Environment map")
    node["method"].setValue("akyuz")
    node["envmap_width"].setValue(128)
    node["output_file"].setValue(str(out))
    for name, value in knobs.items():
        nuke.user_sets(node, name, value)
    return node


# ------------------------------------------------------------- the command line


def test_envmap_argv_is_the_cli(runner):
    s = runner.Settings(method="singlehdr", model=" /m/x.safetensors ", exposure="median", exposure_target=0.25,
                        colorspace="acescg", device="cuda", mode=runner.MODE_ENVMAP, envmap_kind="photo", width=512,
                        sun="on", sun_intensity=40.0, fov=65.0, yaw=-30.0, pitch=10.0, split_sun=True)
    assert runner.build_envmap_argv(s, "/py", "in.0007.jpg", "o.0007.exr", "o.0007_nosun.exr", "o.0007_sun.json") == [
        "/py", "-m", "singlehdr.cli", "envmap", "in.0007.jpg", "-o", "o.0007.exr", "--kind", "photo", "--width", "512",
        "--method", "singlehdr", "--model", "/m/x.safetensors", "--device", "cuda", "--exposure", "median",
        "--exposure-target", "0.25", "--colorspace", "acescg", "--sun", "on", "--sun-intensity", "40.0",
        "--fov", "65.0", "--yaw", "-30.0", "--pitch", "10.0", "--without-sun", "o.0007_nosun.exr",
        "--report", "o.0007_sun.json", "--overwrite",
    ]
    # defaults: 0 = from the fit / EXIF and unset yaw/pitch are left to singlehdr (it says what it assumed)
    plain = runner.Settings(method="akyuz", model="/ignored.safetensors", mode=runner.MODE_ENVMAP)
    assert runner.build_envmap_argv(plain, "/py", "a.jpg", "a.exr") == [
        "/py", "-m", "singlehdr.cli", "envmap", "a.jpg", "-o", "a.exr", "--kind", "auto", "--width", "1024",
        "--method", "akyuz", "--device", "auto", "--exposure", "relative", "--colorspace", "lin_rec709",
        "--sun", "auto", "--overwrite",
    ]


def test_envmap_argv_parses_with_the_real_cli(runner):
    """Every option the node passes exists in `singlehdr envmap`, with every choice the node offers."""
    from singlehdr.cli import build_parser

    s = runner.Settings(method="kovaleski", exposure="median", exposure_target=0.3, colorspace="lin_rec2020",
                        device="cpu", mode=runner.MODE_ENVMAP, envmap_kind="ball", width=256, sun="on",
                        sun_intensity=12.5, fov=50.0, yaw=15.0, pitch=-5.0)
    argv = runner.build_envmap_argv(s, "/py", "ball.png", "env.exr", "env_nosun.exr", "env_sun.json")
    args = build_parser().parse_args(argv[3:])
    assert args.func.__module__ == "singlehdr.envmap.commands"
    assert (args.input, args.output, args.kind, args.width, args.method, args.exposure, args.exposure_target) == (
        "ball.png", "env.exr", "ball", 256, "kovaleski", "median", 0.3)
    assert (args.colorspace, args.device, args.sun, args.sun_intensity, args.fov, args.yaw, args.pitch) == (
        "lin_rec2020", "cpu", "on", 12.5, 50.0, 15.0, -5.0)
    assert (args.without_sun, args.report, args.overwrite) == ("env_nosun.exr", "env_sun.json", True)
    for kind in runner.ENVMAP_KINDS:
        for sun in runner.SUN_MODES:
            for method in runner.METHODS:
                one = runner.Settings(method=method, mode=runner.MODE_ENVMAP, envmap_kind=kind, sun=sun)
                args = build_parser().parse_args(runner.build_envmap_argv(one, "/py", "a.png", "a.exr")[3:])
                assert (args.kind, args.sun, args.method) == (kind, sun, method)
    assert (runner.ENVMAP_KINDS, runner.SUN_MODES) == (choices.ENVMAP_KINDS, choices.SUN_MODES)


def test_knob_combinations_singlehdr_refuses_are_caught_first(runner):
    with pytest.raises(runner.NodeError, match="sun = off adds none"):
        runner.build_envmap_argv(runner.Settings(sun="off", sun_intensity=3.0), "/py", "a.jpg", "a.exr")
    with pytest.raises(runner.NodeError, match="negative"):
        runner.check_envmap_settings(runner.Settings(sun_intensity=-1.0))


def test_sidecars_keep_the_frame_pattern(runner):
    assert runner.sidecar_paths("/s/env.%V.####.exr") == ("/s/env.%V.####_nosun.exr", "/s/env.%V.####_sun.json")
    assert runner.sidecar_paths("/s/env.main.0012.exr") == ("/s/env.main.0012_nosun.exr", "/s/env.main.0012_sun.json")
    assert runner.sidecar_paths("/s/env.hdr") == ("/s/env_nosun.hdr", "/s/env_sun.json")


def test_light_rotation_aims_a_directlight_at_the_scene(runner):
    # by hand: overhead sun -> the light points straight down (rotate x -90)
    assert runner.light_rotation((0, 1, 0)) == pytest.approx((-90.0, 0.0))
    # sun straight ahead (-Z) -> the light turned round to shine towards +Z
    assert runner.light_rotation((0, 0, -1)) == pytest.approx((0.0, 180.0))
    assert runner.light_rotation((1, 0, 0)) == pytest.approx((0.0, 90.0))  # sun at +X: shine towards -X
    s = math.sqrt(0.5)
    assert runner.light_rotation((0, s, s)) == pytest.approx((-45.0, 0.0))  # behind, 45 deg up
    # any direction: Nuke's ZXY order with rotate z = 0 applies X, then Y to the light's -Z axis
    rng = np.random.default_rng(3)
    for d in rng.normal(size=(20, 3)):
        d /= np.linalg.norm(d)
        rx, ry = np.radians(runner.light_rotation(d))
        rot_x = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
        rot_y = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
        np.testing.assert_allclose(rot_y @ rot_x @ np.array([0.0, 0.0, -1.0]), -d, atol=1e-9)


def test_sun_summary_states_the_reports_numbers(runner):
    report = {"sun": {"direction": [0.0, 0.6, -0.8], "azimuth_deg": 0.0, "elevation_deg": 36.87, "diameter_deg": 0.53,
                      "irradiance_rgb": [10.0, 9.5, 8.25], "confidence": 0.9, "method": "clear-sky fit"}}
    text = runner.sun_summary(report, "/s/env_nosun.exr")
    assert text.splitlines() == [
        "sun direction (x, y, z): 0.0000 0.6000 -0.8000  (+Y up, -Z forward)",
        "elevation 36.87 deg, azimuth 0.00 deg, diameter 0.53 deg",
        "irradiance RGB (map units): 10 9.5 8.25",
        f"DirectLight rotate (order ZXY): {math.degrees(math.asin(-0.6)):.2f} 180.00 0",  # ahead: shine back to +Z
        "confidence 0.90 (clear-sky fit)",
        "sun-free map: /s/env_nosun.exr",
    ]
    none = runner.sun_summary({"sun": None, "notes": ["no sun added: nothing clipped is round enough"]})
    assert none == "no sun was recovered (no sun added: nothing clipped is round enough); the map holds all the light"
    assert runner.sun_summary({"sun": None, "sun_assessment": {"mode": "off"}}).startswith("no sun was recovered (sun = off)")


# ------------------------------------------------------------------ the node


def test_mode_knobs_and_what_they_show(nuke, gizmo):  # noqa: F811
    node = gizmo
    assert node["mode"].values() == ["HDR image", "Environment map"] and node["mode"].value() == "HDR image"
    assert node["envmap_kind"].values() == list(choices.ENVMAP_KINDS)
    assert node["sun"].values() == list(choices.SUN_MODES)
    defaults = {k: node[k].value() for k in ("envmap_kind", "envmap_width", "sun", "sun_intensity", "fov", "photo_view",
                                             "split_sun", "sun_info")}
    assert defaults == {"envmap_kind": "auto", "envmap_width": 1024, "sun": "auto", "sun_intensity": 0.0, "fov": 0.0,
                        "photo_view": False, "split_sun": False, "sun_info": ""}
    assert node["sun_info"].Class() == "Text_Knob"  # read-only
    envmap_knobs = ("envmap_kind", "envmap_width", "sun", "sun_intensity", "fov", "photo_view", "yaw", "pitch", "split_sun")
    assert not any(node[k].visible() for k in envmap_knobs + ("sun_info",))  # HDR image: as before
    nuke.user_sets(node, "mode", "Environment map")
    assert all(node[k].visible() for k in envmap_knobs) and not node["sun_info"].visible()
    assert not node["yaw"].enabled() and not node["pitch"].enabled()
    nuke.user_sets(node, "photo_view", True)
    assert node["yaw"].enabled() and node["pitch"].enabled()
    nuke.user_sets(node, "envmap_kind", "ball")  # no field of view / direction for a chrome ball
    assert not any(node[k].visible() for k in ("fov", "photo_view", "yaw", "pitch"))
    nuke.user_sets(node, "sun", "off")
    assert not node["sun_intensity"].enabled()
    nuke.user_sets(node, "split_sun", True)
    assert node["sun_info"].visible()


def test_envmap_button_writes_the_map_the_sunfree_map_and_shows_the_sun(nuke, gizmo, popen_spy, tmp_path):  # noqa: F811
    jpg = make_jpeg(tmp_path / "pano.jpg", 128, 64)
    out = tmp_path / "maps" / "pano.####.exr"
    envmap_node(nuke, gizmo, jpg, out, split_sun=True)
    # inverse sRGB keeps the sky's shape for the sun's sky fit; Akyuz's expansion bends it (fit spread 0.33 on this
    # sky, beyond the fit step since stop 13)
    gizmo["method"].setValue("inverse-srgb")
    nuke.current_frame = 3
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == []
    assert len(popen_spy) == 1 and popen_spy[0][3] == "envmap"
    env = read_exr(tmp_path / "maps" / "pano.0003.exr")
    nosun = read_exr(tmp_path / "maps" / "pano.0003_nosun.exr")
    assert env.shape == nosun.shape == (64, 128, 4)  # equirect 2:1, alpha = seen
    report = json.loads((tmp_path / "maps" / "pano.0003_sun.json").read_text())
    sun = report["sun"]
    assert sun is not None and sun["irradiance_rgb"][1] > 0  # the clipped disc became a sun
    # the sun-free map differs from the map only in the sun's disc, and holds less light there
    diff = np.any(env[..., :3] != nosun[..., :3], axis=-1)
    assert 0 < diff.sum() < 0.02 * diff.size and env[..., :3][diff].max() > nosun[..., :3][diff].max()
    # the sun knob states the report's numbers (for a DirectLight)
    text = gizmo["sun_info"].value()
    d = sun["direction"]
    assert text.startswith("frame 3: sun direction (x, y, z): " + " ".join(f"{v:.4f}" for v in d))
    assert f"irradiance RGB (map units): {sun['irradiance_rgb'][0]:.6g}" in text
    assert text.endswith(f"sun-free map: {tmp_path / 'maps' / 'pano.0003_nosun.exr'}")
    # the node's Read shows the map (held at the baked frame)
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (3, 3)
    np.testing.assert_array_equal(nuke.pixels(gizmo, 3, "main"), env[..., :3])


def test_envmap_errors_are_one_line(nuke, gizmo, popen_spy, tmp_path):  # noqa: F811
    jpg = make_jpeg(tmp_path / "pano.jpg", 128, 64)
    envmap_node(nuke, gizmo, jpg, tmp_path / "e.####.exr", sun="off", sun_intensity=5.0)
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == ["SingleHDR: sun intensity sizes the sun, but sun = off adds none; set sun to auto or on, "
                             "or the intensity to 0"]
    assert popen_spy == []  # caught before any child process
    nuke.messages.clear()
    gizmo["sun_intensity"].setValue(0.0)
    gizmo["envmap_width"].setValue(10)  # singlehdr refuses it: its own one line
    press(nuke, gizmo, "reconstruct")
    assert len(nuke.messages) == 1 and "\n" not in nuke.messages[0] and "Traceback" not in nuke.messages[0]
    assert "width" in nuke.messages[0] and "10" in nuke.messages[0]
    assert gizmo["baked_last"].value() < gizmo["baked_first"].value() and not any(tmp_path.glob("e.*.exr"))


def test_farm_command_bakes_envmaps_and_reopen_shows_the_sun(nuke, gizmo, tmp_path, monkeypatch):  # noqa: F811
    jpg = make_jpeg(tmp_path / "pano.jpg", 128, 64)
    nuke.user_sets(gizmo, "source", "file")
    gizmo["input_file"].setValue(str(jpg))
    nuke.user_sets(gizmo, "mode", "Environment map")
    gizmo["method"].setValue("akyuz")
    gizmo["envmap_width"].setValue(64)
    nuke.user_sets(gizmo, "split_sun", True)
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(2)
    folder = tmp_path / "shot"
    folder.mkdir()
    script = folder / "shot.nk"
    nuke.scriptSaveAs(str(script))

    farm = fresh_nuke(monkeypatch, gui=False)  # nuke -t singlehdr_bake.py shot.nk
    monkeypatch.setenv("SINGLEHDR_PYTHON", sys.executable)
    sys.path.insert(0, str(GIZMO_DIR))
    import importlib

    bake = importlib.import_module("singlehdr_bake")
    try:
        assert bake.main([str(script)]) == 0
    finally:
        sys.modules.pop("singlehdr_bake", None)
    again = fresh_nuke(monkeypatch, gui=False)
    again.scriptOpen(str(script))
    node = again.toNode(gizmo.name())
    assert (node["baked_first"].value(), node["baked_last"].value()) == (1, 1)  # a still: made once, held
    made = folder / "singlehdr" / f"{gizmo.name()}.main.0001.exr"
    assert read_exr(made).shape == (32, 64, 4)
    np.testing.assert_array_equal(again.pixels(node, 2, "main"), read_exr(made)[..., :3])
    report = json.loads(made.with_name(made.stem + "_sun.json").read_text())
    assert node["sun_info"].value().startswith("frame 1: " + (
        "sun direction" if report["sun"] else "no sun was recovered"))  # onCreate re-read the report
    del farm


def test_a_sequence_gets_one_envmap_run_per_frame(nuke, gizmo, popen_spy, tmp_path):  # noqa: F811
    from PIL import Image

    make_jpeg(tmp_path / "pano.0001.jpg", 64, 32)
    first = np.asarray(Image.open(tmp_path / "pano.0001.jpg"))
    Image.fromarray(first[:, ::-1].copy()).save(tmp_path / "pano.0002.jpg", quality=95)  # the sun on the other side
    out = tmp_path / "maps" / "pano.%V.####.exr"
    envmap_node(nuke, gizmo, tmp_path / "pano.####.jpg", out)
    gizmo["envmap_width"].setValue(32)
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(2)
    press(nuke, gizmo, "reconstruct_range")
    assert nuke.messages == []
    assert [(argv[3], argv[4], argv[6]) for argv in popen_spy] == [
        ("envmap", str(tmp_path / f"pano.{f:04d}.jpg"), str(tmp_path / "maps" / f"pano.main.{f:04d}.exr")) for f in (1, 2)]
    maps = [read_exr(tmp_path / "maps" / f"pano.main.{f:04d}.exr") for f in (1, 2)]
    assert maps[0].shape == maps[1].shape == (16, 32, 4)
    # each frame's own map: the brightest column is on the side of that frame's sun
    peak = [int(np.argmax(m[..., 1].max(axis=0))) for m in maps]
    assert peak[0] < 16 <= peak[1]
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (1, 2)
    assert not any((tmp_path / "maps").glob("*_nosun.exr"))  # the sun-free map only when asked for
