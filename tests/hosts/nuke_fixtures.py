"""Shared fixtures/helpers of the Nuke host tests (import them into a test module).

Nuke itself cannot run here: ``nuke`` is the recording fake of
tests/hosts/fake_nuke.py; everything else is real (the gizmo file parsed
from disk, the singlehdr CLI in a subprocess, EXRs read with OpenImageIO).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import numpy as np
import pytest

from fake_nuke import FakeNuke, make_fake_nuke

ROOT = Path(__file__).resolve().parents[2]
# SINGLEHDR_NUKE_GIZMO_DIR: run these tests against another copy of the gizmo
# (used once to show that the new tests fail on the previous gizmo code).
GIZMO_DIR = Path(os.environ.get("SINGLEHDR_NUKE_GIZMO_DIR") or ROOT / "nuke_gizmo")


def _forget_gizmo_modules() -> None:
    for name in list(sys.modules):
        if name == "singlehdr_nuke" or name.startswith("singlehdr_nuke."):
            del sys.modules[name]


@pytest.fixture
def nuke(monkeypatch) -> Iterator[FakeNuke]:
    """A fresh fake ``nuke`` in sys.modules; sys.path and gizmo modules restored after."""
    fake = make_fake_nuke()
    saved_path = list(sys.path)
    _forget_gizmo_modules()
    monkeypatch.setitem(sys.modules, "nuke", fake)
    for var in ("SINGLEHDR_PYTHON", "NUKE_TEMP_DIR"):  # set then delete: restored after, even if a test sets it
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    yield fake
    sys.path[:] = saved_path
    _forget_gizmo_modules()


def fresh_nuke(monkeypatch, gui: bool = False) -> FakeNuke:
    """A new Nuke process (e.g. ``nuke -x`` on a farm): a fresh fake in
    sys.modules, the gizmo's Python imported anew, start-up files run."""
    fake = make_fake_nuke()
    _forget_gizmo_modules()
    monkeypatch.setitem(sys.modules, "nuke", fake)
    fake.start_nuke(str(GIZMO_DIR), gui=gui)
    return fake


@pytest.fixture
def gizmo(nuke):
    """Nuke started with nuke_gizmo on its plugin path and a SingleHDR node
    created from the toolbar entry (the python knob set to this Python)."""
    nuke.start_nuke(str(GIZMO_DIR), gui=True)
    entry = next(e for e in nuke.menu_entries if e["path"] == "Nodes/SingleHDR/SingleHDR")
    nuke.run_script(f"_node = {entry['command']}", nuke.root(), None)
    node = nuke.root().nodes()[-1]
    node["python"].setValue(sys.executable)
    return node


@pytest.fixture
def popen_spy(monkeypatch) -> List[List[str]]:
    """Records the argv of every subprocess started (the real process still runs)."""
    calls: List[List[str]] = []
    real = subprocess.Popen

    def spy(args, *a, **kw):
        calls.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    return calls


def write_png(path: Path, srgb: np.ndarray, bits: int = 8) -> np.ndarray:
    """Write an sRGB [0, 1] (H, W, 3) image as an 8/16-bit PNG with OpenImageIO;
    returns the quantised values as float (what a reader gets back)."""
    import OpenImageIO as oiio

    fmt = oiio.UINT8 if bits == 8 else oiio.UINT16
    q = np.round(np.clip(srgb, 0, 1) * (2**bits - 1)) / (2**bits - 1)
    buf = oiio.ImageBuf(oiio.ImageSpec(srgb.shape[1], srgb.shape[0], 3, fmt))
    buf.set_pixels(oiio.ROI(), q.astype(np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    assert buf.write(str(path)), buf.geterror()
    return q.astype(np.float32)


def read_exr(path: Path) -> np.ndarray:
    """(H, W, C) float32 pixels of an EXR, read with OpenImageIO."""
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(str(path))
    assert not buf.has_error, buf.geterror()
    assert buf.spec().format == oiio.HALF  # singlehdr writes half EXRs by default
    return np.asarray(buf.get_pixels(oiio.FLOAT), dtype=np.float32)


def make_image(h: int, w: int, seed: int) -> np.ndarray:
    """A small sRGB test image: gradients plus a clipped highlight."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / (w - 1), y / (h - 1), 0.5 * (x + y) / (w + h - 2)], axis=2)
    img = 0.8 * img + 0.1 * rng.random((h, w, 3), dtype=np.float32)
    img[: h // 4, : w // 4] = 1.0
    return img.astype(np.float32)

