"""Pressing Reconstruct: the real singlehdr CLI runs in a subprocess on a worker thread.

Nuke is the strict fake (tests/hosts/fake_nuke.py); the subprocess, the image
files, the temporary Write's PNGs and the EXRs (read back with OpenImageIO)
are real.  ``--method inverse-srgb`` keeps the runs fast and gives a value to
check: linear = inverse sRGB of the input.
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


def save_script(nuke, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shot.nk"
    nuke.scriptSaveAs(str(path))
    return path


def press(nuke, node, button: str) -> float:
    """The artist presses a button; returns how long the UI was blocked, then runs Nuke's event loop."""
    t0 = time.monotonic()
    node[button].execute()
    blocked = time.monotonic() - t0
    nuke.process_events()
    return blocked


def test_reconstruct_current_frame_next_to_the_saved_script(nuke, gizmo, popen_spy, tmp_path):
    src = tmp_path / "plate.png"
    ldr = write_png(src, make_image(16, 24, seed=1), bits=8)
    gizmo.setInput(0, nuke.nodes.Read(file=str(src)))
    gizmo["method"].setValue("inverse-srgb")
    script = save_script(nuke, tmp_path / "shot")
    nuke.current_frame = 7

    press(nuke, gizmo, "reconstruct")

    assert nuke.messages == []
    out = script.parent / "singlehdr" / f"{gizmo.name()}.main.0007.exr"  # default: next to the script, %V = main
    assert popen_spy == [[
        sys.executable, "-m", "singlehdr.cli", "reconstruct", str(src), "-o", str(out), "--method", "inverse-srgb",
        "--device", "auto", "--exposure", "relative", "--colorspace", "lin_rec709", "--overwrite",
    ]]
    hdr = read_exr(out)
    np.testing.assert_allclose(hdr, srgb_to_linear(ldr), rtol=2e-3, atol=1e-4)
    # the node's Read follows the gizmo's knobs: frame 7 baked and held
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (7, 7)
    internal = gizmo.node("SingleHDR_Read")
    assert internal["file"].evaluate() == str(out) and internal["disable"].value() is False
    np.testing.assert_allclose(nuke.pixels(gizmo, 7, "main"), hdr, atol=1e-6)
    assert nuke.reloads[-1] == ("SingleHDR_Read", str(out))
    assert ("ProgressTask", "SingleHDR") in nuke.progress and ("setProgress", 100) in nuke.progress
    assert gizmo["status"].value().startswith("1 frame(s) -> ")


def test_reconstruct_range_renders_the_upstream_with_a_write(nuke, gizmo, popen_spy, tmp_path):
    written = {f: write_png(tmp_path / f"plate.{f:04d}.png", make_image(12, 20, seed=f) * (0.4 + 0.2 * (f - 3)), 16)
               for f in (3, 4, 5)}
    plates = nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=3, last=5)
    grade = nuke.nodes.Grade(inputs=[plates])  # not a Read: the frames are rendered
    gizmo.setInput(0, grade)
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue(str(tmp_path / "hdr.%04d.exr"))
    gizmo["range_first"].setValue(3)
    gizmo["range_last"].setValue(5)

    press(nuke, gizmo, "reconstruct_range")

    assert nuke.messages == []
    assert len(nuke.executed) == 1 and nuke.executed[0][1:] == (3, 5)  # one execute for the whole range
    (write_call,) = nuke.called("nodes.Write")
    assert write_call[1]["file_type"] == "png" and write_call[1]["file"].endswith("input.%V.####.png")
    write_name = nuke.executed[0][0]
    assert write_name in nuke.deleted  # the temporary Write is gone again
    sets = {(a[1], a[2]) for a, _ in nuke.called("Knob.setValue") if a[0] == write_name}
    assert ("datatype", "16 bit") in sets and ("colorspace", "sRGB") in sets
    assert len(popen_spy) == 1  # one singlehdr run: the model is loaded once
    argv = popen_spy[0]
    assert argv[argv.index("--frames") + 1] == "3-5" and argv[argv.index("-o") + 1] == str(tmp_path / "hdr.%04d.exr")
    assert argv[4].endswith("input.main.####.png")
    for f in (3, 4, 5):  # Read (sRGB -> linear) -> Write (linear -> sRGB, 16 bit) -> singlehdr inverse sRGB
        np.testing.assert_allclose(read_exr(tmp_path / f"hdr.{f:04d}.exr"), srgb_to_linear(written[f]), rtol=3e-3, atol=2e-4)
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (3, 5)
    assert not os.path.exists(os.path.dirname(argv[4]))  # temporary frames cleaned up
    progress = [p[1] for p in nuke.progress if p[0] == "setProgress"]
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)


def test_a_still_over_a_range_is_reconstructed_once_and_held(nuke, gizmo, popen_spy, tmp_path):
    write_png(tmp_path / "still.png", make_image(8, 8, seed=3))
    gizmo["source"].setValue("file")
    gizmo["input_file"].setValue(str(tmp_path / "still.png"))
    gizmo["method"].setValue("akyuz")
    gizmo["output_file"].setValue(str(tmp_path / "s.####.exr"))
    gizmo["range_first"].setValue(10)
    gizmo["range_last"].setValue(12)
    press(nuke, gizmo, "reconstruct_range")
    assert nuke.messages == [] and len(popen_spy) == 1
    assert "--frames" not in popen_spy[0] and popen_spy[0][popen_spy[0].index("-o") + 1] == str(tmp_path / "s.0010.exr")
    assert sorted(p.name for p in tmp_path.glob("s.*.exr")) == ["s.0010.exr"]
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (10, 10)
    held = nuke.pixels(gizmo, 12, "main")  # frame 12 shows the held frame 10
    np.testing.assert_array_equal(held, read_exr(tmp_path / "s.0010.exr"))


def test_cli_error_surfaces_as_one_line_message(nuke, gizmo, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    gizmo["source"].setValue("file")
    gizmo["input_file"].setValue(str(bad))
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    press(nuke, gizmo, "reconstruct")
    assert len(nuke.messages) == 1
    msg = nuke.messages[0]
    assert msg.startswith("SingleHDR: ") and "\n" not in msg and "broken.png" in msg and "Traceback" not in msg
    assert gizmo["status"].value() == "error: " + msg[len("SingleHDR: "):]
    assert gizmo["baked_last"].value() < gizmo["baked_first"].value()  # nothing loaded
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
