"""One way down (issue 13): core/ imports only downward through its layers, and the hosts
use only the public API.

An import-linter "layers" contract, written as a test (no extra tool): every
``import``/``from ... import`` in core/singlehdr (module level or inside a
function: both are dependencies) is resolved to the singlehdr module it names
and the layer of importer and imported are compared.  A module may import its
own package, any package in a lower layer, and (in the bottom layer only) the
other bottom modules.  The layers, top to bottom, are documented in the
README's Layout section; :data:`LAYERS` is the same list.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "singlehdr"

#: Top to bottom.  Names are singlehdr's top-level modules/packages; "cli" is the
#: command-line layer: cli.py, commands.py and every package's commands module.
LAYERS: list[tuple[str, set[str]]] = [
    ("command line", {"cli"}),
    ("applications", {"train", "shot", "export"}),
    ("environment maps", {"envmap"}),
    ("brackets and RAW", {"merge"}),  # below envmap: make_envmap takes a merged capture
    ("public API", {"singlehdr"}),  # the package root: reconstruct, ReconstructOptions, ...
    ("api", {"api"}),
    ("options", {"options"}),
    ("engine", {"infer", "classical", "weights", "preview"}),
    ("networks", {"models"}),
    ("camera model", {"camera"}),
    ("file I/O", {"io"}),
    ("bottom", {"errors", "types", "version", "colour", "device", "geometry", "exposure", "choices", "data"}),
]
LAYER_OF = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}
CLI_MODULES = {"singlehdr.cli", "singlehdr.commands", "singlehdr.__main__", "singlehdr.shot.cli"}
CLI_LEAVES = {"commands", "eval_commands"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def unit(module: str) -> str:
    """The layer unit of a singlehdr module name."""
    parts = module.split(".")
    if module in CLI_MODULES or (len(parts) > 2 and parts[-1] in CLI_LEAVES):
        return "cli"
    return parts[1] if len(parts) > 1 else "singlehdr"


def _is_module(name: str) -> bool:
    p = CORE.parent.joinpath(*name.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """[(singlehdr module, line)] that ``path`` imports; ``from pkg import sub`` counts as ``pkg.sub``."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "singlehdr"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "singlehdr":
                continue
            subs = [f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")]
            out += [(s, node.lineno) for s in subs] or [(target, node.lineno)]
    return out


def layer_violations() -> list[str]:
    bad = []
    for f in sorted(CORE.rglob("*.py")):
        me = module_name(f)
        mine = unit(me)
        for target, line in imported_modules(f):
            theirs = unit(target)
            if theirs == mine:
                continue
            i, j = LAYER_OF[mine], LAYER_OF[theirs]
            if j > i or (i == j == len(LAYERS) - 1):
                continue
            how = "upward" if j < i else "sideways"
            bad.append(f"{f.relative_to(ROOT)}:{line} {me} ({LAYERS[i][0]}) imports {target} ({LAYERS[j][0]}): {how}")
    return bad


def test_every_core_module_is_in_a_layer():
    units = {unit(module_name(f)) for f in CORE.rglob("*.py")}
    missing = sorted(units - set(LAYER_OF))
    assert not missing, f"put these in a layer (LAYERS here and the README's Layout section): {missing}"


def test_core_imports_only_downward():
    bad = layer_violations()
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_the_bottom_layer_imports_nothing_above_it():
    """errors, types, version, colour, device, geometry, exposure: no import of any other singlehdr package."""
    bottom = LAYERS[-1][1]
    for f in sorted(CORE.rglob("*.py")):
        if unit(module_name(f)) in bottom:
            above = [t for t, _ in imported_modules(f) if unit(t) not in bottom]
            assert not above, f"{f.relative_to(ROOT)} imports {above}"


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The contract can fail: an io module importing the engine, and a sideways engine import, are reported."""
    fake = tmp_path / "singlehdr"
    for rel in ("io/__init__.py", "io/bad.py", "infer/__init__.py", "weights/__init__.py", "preview/__init__.py",
                "colour.py"):
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        (fake / rel).write_text("")
    (fake / "io" / "bad.py").write_text("from ..infer import engine\nfrom .. import colour\n")
    (fake / "preview" / "__init__.py").write_text("def f():\n    from ..weights import load_model\n")
    monkeypatch.setattr(sys.modules[__name__], "CORE", fake)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = layer_violations()
    assert len(bad) == 2
    assert "singlehdr.io.bad (file I/O) imports singlehdr.infer (engine): upward" in bad[0]
    assert "singlehdr.preview (engine) imports singlehdr.weights (engine): sideways" in bad[1]


# ------------------------------------------------------------------ hosts
HOSTS = [ROOT / "blender_addon", ROOT / "nuke_gizmo"]


def _public_names() -> dict[str, set[str]]:
    import singlehdr
    import singlehdr.envmap
    import singlehdr.errors
    import singlehdr.types

    return {
        "singlehdr": set(singlehdr.__all__),
        "singlehdr.errors": {"SingleHDRError"},
        "singlehdr.types": {"LDRImage", "HDRResult"},
        "singlehdr.envmap": set(singlehdr.envmap.__all__),
    }


def host_uses() -> list[tuple[str, str, str | None]]:
    """[(file:line, singlehdr module, name or None)] every host file's imports of singlehdr and
    the attributes it reads from an imported ``singlehdr`` module; ``-m MODULE`` strings too."""
    uses = []
    for folder in HOSTS:
        for f in sorted(folder.rglob("*.py")):
            tree = ast.parse(f.read_text(encoding="utf-8"))
            where = lambda n: f"{f.relative_to(ROOT)}:{n.lineno}"  # noqa: E731
            aliases: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        if a.name.split(".")[0] == "singlehdr":
                            uses.append((where(node), a.name, None))
                            aliases[a.asname or a.name] = a.name
                elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "singlehdr":
                    uses += [(where(node), node.module, a.name) for a in node.names]
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("singlehdr."):
                    if node.value.split(".")[1] in {p.stem for p in CORE.iterdir()}:  # a module path, not an operator id
                        uses.append((where(node), node.value, "-m"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                    uses.append((where(node), aliases[node.value.id], node.attr))
    return uses


def test_hosts_use_only_the_public_api():
    """blender_addon/ and nuke_gizmo/ import only public names (singlehdr.__all__, SingleHDRError,
    LDRImage/HDRResult, singlehdr.envmap.__all__) or run the CLI (``python -m singlehdr.cli``)."""
    public = _public_names()
    uses = host_uses()
    assert any(m == "singlehdr.cli" for _, m, n in uses if n == "-m"), "the hosts no longer run the CLI?"
    bad = []
    for where, module, name in uses:
        if name == "-m":
            ok = module == "singlehdr.cli"
        elif name is None:
            ok = module in public
        else:
            ok = name in public.get(module, set())
        if not ok:
            bad.append(f"{where}: {module}{'' if name is None else ' ' + name}")
    assert not bad, "hosts must use the public API only:\n" + "\n".join(bad)


@pytest.mark.parametrize("src, ok", [("from singlehdr import reconstruct", True),
                                     ("from singlehdr.infer.engine import Reconstructor", False),
                                     ("import singlehdr\nsinglehdr.api.load_input", False)])
def test_the_host_check_can_fail(tmp_path, monkeypatch, src, ok):
    (tmp_path / "h.py").write_text(src + "\n")
    monkeypatch.setattr(sys.modules[__name__], "HOSTS", [tmp_path])
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    public = _public_names()
    res = [(n is None and m in public) or n in public.get(m, set()) for _, m, n in host_uses()]
    assert all(res) is ok
