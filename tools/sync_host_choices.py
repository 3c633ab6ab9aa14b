"""Copy singlehdr's option lists (core/singlehdr/choices.py) into the Blender add-on and the Nuke gizmo.

    python tools/sync_host_choices.py          # write the copies / gizmo menus
    python tools/sync_host_choices.py --check  # exit 1 and name what differs (tests run this)

The hosts cannot import singlehdr when they load (it may live only in another
Python, and the Nuke node must never import torch), so each ships a copy of
the import-free module, with a header saying where it comes from:
blender_addon/choices.py and nuke_gizmo/singlehdr_nuke/choices.py.  The
gizmo's enumeration knobs (method, exposure_mode, device, envmap_kind, sun) are written into
nuke_gizmo/SingleHDR.gizmo from the same lists.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "core" / "singlehdr" / "choices.py"
COPIES = (ROOT / "blender_addon" / "choices.py", ROOT / "nuke_gizmo" / "singlehdr_nuke" / "choices.py")
GIZMO = ROOT / "nuke_gizmo" / "SingleHDR.gizmo"
HEADER = ("# GENERATED from core/singlehdr/choices.py by tools/sync_host_choices.py: do not edit here\n"
          "# (edit that file, then run the tool; tests/test_options_cli.py checks that this copy is current).\n")
# gizmo knob name -> the list of singlehdr.choices it offers
GIZMO_KNOBS = {"method": "METHODS", "exposure_mode": "EXPOSURE_MODES", "device": "DEVICES",
               "envmap_kind": "ENVMAP_KINDS", "sun": "SUN_MODES"}


def load_source():
    spec = importlib.util.spec_from_file_location("_singlehdr_choices", SOURCE)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def copy_text() -> str:
    return HEADER + SOURCE.read_text(encoding="utf-8")


def gizmo_menu(values) -> str:
    return "M {" + " ".join(f'"{v}"' if (" " in v or not v) else v for v in values) + "}"


def gizmo_text(text: str) -> str:
    """The gizmo file with each knob of GIZMO_KNOBS offering its core list."""
    choices = load_source()
    for knob, name in GIZMO_KNOBS.items():
        pattern = re.compile(r"(addUserKnob \{4 " + re.escape(knob) + r" [^\n]*?)M \{[^}]*\}")
        text, n = pattern.subn(lambda m: m.group(1) + gizmo_menu(getattr(choices, name)), text)
        if n != 1:
            raise SystemExit(f"error: {GIZMO.name} has {n} enumeration knobs named {knob!r}; expected 1")
    return text


def stale() -> list[Path]:
    """The files whose lists differ from core/singlehdr/choices.py."""
    out = [p for p in COPIES if not p.exists() or p.read_text(encoding="utf-8") != copy_text()]
    gizmo = GIZMO.read_text(encoding="utf-8")
    if gizmo_text(gizmo) != gizmo:
        out.append(GIZMO)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a copy is out of date")
    args = parser.parse_args(argv)
    todo = stale()
    if args.check:
        for p in todo:
            print(f"{p.relative_to(ROOT)} differs from core/singlehdr/choices.py; run python tools/sync_host_choices.py",
                  file=sys.stderr)
        return 1 if todo else 0
    for p in todo:
        new = gizmo_text(p.read_text(encoding="utf-8")) if p == GIZMO else copy_text()
        p.write_text(new, encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
