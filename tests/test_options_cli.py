"""One options-to-CLI builder: every command's reconstruction options come from ReconstructOptions.

The lists live in singlehdr.choices (imports nothing); the hosts' copies are
checked here, their registered menus in tests/hosts/test_host_parity.py.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from singlehdr import choices
from singlehdr.cli import build_parser, main
from singlehdr.envmap.commands import NOT_FOR_ENVMAP
from singlehdr.options import ReconstructOptions, cli_fields, cli_flag, options_from_args, parse_device, parse_tile

ROOT = Path(__file__).resolve().parents[1]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_cli_field_is_an_option_of_reconstruct_and_envmap_with_its_default_and_choices():
    cmds = subparsers()
    names = [f.name for f in cli_fields()]
    # every field of ReconstructOptions has CLI meaning
    assert names == [f.name for f in fields(ReconstructOptions)]
    assert set(NOT_FOR_ENVMAP) == {"input_kind"}  # envmap's --kind decides the input kind
    for f in cli_fields():
        spec = f.metadata["cli"]
        for cmd in ("reconstruct", "envmap"):
            act = option(cmds[cmd], cli_flag(f.name))
            if cmd == "envmap" and f.name in NOT_FOR_ENVMAP:
                assert act is None, f"envmap should not offer {cli_flag(f.name)}: {NOT_FOR_ENVMAP[f.name]}"
                continue
            assert act is not None, f"{cmd} lacks {cli_flag(f.name)}"
            assert act.dest == f.name
            assert act.default == f.default, (cmd, f.name)
            assert act.choices == spec["choices"], (cmd, f.name)
            assert act.type is spec["type"], (cmd, f.name)
    # the lists are singlehdr.choices'
    by_name = {f.name: f.metadata["cli"] for f in cli_fields()}
    assert by_name["method"]["choices"] == ("singlehdr", "inverse-srgb", "akyuz", "kovaleski") == choices.METHODS
    assert by_name["colorspace"]["choices"] == choices.COLORSPACES
    assert by_name["device"]["type"] is parse_device and by_name["tile"]["type"] is parse_tile


def test_defaults_and_every_option_reach_reconstruct_options():
    cmds = subparsers()
    args = cmds["reconstruct"].parse_args(["in.jpg", "-o", "out.exr"])
    assert options_from_args(args) == ReconstructOptions()
    args = cmds["envmap"].parse_args(["in.jpg", "-o", "out.exr"])
    assert options_from_args(args) == ReconstructOptions()
    argv = ["--method", "akyuz", "--model", "m.safetensors", "--device", "CUDA:1", "--precision", "bf16",
            "--tile", "256", "--tile-overlap", "16", "--resize-mode", "reference", "--exposure", "median",
            "--exposure-target", "0.25", "--colorspace", "acescg", "--linearization", "srgb", "--highlights", "network"]
    want = ReconstructOptions(method="akyuz", model="m.safetensors", device="cuda:1", precision="bf16", tile=256,
                              tile_overlap=16, resize_mode="reference", exposure="median", exposure_target=0.25,
                              colorspace="acescg", linearization="srgb", highlights="network")
    assert options_from_args(cmds["envmap"].parse_args(["in.jpg", "-o", "o.exr", *argv])) == want
    rec = options_from_args(cmds["reconstruct"].parse_args(["in.jpg", "-o", "o.exr", "--input-kind", "equirect", *argv]))
    assert rec == want.replace(input_kind="equirect")
    assert options_from_args(cmds["reconstruct"].parse_args(["i.jpg", "-o", "o.exr", "--tile", "auto"])).tile is None


def test_envmap_options_carry_the_new_flags_into_envmap_options():
    from singlehdr.envmap.commands import _options

    args = subparsers()["envmap"].parse_args(["in.jpg", "-o", "o.exr", "--precision", "fp32", "--tile", "0",
                                              "--exposure", "median", "--device", "cpu"])
    opts = _options(args)
    assert opts.reconstruct == ReconstructOptions(precision="fp32", tile=0, exposure="median", exposure_target=0.18,
                                                  device="cpu")


# every command with a --device / --colorspace, and a valid rest of its command line
COMMANDS = {
    "reconstruct": ["reconstruct", "in.jpg", "-o", "out.exr"],
    "envmap": ["envmap", "in.jpg", "-o", "out.exr"],
    "evaluate": ["evaluate", "--hdr", "d", "-o", "r"],
    "train": ["train", "--stage", "deq", "--data", "d", "--out", "r"],
    "export-torchscript": ["export-torchscript", "-o", "m.pt"],
}


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_bad_device_is_a_one_line_error_in_every_command(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main(COMMANDS[cmd] + ["--device", "gpu"])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error: ") and "'gpu'" in lines[0], err
    assert "--device" in lines[0] and "cpu" in lines[0]


@pytest.mark.parametrize("cmd", ["reconstruct", "envmap"])
def test_bad_colorspace_is_a_one_line_error(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main(COMMANDS[cmd] + ["--colorspace", "srgb"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "'srgb'" in lines[0] and "acescg" in lines[0]


def test_device_lists_of_train_and_evaluate_are_the_core_list():
    cmds = subparsers()
    assert option(cmds["train"], "--device").choices == choices.DEVICES  # torchrun picks the GPU: no cuda:N
    assert option(cmds["evaluate"], "--device").type is parse_device
    assert option(cmds["export-torchscript"], "--device").type is parse_device
    assert option(cmds["export-torchscript"], "--device").default == "cpu"


def test_choices_module_imports_nothing_and_matches_the_core_lists():
    tree = ast.parse((ROOT / "core" / "singlehdr" / "choices.py").read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [("__future__", ["annotations"])]
    from singlehdr.envmap import make, sun
    from singlehdr.io.colorspace import COLORSPACES

    assert choices.COLORSPACES == tuple(COLORSPACES)
    assert choices.ENVMAP_KINDS == make.KINDS
    assert choices.SUN_MODES == sun.SUN_MODES
    for menu, values in choices.MENU_VALUES.items():
        assert [v for v, _, _ in choices.menu_items(menu)] == list(values)
        assert set(choices.LABELS[menu]) == set(values)  # a label for every value, none for a value that is gone


def test_options_and_cli_start_without_torch():
    code = ("import sys, singlehdr.options, singlehdr.cli; singlehdr.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'cv2') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT / "core"), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_host_copies_of_the_lists_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_host_choices.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    header = "# GENERATED from core/singlehdr/choices.py"
    source = (ROOT / "core" / "singlehdr" / "choices.py").read_text()
    for copy in (ROOT / "blender_addon" / "choices.py", ROOT / "nuke_gizmo" / "singlehdr_nuke" / "choices.py"):
        text = copy.read_text()
        assert text.startswith(header) and text.endswith(source)
