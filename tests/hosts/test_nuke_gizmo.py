"""The SingleHDR gizmo as Nuke would load it: start-up files, menu, knobs.

Nuke is the recording fake (tests/hosts/fake_nuke.py); the gizmo is parsed
from nuke_gizmo/SingleHDR.gizmo and its callbacks are the real module.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from fake_nuke import parse_nk, tcl_tokens
from nuke_fixtures import GIZMO_DIR, ROOT, gizmo, nuke  # noqa: F401 (fixtures)
from singlehdr.options import DEVICES, EXPOSURE_MODES, METHODS_CLASSICAL, METHODS_NETWORK


def test_startup_adds_paths_and_menu_without_importing_callbacks(nuke):
    nuke.start_nuke(str(GIZMO_DIR), gui=True)
    assert nuke.plugin_paths == [str(GIZMO_DIR / "icons"), str(GIZMO_DIR)]
    assert str(GIZMO_DIR) in sys.path  # singlehdr_nuke importable, as in Nuke
    entries = {e["path"]: e for e in nuke.menu_entries}
    assert list(entries) == [
        "Nodes/SingleHDR",
        "Nodes/SingleHDR/SingleHDR",
        "Nodes/SingleHDR/Export TorchScript for Inference...",
        "Nodes/SingleHDR/Check set-up",
    ]
    assert entries["Nodes/SingleHDR"]["icon"] == "SingleHDR.png"
    assert entries["Nodes/SingleHDR/SingleHDR"]["command"] == "nuke.createNode('SingleHDR')"
    assert (GIZMO_DIR / "icons" / "SingleHDR.png").is_file()
    # nothing heavy at start-up: the callbacks (and torch) are not imported
    assert "singlehdr_nuke" not in sys.modules
    assert [c[1][0] for c in nuke.calls if c[0] == "menu"] == ["Nodes"]


def test_startup_without_gui_runs_init_only(nuke):
    nuke.start_nuke(str(GIZMO_DIR), gui=False)
    assert nuke.menu_entries == []
    assert str(GIZMO_DIR / "icons") in nuke.plugin_paths
    assert [c[1][0].split("/")[-1] for c in nuke.calls if c[0] == "run_plugin_file"] == ["init.py"]


def test_toolbar_entry_creates_the_gizmo_with_artist_knobs(nuke, gizmo):
    node = gizmo
    assert node.Class() == "SingleHDR" and isinstance(node, nuke.Gizmo)
    knobs = node.knobs()
    expected = {
        "source": "Enumeration_Knob", "input_file": "File_Knob", "method": "Enumeration_Knob", "model_path": "File_Knob",
        "exposure_mode": "Enumeration_Knob", "exposure_target": "Double_Knob", "output_colorspace": "String_Knob",
        "colorspace_menu": "Enumeration_Knob", "device": "Enumeration_Knob", "output_file": "File_Knob",
        "reconstruct": "PyScript_Knob", "range_first": "Int_Knob", "range_last": "Int_Knob",
        "reconstruct_range": "PyScript_Knob", "bake_on_render": "Boolean_Knob", "baked_first": "Int_Knob",
        "baked_last": "Int_Knob", "status": "Text_Knob", "python": "String_Knob",
    }
    assert {k: knobs[k].Class() for k in expected} == expected
    # the menus offer exactly what the core accepts, defaults first
    assert node["method"].values() == list(METHODS_NETWORK + METHODS_CLASSICAL)
    assert node["exposure_mode"].values() == list(EXPOSURE_MODES)
    assert node["device"].values() == list(DEVICES)
    # output colour spaces come from the script's config (nuke-default here: 'linear' = lin_rec709)
    assert node["colorspace_menu"].values() == ["(working space)", "linear"]
    assert node["colorspace_menu"].getFlag("+DO_NOT_WRITE") and not node["baked_first"].visible()
    assert node["source"].values() == ["upstream node", "file"]
    values = {k: node[k].value() for k in ("source", "method", "exposure_mode", "output_colorspace", "device")}
    assert values == {"source": "upstream node", "method": "singlehdr", "exposure_mode": "relative",
                      "output_colorspace": "", "device": "auto"}
    assert node["exposure_target"].value() == 0.18
    # output next to the script, per view; value() shows #### as %04d, TCL not expanded
    assert node["output_file"].getText() == "[file dirname [value root.name]]/singlehdr/[value this.name].%V.####.exr"
    assert node["output_file"].value() == "[file dirname [value root.name]]/singlehdr/[value this.name].%V.%04d.exr"
    assert node["reconstruct"].label() == "Reconstruct" and node["reconstruct_range"].label() == "Reconstruct range"
    assert node["input_file"].label() == "input file" and node["output_colorspace"].label() == "output colour space"
    # onCreate ran: the range defaults to the script's frame range; knobChanged hid what does not apply
    assert (node["range_first"].value(), node["range_last"].value()) == (1, 100)
    assert not node["input_file"].visible() and not node["exposure_target"].visible()
    # internals: Input1, the result Read (held, driven by the gizmo's knobs), Output1 fed by the Read
    read = node.node("SingleHDR_Read")
    assert read is not None and read.Class() == "Read"
    assert read["file"].getText() == "[python {nuke.thisParent()['output_file'].evaluate()}]"
    assert [read[k].hasExpression() for k in ("first", "last", "origfirst", "origlast", "disable")] == [True] * 5
    assert read["disable"].value() is True  # nothing baked yet
    assert read["colorspace"].value() == "linear"  # the working space
    assert (read["before"].value(), read["after"].value()) == ("hold", "hold")
    assert node.node("Output1").input(0) is read
    assert node.node("Input1").Class() == "Input"


def test_every_gizmo_callback_names_a_real_function(nuke, gizmo):
    import singlehdr_nuke

    scripts = [gizmo["reconstruct"].command(), gizmo["reconstruct_range"].command(),
               gizmo["onCreate"].value(), gizmo["knobChanged"].value()]
    called = sorted(s.split("singlehdr_nuke.")[-1].split("(")[0] for s in scripts)
    assert called == ["knob_changed", "on_create", "reconstruct_button", "reconstruct_range_button"]
    assert all(callable(getattr(singlehdr_nuke, name)) for name in called)
    for entry in nuke.menu_entries[2:]:
        assert callable(getattr(singlehdr_nuke, entry["command"].split("singlehdr_nuke.")[-1].split("(")[0]))


def test_knob_changed_shows_only_relevant_knobs(nuke, gizmo):
    nuke.user_sets(gizmo, "source", "file")
    assert gizmo["input_file"].visible()
    nuke.user_sets(gizmo, "exposure_mode", "median")
    assert gizmo["exposure_target"].visible()
    nuke.user_sets(gizmo, "method", "inverse-srgb")
    assert not gizmo["model_path"].enabled()
    nuke.user_sets(gizmo, "method", "singlehdr")
    assert gizmo["model_path"].enabled()
    with pytest.raises(ValueError):  # like Nuke, a pulldown refuses unknown items
        gizmo["method"].setValue("magic")
    with pytest.raises(NameError):  # and a node has no knob it does not define
        gizmo["mehtod"].setValue("singlehdr")


def test_gizmo_text_is_wellformed_nk():
    text = (GIZMO_DIR / "SingleHDR.gizmo").read_text()
    entries = parse_nk(text)
    assert [e[0] for e in entries] == ["version", "Gizmo", "Input", "Read", "Output", "end_group"]
    names = [v["name"] for k, v in entries[1][1] if k == "addUserKnob"]
    assert len(names) == len(set(names))  # no duplicate knob names
    assert tcl_tokens('a "b \\"c\\"\\n" {d {e}}') == [("word", "a"), ("quoted", 'b "c"\n'), ("brace", "d {e}")]


def test_mypy_passes_against_types_nuke_stubs():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(GIZMO_DIR / "mypy.ini"), "--no-incremental", str(GIZMO_DIR)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found in 7 source files" in proc.stdout
