"""Every third-party import in core/ is a declared dependency (parsed from the
source and from pyproject.toml), and every declared core dependency is used."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "singlehdr"

# import name -> distribution name (PyPI)
DISTRIBUTION = {
    "OpenEXR": "openexr", "PIL": "pillow", "PyOpenColorIO": "opencolorio", "cv2": "opencv-python-headless",
    "OpenImageIO": "openimageio", "safetensors": "safetensors", "scipy": "scipy", "torch": "torch",
    "numpy": "numpy", "rich": "rich", "pillow_heif": "pillow-heif", "tensorflow": "tensorflow-cpu",
    "imageio": "imageio", "imageio_ffmpeg": "imageio-ffmpeg", "rawpy": "rawpy",
}
# Imported only inside a try/except ImportError with a working fallback, or by the
# evaluation metric that install/test.sh installs without dependencies (README).
UNDECLARED_OK = {
    "psutil": "optional: infer/device.py falls back to /proc/meminfo",
    "pycvvdp": "ColorVideoVDP for `evaluate` JOD, installed with --no-deps (see README, install/test.sh)",
    "huggingface_hub": "shimmed by train/metrics.load_pycvvdp; never needed",
}


def _pyproject() -> tuple[set[str], dict[str, set[str]]]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    norm = lambda spec: re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].strip().lower()  # noqa: E731
    core = {norm(s) for s in data["project"]["dependencies"]}
    extras = {k: {norm(s) for s in v} for k, v in data["project"].get("optional-dependencies", {}).items()}
    return core, extras


def _imports() -> dict[str, list[tuple[str, bool]]]:
    """module -> [(file, at module level?)] for every absolute import in core/."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for f in sorted(CORE.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                root = n.split(".")[0]
                if root in sys.stdlib_module_names or root == "singlehdr":
                    continue
                out.setdefault(root, []).append((str(f.relative_to(ROOT)), id(node) in top))
    return out


def test_every_core_import_is_declared():
    core, extras = _pyproject()
    all_extras = set().union(*extras.values())
    problems = []
    for mod, where in _imports().items():
        if mod in UNDECLARED_OK:
            continue
        dist = DISTRIBUTION.get(mod)
        if dist is None:
            problems.append(f"{mod} (in {where[0][0]}): unknown import, add it to DISTRIBUTION and pyproject")
        elif dist in core:
            continue
        elif dist in all_extras:
            top = [f for f, at_top in where if at_top]
            if top:  # an extra's module imported at load time breaks the core-only install
                problems.append(f"{mod} is only in an extra but imported at module level in {top}")
        else:
            problems.append(f"{mod} ({dist}) imported in {where[0][0]} but declared nowhere in pyproject.toml")
    assert not problems, problems


def test_scipy_is_a_core_dependency_because_core_imports_it():
    core, _ = _pyproject()
    users = {f for f, _ in _imports().get("scipy", [])}
    assert users, "scipy no longer imported: drop it from the dependencies"
    assert "scipy" in core


def test_every_core_dependency_is_imported():
    core, _ = _pyproject()
    used = {DISTRIBUTION.get(m) for m in _imports()}
    unused = sorted(d for d in core if d not in used)
    assert not unused, f"declared but never imported by core/: {unused}"
    # imageio is the movie front door (singlehdr.shot.source); its ffmpeg plugin is the optional `movie` extra
    assert "imageio" in core and "imageio-ffmpeg" not in core
