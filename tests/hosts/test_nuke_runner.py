"""The Nuke-free half of the gizmo (singlehdr_nuke.runner): paths, argv, errors."""

from __future__ import annotations

import os
import sys
import time

import pytest

from nuke_fixtures import GIZMO_DIR, nuke  # noqa: F401 (fixture)


@pytest.fixture
def runner(nuke):
    sys.path.insert(0, str(GIZMO_DIR))
    from singlehdr_nuke import runner

    return runner


def test_frame_path_follows_nuke_patterns(runner):
    assert runner.frame_path("/a/b.####.exr", 7) == "/a/b.0007.exr"
    assert runner.frame_path("/a/b.#.exr", 7) == "/a/b.7.exr"
    assert runner.frame_path("b.%04d.exr", 1001) == "b.1001.exr"
    assert runner.frame_path("b.%d.exr", 12) == "b.12.exr"
    assert runner.frame_path("b.##.exr", 123) == "b.123.exr"  # wider than the padding
    assert runner.frame_path("still.exr", 5) == "still.exr"
    assert runner.has_frame_pattern("x.####.png") and runner.has_frame_pattern("x.%03d.png")
    assert not runner.has_frame_pattern("x.png")


def test_frames_spec_joins_runs(runner):
    assert runner.frames_spec([1003, 1001, 1002, 1007, 1009, 1008]) == "1001-1003,1007-1009"
    assert runner.frames_spec([5]) == "5"


def test_build_argv_is_the_singlehdr_cli(runner):
    s = runner.Settings(method="singlehdr", model=" /m/x.safetensors ", exposure="median", exposure_target=0.25,
                        colorspace="acescg", device="cuda")
    assert runner.build_argv(s, "/py", "in.####.jpg", "out.####.exr", [1, 2, 3]) == [
        "/py", "-m", "singlehdr.cli", "reconstruct", "in.####.jpg", "--frames", "1-3", "-o", "out.####.exr",
        "--method", "singlehdr", "--model", "/m/x.safetensors", "--device", "cuda", "--exposure", "median",
        "--exposure-target", "0.25", "--colorspace", "acescg", "--overwrite",
    ]
    classical = runner.Settings(method="akyuz", model="/ignored.safetensors")
    assert runner.build_argv(classical, "/py", "a.jpg", "a.exr") == [
        "/py", "-m", "singlehdr.cli", "reconstruct", "a.jpg", "-o", "a.exr", "--method", "akyuz",
        "--device", "auto", "--exposure", "relative", "--colorspace", "lin_rec709", "--overwrite",
    ]


def test_build_argv_parses_with_the_real_cli(runner):
    """Every option the node passes exists in `singlehdr reconstruct` with the node's choices."""
    from singlehdr.cli import build_parser

    s = runner.Settings(method="kovaleski", exposure="median", exposure_target=0.3, colorspace="lin_rec2020", device="cpu")
    argv = runner.build_argv(s, "/py", "in.####.png", "o.####.exr", [4, 5])
    args = build_parser().parse_args(argv[3:])
    assert (args.method, args.exposure, args.exposure_target, args.colorspace, args.device, args.overwrite) == (
        "kovaleski", "median", 0.3, "lin_rec2020", "cpu", True)
    assert args.frames == "4-5" and args.output == "o.####.exr"
    for method in runner.METHODS:
        build_parser().parse_args(runner.build_argv(runner.Settings(method=method), "/py", "a.png", "a.exr")[3:])


def test_error_line_takes_the_cli_message(runner):
    err = "some warning\nerror: input x.png does not exist; check the path\n"
    assert runner.error_line(err, 2) == "input x.png does not exist; check the path"
    assert runner.error_line("Traceback...\nValueError: boom\n", 1) == "singlehdr failed (exit status 1): ValueError: boom"
    assert runner.error_line("", 9) == "singlehdr failed with exit status 9 and no message"
    msg = runner.error_line("/x/python: No module named singlehdr.cli\n", 1, "/x/python")
    assert msg.startswith("the Python at /x/python has no singlehdr installed")


def test_pick_srgb_colorspace_across_configs(runner):
    assert runner.pick_srgb_colorspace(["linear", "sRGB", "rec709"]) == "sRGB"
    assert runner.pick_srgb_colorspace(["ACES/ACES - ACEScg", "Output/Output - sRGB"]) == "Output/Output - sRGB"
    assert runner.pick_srgb_colorspace(["ACEScg", "sRGB Encoded Rec.709 (sRGB)"]) == "sRGB Encoded Rec.709 (sRGB)"
    assert runner.pick_srgb_colorspace(["linear", "Cineon"]) is None
    # ACES 1.x configs have both: the plain sRGB encoding wins over the RRT + sRGB display transform
    # ("Output - sRGB" tone-maps, so scene-linear values would not come back from singlehdr)
    aces = ["ACES/ACES - ACEScg", "Output/Output - sRGB", "Utility/Utility - sRGB - Texture"]
    assert runner.pick_srgb_colorspace(aces) == "Utility/Utility - sRGB - Texture"


def test_resolve_python_order(runner, monkeypatch, tmp_path):
    assert runner.resolve_python(sys.executable) == sys.executable  # the knob wins
    monkeypatch.setenv("SINGLEHDR_PYTHON", sys.executable)
    assert runner.resolve_python("") == sys.executable  # then the environment
    monkeypatch.setenv("SINGLEHDR_PYTHON", str(tmp_path / "nope"))
    with pytest.raises(runner.NodeError, match="from SINGLEHDR_PYTHON"):
        runner.resolve_python("")
    monkeypatch.delenv("SINGLEHDR_PYTHON")
    with pytest.raises(runner.NodeError, match="no Python for singlehdr is set"):  # never python3 on PATH
        runner.resolve_python("")


def test_child_env_strips_nukes_python_and_library_variables(runner):
    base = {"PATH": "/usr/bin", "HOME": "/home/a", "PYTHONHOME": "/opt/Nuke15.1v1", "PYTHONPATH": "/opt/Nuke15.1v1/lib",
            "LD_LIBRARY_PATH": "/opt/Nuke15.1v1", "NUKE_PATH": "/studio/nuke", "FOUNDRY_LICENSE": "x",
            "OCIO": "/studio/config.ocio", "SINGLEHDR_PYTHON": "/py", "CUDA_VISIBLE_DEVICES": "0"}
    assert runner.child_env(base) == {"PATH": "/usr/bin", "HOME": "/home/a", "OCIO": "/studio/config.ocio",
                                      "SINGLEHDR_PYTHON": "/py", "CUDA_VISIBLE_DEVICES": "0", "PYTHONUNBUFFERED": "1"}


def test_singlehdr_colorspace_knows_ocio_names(runner):
    assert runner.singlehdr_colorspace("ACES/ACES - ACEScg") == "acescg"
    assert runner.singlehdr_colorspace("ACEScg") == "acescg"
    assert runner.singlehdr_colorspace("linear") == "lin_rec709"
    assert runner.singlehdr_colorspace("Utility/Linear Rec.709 (sRGB)") == "lin_rec709"
    assert runner.singlehdr_colorspace("ACES2065-1") == "aces2065_1"
    assert runner.singlehdr_colorspace("Utility - Linear - Rec.2020") == "lin_rec2020"
    assert runner.singlehdr_colorspace("sRGB") is None and runner.singlehdr_colorspace("ACES - ACEScct") is None
    assert runner.writable_colorspaces(["linear", "sRGB", "ACES/ACES - ACEScg"]) == ["linear", "ACES - ACEScg"]
    # every name maps to a colour space the core writes
    from singlehdr.io.colorspace import COLORSPACES

    assert set(runner.OCIO_NAMES) == set(COLORSPACES)


def test_run_cli_reports_progress_lines_and_cancels(runner, tmp_path):
    script = "import time, sys\nfor i in range(3):\n    print('frame', i)\n    time.sleep(0.05)\ntime.sleep(60)\n"
    seen = []
    t0 = time.monotonic()
    with pytest.raises(runner.Cancelled):
        runner.run_cli([sys.executable, "-c", script], tick=lambda e, lines: seen.append(len(lines)),
                       cancelled=lambda: bool(seen) and seen[-1] >= 3, poll_s=0.02)
    assert time.monotonic() - t0 < 30  # stopped, not waited for
    assert seen[-1] == 3 and seen == sorted(seen)  # lines arrived while it ran (unbuffered)
    with pytest.raises(runner.NodeError, match="cannot start"):
        runner.run_cli([str(tmp_path / "missing-python"), "-c", "pass"])
    with pytest.raises(runner.NodeError, match="took longer than"):
        runner.run_cli([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=0.3, poll_s=0.05)
    before = os.environ.get("PYTHONUNBUFFERED")
    out = runner.run_cli([sys.executable, "-c", "import os; print(os.environ['PYTHONUNBUFFERED'])"])
    assert out.strip() == "1"
    assert os.environ.get("PYTHONUNBUFFERED") == before  # our own environment is left alone
