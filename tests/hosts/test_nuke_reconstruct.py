"""Pressing Reconstruct: the real singlehdr CLI runs in a subprocess.

Nuke is the recording fake; the subprocess, the image files and the EXRs
(read back with OpenImageIO) are real.  ``--method inverse-srgb`` keeps the
runs fast and gives a value to check: linear = inverse sRGB of the input.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nuke_fixtures import gizmo, make_image, nuke, popen_spy, read_exr, write_png  # noqa: F401 (fixtures)
from singlehdr.camera.transfer import srgb_to_linear


def _setup(node, out_pattern, method="inverse-srgb"):
    node["method"].setValue(method)
    node["output_file"].setValue(str(out_pattern))


def test_reconstruct_current_frame_from_an_upstream_read(nuke, gizmo, popen_spy, tmp_path, monkeypatch):
    monkeypatch.setenv("NUKE_TEMP_DIR", str(tmp_path / "nuketemp"))
    src = tmp_path / "plate.png"
    ldr = write_png(src, make_image(16, 24, seed=1), bits=8)
    read = nuke.nodes.Read(file=str(src))
    gizmo.setInput(0, read)
    gizmo["method"].setValue("inverse-srgb")  # output file left empty: a temp pattern is chosen
    nuke.current_frame = 7

    gizmo["reconstruct"].execute()  # the artist presses the button

    assert nuke.messages == []
    pattern = f"{tmp_path}/nuketemp/singlehdr/{gizmo.name()}.####.exr"
    assert gizmo["output_file"].value() == pattern
    out = tmp_path / "nuketemp" / "singlehdr" / f"{gizmo.name()}.0007.exr"
    assert popen_spy == [[
        sys.executable, "-m", "singlehdr.cli", "reconstruct", str(src), "-o", str(out), "--method", "inverse-srgb",
        "--device", "auto", "--exposure", "relative", "--colorspace", "lin_rec709", "--overwrite",
    ]]
    assert nuke.executed == []  # the Read's own file was used: nothing rendered
    hdr = read_exr(out)
    assert hdr.shape == (16, 24, 3)
    np.testing.assert_allclose(hdr, srgb_to_linear(ldr), rtol=2e-3, atol=1e-4)  # half-float EXR
    internal = gizmo.node("SingleHDR_Read")
    assert internal["file"].value() == pattern
    assert [internal[k].value() for k in ("first", "last", "origfirst", "origlast")] == [7, 7, 7, 7]
    assert nuke.reloads == [("SingleHDR_Read", pattern)]
    assert ("ProgressTask", "SingleHDR") in nuke.progress and ("setProgress", 100) in nuke.progress
    assert gizmo["status"].value() == f"1 frame(s) -> {pattern}"


def test_reconstruct_range_renders_the_upstream_with_a_write(nuke, gizmo, popen_spy, tmp_path):
    grade = nuke.nodes.Grade()  # not a Read: the frames must be rendered
    gizmo.setInput(0, grade)
    _setup(gizmo, tmp_path / "hdr.%04d.exr")
    gizmo["range_first"].setValue(3)
    gizmo["range_last"].setValue(5)
    rendered = {}
    seen_workdirs = []

    def render(write, first, last):
        """What Nuke's Write would do: one 16-bit sRGB PNG per frame."""
        from singlehdr_nuke.runner import frame_path

        assert write.input(0) is grade
        for f in range(first, last + 1):
            path = frame_path(write["file"].value(), f)
            rendered[f] = write_png(Path(path), make_image(12, 20, seed=f) * (0.4 + 0.2 * (f - 3)), bits=16)
            seen_workdirs.append(os.path.dirname(path))

    nuke.render_hook = render
    gizmo["reconstruct_range"].execute()

    assert nuke.messages == []
    assert len(nuke.executed) == 1 and nuke.executed[0][1:] == (3, 5)  # one execute for the whole range
    (write_call,) = nuke.called("nodes.Write")
    assert write_call[1]["file_type"] == "png" and write_call[1]["channels"] == "rgb"
    write_name = nuke.executed[0][0]
    assert write_name in nuke.deleted  # the temporary Write is gone again
    sets = {(a[1], a[2]) for a, _ in nuke.called("Knob.setValue") if a[0] == write_name}
    assert ("datatype", "16 bit") in sets and ("colorspace", "sRGB") in sets
    assert len(popen_spy) == 1  # one singlehdr run: the model is loaded once
    argv = popen_spy[0]
    assert argv[argv.index("--frames") + 1] == "3-5" and argv[argv.index("-o") + 1] == str(tmp_path / "hdr.%04d.exr")
    for f in (3, 4, 5):
        hdr = read_exr(tmp_path / f"hdr.{f:04d}.exr")
        np.testing.assert_allclose(hdr, srgb_to_linear(rendered[f]), rtol=2e-3, atol=1e-4)
    internal = gizmo.node("SingleHDR_Read")
    assert (internal["first"].value(), internal["last"].value()) == (3, 5)
    assert not os.path.exists(seen_workdirs[0])  # temporary frames cleaned up
    progress = [p[1] for p in nuke.progress if p[0] == "setProgress"]
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)


def test_a_still_over_a_range_is_reconstructed_once_and_held(nuke, gizmo, popen_spy, tmp_path):
    write_png(tmp_path / "still.png", make_image(8, 8, seed=3))
    gizmo["source"].setValue("file")
    gizmo["input_file"].setValue(str(tmp_path / "still.png"))
    _setup(gizmo, tmp_path / "s.####.exr", method="akyuz")
    gizmo["range_first"].setValue(10)
    gizmo["range_last"].setValue(12)
    gizmo["reconstruct_range"].execute()
    assert nuke.messages == [] and len(popen_spy) == 1
    assert "--frames" not in popen_spy[0] and popen_spy[0][popen_spy[0].index("-o") + 1] == str(tmp_path / "s.0010.exr")
    assert sorted(p.name for p in tmp_path.glob("s.*.exr")) == ["s.0010.exr"]
    internal = gizmo.node("SingleHDR_Read")
    assert (internal["first"].value(), internal["last"].value()) == (10, 10)
    assert (internal["before"].value(), internal["after"].value()) == ("hold", "hold")


def test_cli_error_surfaces_as_one_line_message(nuke, gizmo, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    gizmo["source"].setValue("file")
    gizmo["input_file"].setValue(str(bad))
    _setup(gizmo, tmp_path / "x.####.exr")
    gizmo["reconstruct"].execute()
    assert len(nuke.messages) == 1
    msg = nuke.messages[0]
    assert msg.startswith("SingleHDR: ") and "\n" not in msg and "broken.png" in msg
    assert "Traceback" not in msg
    assert gizmo["status"].value() == "error: " + msg[len("SingleHDR: "):]
    assert gizmo.node("SingleHDR_Read")["file"].value() == ""  # nothing loaded
    assert not any(tmp_path.glob("x.*.exr"))


def test_without_gui_errors_raise_runtime_error(nuke, gizmo, popen_spy, tmp_path):
    nuke.GUI = False
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    with pytest.raises(RuntimeError, match="nothing is connected to the SingleHDR input"):
        gizmo["reconstruct"].execute()
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "a.png")))
    gizmo["output_file"].setValue(str(tmp_path / "x.exr"))
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(3)
    with pytest.raises(RuntimeError, match="needs a frame number pattern"):
        gizmo["reconstruct_range"].execute()
    gizmo["range_last"].setValue(0)
    with pytest.raises(RuntimeError, match="range 1-0 is empty"):
        gizmo["reconstruct_range"].execute()
    assert popen_spy == [] and nuke.messages == []  # caught before any subprocess


def test_cancel_stops_the_subprocess(nuke, gizmo, tmp_path):
    slow = tmp_path / "slowpython"
    slow.write_text("#!/bin/sh\nsleep 60\n")
    slow.chmod(0o755)
    src = tmp_path / "p.png"
    write_png(src, make_image(8, 8, seed=2))
    gizmo.setInput(0, nuke.nodes.Read(file=str(src)))
    gizmo["python"].setValue(str(slow))
    gizmo["output_file"].setValue(str(tmp_path / "c.####.exr"))
    nuke.cancel_requested = True
    t0 = time.monotonic()
    gizmo["reconstruct"].execute()
    assert time.monotonic() - t0 < 15
    assert nuke.messages == ["SingleHDR: cancelled; no new result was loaded"]
    assert gizmo.node("SingleHDR_Read")["file"].value() == ""


def test_menu_check_setup_runs_the_real_cli(nuke, monkeypatch):
    from nuke_fixtures import GIZMO_DIR

    monkeypatch.setenv("SINGLEHDR_PYTHON", sys.executable)
    nuke.start_nuke(str(GIZMO_DIR))
    entry = next(e for e in nuke.menu_entries if e["path"].endswith("Check set-up"))
    nuke.run_script(entry["command"], nuke.root(), None)
    import singlehdr

    assert nuke.messages == [f"SingleHDR is ready: singlehdr {singlehdr.__version__}\nPython: {sys.executable}"]
    nuke.filename_answer = None  # export dialog cancelled: nothing runs
    assert sys.modules["singlehdr_nuke"].export_torchscript_dialog() is None
