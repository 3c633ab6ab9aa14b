"""install/nuke.sh: installs the gizmo into a Nuke folder, idempotently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nuke_fixtures import GIZMO_DIR, ROOT, nuke  # noqa: F401 (fixture)

SCRIPT = ROOT / "install" / "nuke.sh"
MARK = "# singlehdr (install/nuke.sh)"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          env=env or dict(os.environ))


def test_link_install_is_idempotent_and_nuke_finds_the_node(nuke, tmp_path):
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    (nuke_dir / "init.py").write_text("print('my own set-up')\n")
    for _ in range(2):
        proc = run("--nuke-dir", str(nuke_dir), "--python", sys.executable)
        assert proc.returncode == 0, proc.stderr
    target = nuke_dir / "singlehdr"
    assert target.is_symlink() and target.resolve() == GIZMO_DIR
    lines = (nuke_dir / "init.py").read_text().splitlines()
    assert lines == [
        "print('my own set-up')",
        f"import nuke  {MARK}",
        f"import os  {MARK}",
        f'os.environ.setdefault("SINGLEHDR_PYTHON", "{sys.executable}")  {MARK}',
        f'nuke.pluginAddPath("{target}")  {MARK}',
    ]
    # Nuke starting from that folder: ~/.nuke/init.py -> the gizmo folder's init.py and menu.py
    nuke.start_nuke(str(nuke_dir))
    assert str(target) in nuke.plugin_paths and str(target / "icons") in nuke.plugin_paths
    assert os.environ["SINGLEHDR_PYTHON"] == sys.executable
    entry = next(e for e in nuke.menu_entries if e["path"] == "Nodes/SingleHDR/SingleHDR")
    nuke.run_script(entry["command"], nuke.root(), None)
    node = nuke.root().nodes()[-1]
    assert node.Class() == "SingleHDR" and node.node("SingleHDR_Read") is not None


def test_copy_install_and_refusals(tmp_path):
    nuke_dir = tmp_path / "plugins"
    proc = run("--nuke-dir", str(nuke_dir), "--copy", "--no-python")
    assert proc.returncode == 0, proc.stderr
    target = nuke_dir / "singlehdr"
    assert not target.is_symlink() and (target / "SingleHDR.gizmo").read_bytes() == (GIZMO_DIR / "SingleHDR.gizmo").read_bytes()
    assert (target / "singlehdr_nuke" / "callbacks.py").is_file() and not list(target.rglob("__pycache__"))
    assert run("--nuke-dir", str(nuke_dir), "--copy", "--no-python").returncode == 0  # re-install replaces its copy
    assert sum(MARK in ln for ln in (nuke_dir / "init.py").read_text().splitlines()) == 2  # import + pluginAddPath
    foreign = tmp_path / "other"
    (foreign / "singlehdr").mkdir(parents=True)
    proc = run("--nuke-dir", str(foreign))
    assert proc.returncode == 2 and "was not installed by this script" in proc.stderr
    proc = run("--nuke-dir", str(nuke_dir), "--python", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "not an executable" in proc.stderr


def test_print_changes_nothing_and_nuke_path_is_the_default(tmp_path):
    env = dict(os.environ, NUKE_PATH=f"{tmp_path / 'np1'}:{tmp_path / 'np2'}", HOME=str(tmp_path / "home"))
    proc = run("--print", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f'nuke.pluginAddPath("{tmp_path / "np1" / "singlehdr"}")  {MARK}' in proc.stdout.splitlines()
    assert not (tmp_path / "np1").exists() and not (tmp_path / "home").exists()
    env.pop("NUKE_PATH")
    proc = run("--print", env=env)
    assert f'nuke.pluginAddPath("{tmp_path / "home" / ".nuke" / "singlehdr"}")  {MARK}' in proc.stdout
    assert run("--bogus").returncode == 2
