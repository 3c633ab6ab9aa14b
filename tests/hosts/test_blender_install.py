"""install/blender.sh and the extension manifest, checked with Blender's own tools.

Blender's extension validator/builder (``blender --command extension ...``)
is bl_pkg/cli/blender_ext.py inside the bpy 5.0.1 package; the tests run it
directly.  The "blender" used for the full installer flow is a tiny launcher
over that same code and the bpy module (no Blender binary in CI).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.bpy

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "blender_addon"
SCRIPT = ROOT / "install" / "blender.sh"


@pytest.fixture(scope="module")
def blender_ext(bpy_module) -> Path:
    path = Path(bpy_module.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    assert path.is_file()
    return path


def run_script(*args, env=None, timeout=120):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout)


def clean_env(**extra) -> dict[str, str]:
    env = dict(os.environ, PYTHON=sys.executable, BLENDER="")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not (Path(p) / "blender").exists())
    env.update(extra)
    return env


def test_manifest_fields_and_blender_validator(blender_ext):
    manifest = tomllib.loads((ADDON / "blender_manifest.toml").read_text())
    assert manifest["schema_version"] == "1.0.0"
    assert (manifest["id"], manifest["type"], manifest["blender_version_min"]) == ("singlehdr", "add-on", "5.0.0")
    assert "files" in manifest["permissions"]
    assert "website" not in manifest  # the project has no public web address to name
    proc = subprocess.run([sys.executable, str(blender_ext), "validate", str(ADDON)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def test_pure_python_build_matches_blender_build(addon_zip, blender_ext, tmp_path):
    """install/blender.sh without a blender builds the same file list as Blender's builder."""
    ours = zipfile.ZipFile(addon_zip)
    names = sorted(ours.namelist())
    assert "blender_manifest.toml" in names and "__init__.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert addon_zip.name == "singlehdr-0.1.0.zip"
    theirs_path = tmp_path / "blender_built.zip"
    proc = subprocess.run(
        [sys.executable, str(blender_ext), "build", "--source-dir", str(ADDON), "--output-filepath", str(theirs_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(zipfile.ZipFile(theirs_path).namelist()) == names
    for name in names:
        assert ours.read(name) == (ADDON / name).read_bytes()
    proc = subprocess.run([sys.executable, str(blender_ext), "validate", str(addon_zip)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_build_only_prints_instructions_and_bad_arguments_fail(tmp_path):
    proc = run_script("--out", str(tmp_path), env=clean_env())
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "singlehdr-0.1.0.zip").is_file()
    assert "Install from Disk" in proc.stdout and "pip install" in proc.stdout
    proc = run_script("--frobnicate", env=clean_env())
    assert proc.returncode == 2 and "unknown argument" in proc.stderr
    proc = run_script("--blender", str(tmp_path / "no-blender"), env=clean_env())
    assert proc.returncode == 2 and "not an executable Blender" in proc.stderr


def fake_blender_launcher(tmp_path: Path, blender_ext: Path) -> Path:
    """A 'blender' executable over the bpy module: --command extension -> blender_ext.py, --python-expr -> bpy."""
    launcher = tmp_path / "blender"
    launcher.write_text(
        f"""#!{sys.executable}
import runpy, sys
args = [a for a in sys.argv[1:] if a != "--factory-startup"]
if args[:2] == ["--command", "extension"]:
    sys.argv = [{str(blender_ext)!r}] + args[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
elif args[:2] == ["--background", "--python-expr"]:
    import bpy
    exec(args[2])
else:
    sys.exit("unsupported: " + " ".join(args))
"""
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


def test_installer_flow_with_blender(tmp_path, blender_ext):
    """With a blender: Blender builds the zip, and pip targets Blender's user modules folder with its numpy."""
    import numpy

    launcher = fake_blender_launcher(tmp_path, blender_ext)
    user = tmp_path / "user"
    proc = run_script(
        "--blender", str(launcher), "--out", str(tmp_path / "dist"), "--dry-run",
        env=clean_env(BLENDER_USER_RESOURCES=str(user)), timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    zip_path = tmp_path / "dist" / "singlehdr-0.1.0.zip"
    assert f"extension built: {zip_path}" in lines  # by Blender's builder, through the launcher
    assert "blender_manifest.toml" in zipfile.ZipFile(zip_path).namelist()
    assert any("--command extension install-file -r user_default -e" in l for l in lines)
    modules = user / "scripts" / "modules"
    pip = next(l for l in lines if " -m pip install " in l)
    assert f"--target {modules}" in pip
    assert f"numpy=={numpy.__version__}" in pip and str(ROOT) in pip
    assert modules.is_dir()  # asked Blender for it (create=True)


def test_installer_checks_blenders_python_and_installs_the_declared_dependencies(tmp_path, blender_ext):
    """--dry-run with a blender: the check line names Blender's Python and singlehdr's requires-python;
    pip installs the repository (its declared dependencies), the only extra being Blender's numpy pin."""
    import shlex

    launcher = fake_blender_launcher(tmp_path, blender_ext)
    proc = run_script("--blender", str(launcher), "--out", str(tmp_path / "dist"), "--dry-run",
                      env=clean_env(BLENDER_USER_RESOURCES=str(tmp_path / "user")), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.startswith(">=")
    check = next(l for l in proc.stdout.splitlines() if l.startswith("Blender's Python: "))
    assert f"{sys.version_info[0]}.{sys.version_info[1]} >= {requires[2:]}" in check
    pip = shlex.split(next(l for l in proc.stdout.splitlines() if " -m pip install " in l)[2:])
    packages = [a for a in pip[pip.index("install") + 1:] if not a.startswith("-") and a != pip[pip.index("--target") + 1]]
    assert packages[0] == str(ROOT) and len(packages) == 2 and packages[1].startswith("numpy==")
    assert "(dry run: nothing installed)" in proc.stdout


def test_python_option_configures_the_addon_instead_of_blenders_python(tmp_path, blender_ext):
    launcher = fake_blender_launcher(tmp_path, blender_ext)
    proc = run_script("--blender", str(launcher), "--out", str(tmp_path / "dist"), "--python", sys.executable, "--dry-run",
                      env=clean_env(BLENDER_USER_RESOURCES=str(tmp_path / "user")), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    setter = next(l for l in proc.stdout.splitlines() if "--python-expr" in l and "python_path" in l)
    assert f"python_path = \\'{sys.executable}\\'" in setter and "save_userpref" in setter
    assert f"changed: the add-on preference Python = {sys.executable}" in proc.stdout
    assert " -m pip install " not in proc.stdout  # Blender's Python is left alone
    proc = run_script("--python", str(tmp_path / "nope"), env=clean_env())
    assert proc.returncode == 2 and "not an executable Python" in proc.stderr


def test_uninstall_removes_exactly_what_was_recorded(tmp_path, blender_ext):
    """--uninstall asks Blender to remove the extension and deletes only the recorded entries of the modules folder."""
    launcher = fake_blender_launcher(tmp_path, blender_ext)
    log = tmp_path / "calls.txt"
    text = launcher.read_text().replace(
        'if args[:2] == ["--command", "extension"]:',
        f'if args[:3] == ["--command", "extension", "remove"]:\n    open({str(log)!r}, "a").write(" ".join(args) + "\\n")\n'
        'elif args[:2] == ["--command", "extension"]:',
    )
    launcher.write_text(text)
    user = tmp_path / "user"
    modules = user / "scripts" / "modules"
    for name in ("singlehdr", "torch", "mine_not_singlehdrs"):
        (modules / name).mkdir(parents=True)
        (modules / name / "__init__.py").write_text("")
    (modules / "torch-2.13.0.dist-info").mkdir()
    (modules / ".singlehdr-installed.txt").write_text("singlehdr\ntorch\ntorch-2.13.0.dist-info\n../escape\n")
    proc = run_script("--blender", str(launcher), "--uninstall", env=clean_env(BLENDER_USER_RESOURCES=str(user)), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert log.read_text().split() == ["--command", "extension", "remove", "user_default.singlehdr"]
    assert sorted(p.name for p in modules.iterdir()) == ["mine_not_singlehdrs"]
    assert "removed the extension and 3 entries" in proc.stdout
