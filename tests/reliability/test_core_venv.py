"""A fresh, core-only environment runs every CLI command.

Builds a new virtual environment with ``install/demo.sh`` (core dependencies
only, no extras, no system site-packages: exactly what a new user gets; pip's
cache and a locally available torch wheel make it quick), which also runs the
demo, then runs every ``singlehdr`` command once on the bundled sample with
that environment's console script.  Outputs are read back here, by this
(independent) environment.

It takes a few minutes (pip installs).  Skip it only on purpose:
``SINGLEHDR_SKIP_COREVENV=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from singlehdr.io import read_hdr
from singlehdr.options import METHODS_CLASSICAL, METHODS_NETWORK

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.corevenv,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("SINGLEHDR_SKIP_COREVENV", "") not in ("", "0"),
                       reason="SINGLEHDR_SKIP_COREVENV is set"),
]


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("corevenv")
    venv, demo = base / "venv", base / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(SINGLEHDR_VENV=str(venv), PYTHON=env.get("PYTHON", sys.executable), OMP_NUM_THREADS="1")
    proc = subprocess.run(["bash", str(ROOT / "install" / "demo.sh"), str(demo)], env=env, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the demo's own outputs
    hdr, meta = read_hdr(demo / "sample.exr")
    assert hdr.max() > 1.0 and meta["attributes"]["singlehdr:method"] == "singlehdr"
    assert (demo / "sample_preview.png").stat().st_size > 0
    # nothing beyond the core dependencies is in it
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"], env=env,
                         capture_output=True, text=True, timeout=300).stdout.lower()
    for extra in ("pytest", "openimageio", "tensorflow", "bpy", "hypothesis", "pillow-heif", "imageio-ffmpeg", "rawpy"):
        assert f"\n{extra}==" not in "\n" + pip, f"{extra} is in the core-only venv"
    return venv, env, base


def _cli(core_venv, *argv, timeout=900):
    venv, env, _ = core_venv
    proc = subprocess.run([str(venv / "bin" / "singlehdr"), *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"singlehdr {' '.join(map(str, argv))}: {proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def _sample() -> Path:
    return ROOT / "core" / "singlehdr" / "data" / "sample.jpg"


def test_reconstruct_with_every_method(core_venv):
    """The network ran in the demo (its default method); here the three others."""
    _, _, base = core_venv
    src = _sample()
    w, h = Image.open(src).size
    assert METHODS_NETWORK == ("singlehdr",)
    for method in METHODS_CLASSICAL:
        out = base / f"r_{method}.exr"
        _cli(core_venv, "reconstruct", src, "-o", out, "--method", method)
        hdr, meta = read_hdr(out)
        assert hdr.shape == (h, w, 3) and np.isfinite(hdr).all() and hdr.min() >= 0
        assert meta["attributes"]["singlehdr:method"] == method
        if method != "inverse-srgb":
            assert hdr.max() > 1.0, method  # highlights expanded above the LDR white


def test_envmap_for_every_input_kind(core_venv):
    _, _, base = core_venv
    src = _sample()
    im = Image.open(src).convert("RGB")
    w, h = im.size
    pano = base / "pano.jpg"
    im.resize((256, 128)).save(pano)  # a 2:1 image: read as an equirect panorama
    # the network once (small pano), the scipy-using akyuz operator for the rest (fast on CI)
    cases = {
        "equirect": (pano, ["--method", "singlehdr"]),
        "auto": (src, ["--method", "akyuz"]),
        "photo": (src, ["--fov", "60", "--method", "akyuz"]),
        "ball": (src, ["--ball", f"{w // 2},{h // 2},{min(w, h) // 3}", "--method", "akyuz"]),
    }
    for kind, (inp, extra) in cases.items():
        out = base / f"env_{kind}.exr"
        _cli(core_venv, "envmap", inp, "-o", out, "--kind", kind, "--width", "128", *extra)
        env, meta = read_hdr(out)
        assert env.shape == (64, 128, 3) and np.isfinite(env).all()
        if kind != "auto":
            assert meta["attributes"]["singlehdr:envmap:kind"] == kind


def test_info_preview_help_and_export(core_venv):
    _, _, base = core_venv
    exr = base / "i.exr"
    _cli(core_venv, "reconstruct", _sample(), "-o", exr, "--method", "akyuz")
    text = _cli(core_venv, "info", exr)
    assert "OpenEXR" in text and "dynamic range" in text
    assert "JPEG" in _cli(core_venv, "info", _sample())
    png = base / "p.png"
    _cli(core_venv, "preview", exr, "-o", png, "--exposure", "auto")
    assert Image.open(png).size == Image.open(_sample()).size
    for cmd in ("evaluate", "import-tf", "train", "export-torchscript", "envmap", "reconstruct"):
        assert "usage: singlehdr " + cmd in _cli(core_venv, cmd, "--help")
    pt = base / "m.pt"
    _cli(core_venv, "export-torchscript", "-o", pt, "--size", "64x64")
    assert pt.stat().st_size > 1000
