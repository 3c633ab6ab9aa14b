"""The fake ``nuke`` is strict where Nuke is: tests cannot pass where Nuke would fail."""

from __future__ import annotations

import pytest

from nuke_fixtures import fresh_nuke, gizmo, nuke  # noqa: F401 (fixtures)


def test_unknown_knobs_raise(nuke):
    with pytest.raises(NameError):
        nuke.nodes.Read(fiel="/a.png")
    read = nuke.nodes.Read(file="/a.png")
    with pytest.raises(NameError):
        read["frist"]
    assert read.knob("frist") is None


def test_file_knobs_rewrite_hashes_and_expand_tcl_only_when_evaluated(nuke, monkeypatch):
    monkeypatch.setenv("SHOT", "/shows/x")
    read = nuke.nodes.Read(file="[getenv SHOT]/plate.%V.####.exr")
    assert read["file"].value() == "[getenv SHOT]/plate.%V.%04d.exr"  # value(): printf style, TCL as typed
    nuke.current_frame = 12
    assert read["file"].evaluate() == "/shows/x/plate.main.0012.exr"
    nuke.set_views(["left", "right"])
    oc = nuke.OutputContext()
    oc.setFrame(3)
    oc.setView(oc.viewFromName("right"))
    assert read["file"].getEvaluatedValue(oc) == "/shows/x/plate.right.0003.exr"
    with pytest.raises(ValueError, match="not known to the fake"):
        nuke.nodes.Read(file="[exec rm -rf /]")["file"].evaluate()


def test_execute_raises_like_nuke(nuke, tmp_path):
    write = nuke.nodes.Write(file=str(tmp_path / "o.####.exr"))
    write.setInput(0, nuke.nodes.Read(file=str(tmp_path / "missing.png")))
    with pytest.raises(RuntimeError, match="No such file"):
        nuke.execute(write, 1, 1)
    nuke.execute_error = "Cancelled"
    with pytest.raises(RuntimeError, match="Cancelled"):
        nuke.execute(write, 1, 1)
    nuke.execute_error = None
    nuke.render_hook = lambda node, f, v: nuke.execute(node, f, f)
    with pytest.raises(RuntimeError, match="already executing"):
        nuke.execute(write, 1, 1)


def test_colour_space_menus_come_in_ocio_families(nuke):
    nuke.use_ocio_config("aces_1.2")
    write = nuke.nodes.Write()
    assert "Utility/Utility - sRGB - Texture" in write["colorspace"].values()
    write["colorspace"].setValue("Utility/Utility - sRGB - Texture")
    assert write["colorspace"].value() == "Utility - sRGB - Texture"
    with pytest.raises(ValueError):
        write["colorspace"].setValue("sRGB")  # not in this config


def test_save_reopen_keeps_only_what_nuke_keeps(nuke, gizmo, tmp_path, monkeypatch):
    gizmo["method"].setValue("akyuz")
    gizmo.node("SingleHDR_Read")["file"].setValue("/changed/inside/the/gizmo.exr")  # what the old gizmo did
    gizmo["colorspace_menu"].setValue(0)
    path = tmp_path / "s.nk"
    nuke.scriptSaveAs(str(path))
    text = path.read_text()
    assert "colorspace_menu" not in text and "gizmo.exr" not in text
    again = fresh_nuke(monkeypatch, gui=False)
    again.scriptOpen(str(path))
    node = again.toNode(gizmo.name())
    assert node["method"].value() == "akyuz"
    assert node.node("SingleHDR_Read")["file"].getText() == "[python {nuke.thisParent()['output_file'].evaluate()}]"
