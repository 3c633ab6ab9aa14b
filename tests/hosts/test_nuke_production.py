"""The gizmo in production: save/reopen, the farm, views, proxy, OCIO, the child process.

Each test here is a bug a pipeline TD found in review (issue 11); each fails on
the previous gizmo (checked once with SINGLEHDR_NUKE_GIZMO_DIR pointing at the
old nuke_gizmo/).  Nuke is the strict fake; the singlehdr CLI, image files and
EXRs are real.
"""

from __future__ import annotations

import shutil
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nuke_fixtures import GIZMO_DIR, fresh_nuke, gizmo, make_image, nuke, popen_spy, read_exr, write_png  # noqa: F401
from singlehdr.camera.transfer import srgb_to_linear


def save_script(nuke, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shot.nk"
    nuke.scriptSaveAs(str(path))
    return path


def press(nuke, node, button: str) -> None:
    node[button].execute()
    nuke.process_events()


def plates(folder: Path, frames, h=12, w=16, views=("",)):
    """8-bit sRGB PNG plates; returns {(frame, view): the values a reader gets}."""
    out = {}
    for f in frames:
        for v in views:
            name = f"plate{'_' + v if v else ''}.{f:04d}.png"
            out[(f, v)] = write_png(folder / name, make_image(h, w, seed=f + 7 * len(v)) * (0.5 + 0.1 * f), bits=8)
    return out


def write_node(nuke, src, path: Path):
    w = nuke.nodes.Write(file=str(path), file_type="exr", raw=True)
    w.setInput(0, src)
    return w


# ------------------------------------------------------- save, reopen, farm


def test_save_reopen_render_reads_the_baked_frames(nuke, gizmo, tmp_path, monkeypatch):
    values = plates(tmp_path, (1, 2))
    read = nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=1, last=2)
    gizmo.setInput(0, read)
    gizmo["method"].setValue("inverse-srgb")
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(2)
    out = write_node(nuke, gizmo, tmp_path / "comp" / "out.####.exr")
    out["create_directories"].setValue(True)
    script = save_script(nuke, tmp_path / "shot")
    press(nuke, gizmo, "reconstruct_range")
    assert nuke.messages == []
    nuke.scriptSaveAs(str(script))
    text = script.read_text()
    assert "SingleHDR_Read" not in text  # a gizmo is saved as its own knobs only
    assert "baked_last 2" in text  # (baked_first 1 is the default: not written)

    farm = fresh_nuke(monkeypatch, gui=False)  # nuke -x shot.nk on another machine
    farm.scriptOpen(str(script))
    assert farm.toNode(gizmo.name())["status"].value() != ""
    farm.execute(farm.toNode(out.name()), 1, 2)
    for f in (1, 2):
        baked = read_exr(script.parent / "singlehdr" / f"{gizmo.name()}.main.{f:04d}.exr")
        np.testing.assert_allclose(baked, srgb_to_linear(values[(f, "")]), rtol=2e-3, atol=1e-4)
        np.testing.assert_array_equal(read_exr(tmp_path / "comp" / f"out.{f:04d}.exr"), baked)


def test_farm_bakes_missing_frames_at_render_time_without_a_ui(nuke, gizmo, tmp_path, monkeypatch, popen_spy):
    values = plates(tmp_path, (4, 5))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=4, last=5))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["range_first"].setValue(4)
    gizmo["range_last"].setValue(5)
    gizmo["bake_on_render"].setValue(True)
    gizmo["python"].setValue("")  # the farm's Python comes from its environment
    out = write_node(nuke, gizmo, tmp_path / "out.####.exr")
    script = save_script(nuke, tmp_path / "shot")  # nothing baked yet

    monkeypatch.setenv("SINGLEHDR_PYTHON", sys.executable)
    farm = fresh_nuke(monkeypatch, gui=False)
    farm.scriptOpen(str(script))
    farm.execute(farm.toNode(out.name()), 4, 5)  # beforeRender bakes 4-5 through the runner, then the Write renders
    assert len(popen_spy) == 1 and "--frames" in popen_spy[0]
    for f in (4, 5):
        np.testing.assert_allclose(read_exr(tmp_path / f"out.{f:04d}.exr"), srgb_to_linear(values[(f, "")]), rtol=2e-3, atol=1e-4)
    farm.execute(farm.toNode(out.name()), 4, 5)  # a second render finds the frames: no new run
    assert len(popen_spy) == 1


def test_bake_on_render_with_a_rendered_input_says_to_use_the_farm_command(nuke, gizmo, tmp_path, monkeypatch):
    plates(tmp_path, (1,))
    gizmo.setInput(0, nuke.nodes.Grade(inputs=[nuke.nodes.Read(file=str(tmp_path / "plate.####.png"))]))
    gizmo["bake_on_render"].setValue(True)
    gizmo["range_last"].setValue(1)
    out = write_node(nuke, gizmo, tmp_path / "out.####.exr")
    script = save_script(nuke, tmp_path / "shot")
    farm = fresh_nuke(monkeypatch, gui=False)
    farm.scriptOpen(str(script))
    farm.toNode(gizmo.name())["python"].setValue(sys.executable)
    with pytest.raises(RuntimeError, match="singlehdr_bake.py") as err:
        farm.execute(farm.toNode(out.name()), 1, 1)
    assert "\n" not in str(err.value)


def test_farm_command_nuke_t_bakes_any_input_and_saves(nuke, gizmo, tmp_path, monkeypatch):
    values = plates(tmp_path, (1, 2))
    gizmo.setInput(0, nuke.nodes.Grade(inputs=[nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=1, last=2)]))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(2)
    script = save_script(nuke, tmp_path / "shot")

    farm = fresh_nuke(monkeypatch, gui=False)  # nuke -t singlehdr_bake.py shot.nk
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
    assert (node["baked_first"].value(), node["baked_last"].value()) == (1, 2)
    for f in (1, 2):
        np.testing.assert_allclose(again.pixels(node, f, "main"), srgb_to_linear(values[(f, "")]), rtol=3e-3, atol=2e-4)
    del farm


def test_a_second_range_adds_to_the_first(nuke, gizmo, tmp_path):
    values = plates(tmp_path, (1, 2, 4, 5))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=1, last=5))
    gizmo["method"].setValue("inverse-srgb")  # default output file (a #### pattern)
    script = save_script(nuke, tmp_path / "shot")
    for first, last in ((1, 2), (4, 5)):
        gizmo["range_first"].setValue(first)
        gizmo["range_last"].setValue(last)
        press(nuke, gizmo, "reconstruct_range")
    assert nuke.messages == []
    for f in (1, 2, 4, 5):  # the node still shows the first range's frames
        np.testing.assert_allclose(nuke.pixels(gizmo, f, "main"), srgb_to_linear(values[(f, "")]), rtol=2e-3, atol=1e-4)
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (1, 5)
    internal = gizmo.node("SingleHDR_Read")
    folder = script.parent / "singlehdr"
    assert internal["file"].evaluate() == str(folder / f"{gizmo.name()}.main.0001.exr")  # frame 1 is still read
    nuke.current_frame = 5
    assert internal["file"].evaluate() == str(folder / f"{gizmo.name()}.main.0005.exr")


def test_tcl_in_file_knobs_is_expanded(nuke, gizmo, tmp_path, monkeypatch, popen_spy):
    monkeypatch.setenv("PLATES", str(tmp_path / "plates"))
    write_png(tmp_path / "plates" / "p.png", make_image(8, 8, seed=1))
    gizmo["source"].setValue("file")
    gizmo["input_file"].setValue("[getenv PLATES]/p.png")
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue("[getenv PLATES]/hdr/[value this.name].####.exr")
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == []
    argv = popen_spy[0]
    assert argv[4] == str(tmp_path / "plates" / "p.png")
    assert argv[argv.index("-o") + 1] == str(tmp_path / "plates" / "hdr" / f"{gizmo.name()}.0001.exr")


def test_an_unsaved_script_gets_a_clear_error_not_a_temp_folder(nuke, gizmo, tmp_path, popen_spy):
    write_png(tmp_path / "p.png", make_image(8, 8, seed=1))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "p.png")))
    press(nuke, gizmo, "reconstruct")
    assert popen_spy == []
    assert len(nuke.messages) == 1 and "save the script first" in nuke.messages[0]


# ------------------------------------------------------ the child process


def test_child_python_gets_a_clean_environment(nuke, gizmo, tmp_path, monkeypatch):
    """Nuke's PYTHONHOME/PYTHONPATH point at its own Python: a child that inherits them breaks."""
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "Nuke15.1v1"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "Nuke15.1v1" / "plugins"))
    monkeypatch.setenv("NUKE_PATH", str(tmp_path / "nukepath"))
    write_png(tmp_path / "p.png", make_image(8, 8, seed=1))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "p.png")))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == []
    assert (tmp_path / "x.0001.exr").is_file()


def test_no_interpreter_set_is_a_clear_error_not_a_guess_on_path(nuke, gizmo, tmp_path, monkeypatch, popen_spy):
    assert shutil.which("python3")  # there is one on PATH; it must not be used
    gizmo["python"].setValue("")
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "p.png")))
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    press(nuke, gizmo, "reconstruct")
    assert popen_spy == []
    assert len(nuke.messages) == 1 and "'python' knob" in nuke.messages[0] and "SINGLEHDR_PYTHON" in nuke.messages[0]


def test_an_interpreter_without_singlehdr_is_named(nuke, gizmo, tmp_path):
    bare = tmp_path / "bare" / "bin" / "python"
    bare.parent.mkdir(parents=True)
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")  # a Python that cannot see singlehdr
    bare.chmod(bare.stat().st_mode | stat.S_IXUSR)
    write_png(tmp_path / "p.png", make_image(8, 8, seed=1))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "p.png")))
    gizmo["python"].setValue(str(bare))
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == [f"SingleHDR: the Python at {bare} has no singlehdr installed; install it there "
                             "(pip install singlehdr) or set the node's 'python' knob / SINGLEHDR_PYTHON to the Python that has it"]


SLOW_PYTHON = """#!{python}
# A slow machine: runs the real singlehdr once per frame, one second apart.
import subprocess, sys, time
args = sys.argv[1:]
i = args.index("--frames")
first, last = (int(x) for x in args[i + 1].split("-"))
for f in range(first, last + 1):
    run = args[:i + 1] + [str(f)] + args[i + 2:]
    subprocess.run([{python!r}] + run, check=True)
    time.sleep(1.0)
"""


def test_bake_runs_in_the_background_and_cancel_keeps_finished_frames(nuke, gizmo, tmp_path):
    plates(tmp_path, (1, 2, 3, 4))
    slow = tmp_path / "slowpython"
    slow.write_text(SLOW_PYTHON.format(python=sys.executable))
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "plate.####.png"), first=1, last=4))
    gizmo["python"].setValue(str(slow))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue(str(tmp_path / "out" / "hdr.####.exr"))
    gizmo["range_first"].setValue(1)
    gizmo["range_last"].setValue(4)
    nuke.cancel_at_progress = 25  # Cancel once the first frame is reported

    t0 = time.monotonic()
    gizmo["reconstruct_range"].execute()
    assert time.monotonic() - t0 < 1.0  # the button returns at once: the UI is not blocked
    assert gizmo["status"].value() == "reconstructing ..."
    nuke.process_events(timeout=60)

    done = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert 1 <= len(done) < 4 and done == [f"hdr.{f:04d}.exr" for f in range(1, len(done) + 1)]  # whole files only
    assert nuke.messages == [f"SingleHDR: cancelled after {len(done)} of 4 frame(s); the finished frames are kept"]
    assert (gizmo["baked_first"].value(), gizmo["baked_last"].value()) == (1, len(done))


def test_a_render_error_or_cancel_in_nukes_render_is_one_line(nuke, gizmo, tmp_path, popen_spy):
    gizmo.setInput(0, nuke.nodes.Grade())
    gizmo["output_file"].setValue(str(tmp_path / "x.####.exr"))
    nuke.execute_error = "Cancelled"  # the artist cancels Nuke's render of the input
    press(nuke, gizmo, "reconstruct")
    nuke.execute_error = "Grade1: Read error: No such file or directory"
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == [
        "SingleHDR: cancelled while rendering the input; nothing was reconstructed",
        "SingleHDR: rendering the input failed: Grade1: Read error: No such file or directory",
    ]
    assert popen_spy == [] and not nuke.root().nodes()[-1].Class() == "Write"  # the temporary Write is deleted


# ------------------------------------------------------- views, proxy, OCIO


def test_views_get_their_own_inputs_and_outputs(nuke, gizmo, tmp_path):
    nuke.set_views(["left", "right"])
    values = plates(tmp_path, (1,), views=("left", "right"))
    gizmo.setInput(0, nuke.nodes.Read(file=str(tmp_path / "plate_%V.####.png")))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue(str(tmp_path / "hdr.####.exr"))
    press(nuke, gizmo, "reconstruct")  # no %V: the views would overwrite each other
    assert len(nuke.messages) == 1 and "put %V in the output file" in nuke.messages[0]

    gizmo["output_file"].setValue(str(tmp_path / "hdr_%V.####.exr"))
    press(nuke, gizmo, "reconstruct")
    assert len(nuke.messages) == 1
    for v in ("left", "right"):
        np.testing.assert_allclose(read_exr(tmp_path / f"hdr_{v}.0001.exr"), srgb_to_linear(values[(1, v)]), rtol=2e-3, atol=1e-4)
        np.testing.assert_array_equal(nuke.pixels(gizmo, 1, v), read_exr(tmp_path / f"hdr_{v}.0001.exr"))

    grade = nuke.nodes.Grade(inputs=[nuke.nodes.Read(file=str(tmp_path / "plate_%V.####.png"))])
    gizmo.setInput(0, grade)
    gizmo["output_file"].setValue(str(tmp_path / "g_%v.####.exr"))
    press(nuke, gizmo, "reconstruct")  # rendered input: one temporary frame per view
    assert [r[2] for r in nuke.rendered] == ["left", "right"]
    for v in ("left", "right"):
        np.testing.assert_allclose(read_exr(tmp_path / f"g_{v[0]}.0001.exr"), srgb_to_linear(values[(1, v)]), rtol=3e-3, atol=2e-4)


def test_proxy_mode_still_bakes_full_resolution(nuke, gizmo, tmp_path):
    plates(tmp_path, (1,), h=16, w=24)
    gizmo.setInput(0, nuke.nodes.Grade(inputs=[nuke.nodes.Read(file=str(tmp_path / "plate.####.png"))]))
    gizmo["method"].setValue("inverse-srgb")
    gizmo["output_file"].setValue(str(tmp_path / "hdr.####.exr"))
    nuke.root()["proxy"].setValue(True)
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == []
    assert nuke.rendered[-1][3] is False  # the temporary Write rendered with proxy off
    assert nuke.root()["proxy"].value() is True  # and proxy mode is back on
    assert read_exr(tmp_path / "hdr.0001.exr").shape == (16, 24, 3)
    assert nuke.pixels(gizmo, 1, "main").shape == (8, 12, 3)  # the node's Read shows it at proxy size


def test_output_colour_space_comes_from_the_scripts_ocio_config(nuke, gizmo, tmp_path, popen_spy, monkeypatch):
    nuke.use_ocio_config("aces_1.2")
    nuke.run_script("import singlehdr_nuke; singlehdr_nuke.on_create(nuke.thisNode())", gizmo, None)
    plates(tmp_path, (1,))
    gizmo.setInput(0, nuke.nodes.Grade(inputs=[nuke.nodes.Read(file=str(tmp_path / "plate.####.png"))]))
    gizmo["method"].setValue("inverse-srgb")
    script = save_script(nuke, tmp_path / "shot")
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages == []
    argv = popen_spy[0]
    assert argv[argv.index("--colorspace") + 1] == "acescg"  # the working space ACEScg
    sets = {(a[1], a[2]) for a, _ in nuke.called("Knob.setValue") if a[0] == nuke.executed[0][0]}
    assert ("colorspace", "Utility - sRGB - Texture") in sets  # plain sRGB encoding, not the RRT
    assert gizmo.node("SingleHDR_Read")["colorspace"].value() == "ACES - ACEScg"
    assert gizmo["colorspace_menu"].values() == [
        "(working space)", "ACES - ACES2065-1", "ACES - ACEScg", "Utility - Linear - sRGB", "Utility - Linear - Rec.2020"]

    gizmo["output_colorspace"].setValue("Output - sRGB")
    press(nuke, gizmo, "reconstruct")
    assert nuke.messages[-1] == (
        "SingleHDR: output colour space 'Output - sRGB' is not one singlehdr writes (linear Rec.709, ACEScg, "
        "ACES2065-1 or linear Rec.2020); choose one of: ACES - ACES2065-1, ACES - ACEScg, Utility - Linear - sRGB, "
        "Utility - Linear - Rec.2020")
    nuke.user_sets(gizmo, "colorspace_menu", "Utility - Linear - Rec.2020")
    assert gizmo["output_colorspace"].value() == "Utility - Linear - Rec.2020"
    assert gizmo.node("SingleHDR_Read")["colorspace"].value() == "Utility - Linear - Rec.2020"
    nuke.scriptSaveAs(str(script))
    again = fresh_nuke(monkeypatch, gui=False)
    again.scriptOpen(str(script))  # onCreate sets the Read's colour space from the saved knob
    assert again.toNode(gizmo.name()).node("SingleHDR_Read")["colorspace"].value() == "Utility - Linear - Rec.2020"


