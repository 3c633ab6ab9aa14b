"""Fixtures for the Blender host tests (real bpy 5.0.1, headless).

The add-on is tested as artists get it: install/blender.sh builds the
extension zip, Blender's own extension installer installs and enables it into
a throw-away extension repository, and every test starts from an empty
factory scene.  bpy is imported only inside these fixtures.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPO_MODULE = "singlehdr_test"
ADDON_MODULE = f"bl_ext.{REPO_MODULE}.singlehdr"


@pytest.fixture(scope="session")
def bpy_module(tmp_path_factory):
    """bpy, imported with BLENDER_USER_RESOURCES in a temp dir (unless already imported)."""
    if "bpy" not in sys.modules:
        os.environ["BLENDER_USER_RESOURCES"] = str(tmp_path_factory.mktemp("blender_user"))
    bpy = pytest.importorskip("bpy")
    return bpy


@pytest.fixture(scope="session")
def addon_zip(tmp_path_factory) -> Path:
    """The extension zip built by install/blender.sh without a blender binary."""
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, PYTHON=sys.executable, BLENDER="")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not shutil.which("blender", path=p))
    proc = subprocess.run(
        ["bash", str(ROOT / "install" / "blender.sh"), "--build-only", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    zips = list(out.glob("singlehdr-*.zip"))
    assert len(zips) == 1, proc.stdout
    return zips[0]


@pytest.fixture(scope="session")
def addon(bpy_module, addon_zip, tmp_path_factory):
    """The add-on module, installed from the zip by Blender's extension installer and enabled."""
    bpy = bpy_module
    repos = bpy.context.preferences.extensions.repos
    repo = repos.get(REPO_MODULE) if hasattr(repos, "get") else None
    if repo is None:
        repo = repos.new(
            name=REPO_MODULE, module=REPO_MODULE, custom_directory=str(tmp_path_factory.mktemp("ext_repo")), source="USER"
        )
    result = bpy.ops.extensions.package_install_files(
        filepath=str(addon_zip), repo=REPO_MODULE, enable_on_install=True, overwrite=True
    )
    assert result == {"FINISHED"}
    yield importlib.import_module(ADDON_MODULE)
    import addon_utils

    addon_utils.disable(ADDON_MODULE, default_set=True)


@pytest.fixture
def blender(addon, bpy_module):
    """bpy with an empty factory scene and the add-on enabled."""
    bpy = bpy_module
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    if bpy.context.preferences.addons.get(ADDON_MODULE) is None:
        import addon_utils

        addon_utils.enable(ADDON_MODULE, default_set=True)
    return bpy
