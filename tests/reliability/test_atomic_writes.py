"""Every file core/ writes goes through singlehdr.io.atomic (issue 13, "one way down").

The source of every module in core/singlehdr is parsed (ast) and every call that
writes a file is listed: ``open``/``Path.open``/``os.open`` with a write mode or
write flags, ``Path.write_text``/``write_bytes``, ``ndarray.tofile``,
``np.save*``/``torch.save``/``torch.jit.save``/``Image.save`` (any ``.save``),
safetensors ``save_file``, ``os.replace``/``rename``/``link``, ``shutil``
copies and moves, ``cv2.imwrite``, and ``SomeFile(...).write(path)``.  Such a
call is fine inside ``with atomic_output(...) as tmp:`` (the temporary that
io.atomic places, or removes, afterwards) and in io/atomic.py itself; anything
else must be in :data:`ALLOWED` with a one-line reason.  Allowed entries that
no longer match anything fail too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "singlehdr"
ATOMIC = "io/atomic.py"

#: (file relative to core/singlehdr, enclosing function, what is called) -> reason.
ALLOWED = {
    ("train/trainer.py", "RunLog.__init__", "open"):
        "log.csv is an append-only training log (one row per logged step); rewriting it atomically per row makes no sense",
    ("camera/forward.py", "jpeg", ".save"):
        "encodes a JPEG into an in-memory io.BytesIO (camera simulation), no file",
    ("export/export.py", "_save_bytes", ".save"):
        "torch.jit.save into an in-memory io.BytesIO; export_torchscript writes the bytes through atomic_output",
}

_SAVE_ATTRS = {"save", "savez", "savez_compressed", "save_file", "write_text", "write_bytes", "tofile", "imwrite"}
_OS_ATTRS = {"replace", "rename", "renames", "link", "symlink"}
_SHUTIL_ATTRS = {"copy", "copy2", "copyfile", "copyfileobj", "copytree", "move"}
_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}


def _const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _mode(call: ast.Call, pos: int) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == "mode":
            return kw.value
    return call.args[pos] if len(call.args) > pos else None


def _opens_for_writing(call: ast.Call, pos: int) -> bool:
    mode = _mode(call, pos)
    if mode is None:
        return False
    text = _const_str(mode)
    if text is None:  # a computed mode ("w" if new else "a"): look at the strings it is built from
        text = "".join(s for n in ast.walk(mode) if (s := _const_str(n)))
    return any(c in text for c in "wax+")


def write_kind(call: ast.Call) -> str | None:
    """What file-writing call ``call`` is ("open", ".save", "os.replace", ...), or None."""
    f = call.func
    if isinstance(f, ast.Name):
        if f.id == "open" and _opens_for_writing(call, 1):
            return "open"
        if f.id in ("save_file", "imwrite"):
            return f.id
        return None
    if not isinstance(f, ast.Attribute):
        return None
    owner = f.value.id if isinstance(f.value, ast.Name) else None
    if f.attr == "open":
        if owner == "os":
            flags = {n.attr for n in ast.walk(call) if isinstance(n, ast.Attribute)} | {
                n.id for n in ast.walk(call) if isinstance(n, ast.Name)}
            return "os.open" if flags & _WRITE_FLAGS else None
        return "open" if _opens_for_writing(call, 1 if owner in ("io", "gzip", "bz2", "lzma") else 0) else None
    if f.attr in _SAVE_ATTRS:
        return "." + f.attr
    if owner == "os" and f.attr in _OS_ATTRS:
        return "os." + f.attr
    if owner == "shutil" and f.attr in _SHUTIL_ATTRS:
        return "shutil." + f.attr
    if f.attr == "write" and isinstance(f.value, ast.Call) and call.args:  # OpenEXR.File(...).write(path)
        return ".write"
    return None


def _is_atomic_with(node: ast.AST) -> bool:
    if not isinstance(node, (ast.With, ast.AsyncWith)):
        return False
    for item in node.items:
        c = item.context_expr
        if isinstance(c, ast.Call):
            name = c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
            if name == "atomic_output":
                return True
    return False


def find_writes(tree: ast.AST) -> list[tuple[str, str, int]]:
    """[(enclosing function qualname, kind, line)] of the writes not inside ``with atomic_output(...)``."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, scope: list[str], atomic: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = scope + [node.name]
        if _is_atomic_with(node):
            atomic = True
        if isinstance(node, ast.Call) and not atomic:
            kind = write_kind(node)
            if kind:
                found.append((".".join(scope) or "<module>", kind, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, scope, atomic)

    visit(tree, [], False)
    return found


def _core_writes() -> list[tuple[str, str, str, int]]:
    out = []
    for f in sorted(CORE.rglob("*.py")):
        rel = f.relative_to(CORE).as_posix()
        if rel == ATOMIC:
            continue
        for func, kind, line in find_writes(ast.parse(f.read_text(encoding="utf-8"))):
            out.append((rel, func, kind, line))
    return out


def test_every_file_write_in_core_goes_through_io_atomic():
    bad = [f"core/singlehdr/{rel}:{line} {func}: {kind}" for rel, func, kind, line in _core_writes()
           if (rel, func, kind) not in ALLOWED]
    assert not bad, "write through singlehdr.io.atomic.atomic_output (or allow with a reason):\n" + "\n".join(bad)


def test_every_allowed_write_still_exists():
    seen = {(rel, func, kind) for rel, func, kind, _ in _core_writes()}
    stale = [k for k in ALLOWED if k not in seen]
    assert not stale, f"allowed writes that are gone (remove them from ALLOWED): {stale}"


def test_the_scanner_sees_each_kind_of_write():
    """The detector itself: each way of writing is found outside atomic_output, none inside it."""
    src = '''
import os, shutil, numpy as np, torch
from safetensors.torch import save_file
def writes(p, a, t, im):
    open(p, "w"); open(p, "ab" if a else "wb"); p.open("w"); os.open(p, os.O_WRONLY | os.O_CREAT)
    p.write_text("x"); p.write_bytes(b"x"); a.tofile(p); np.save(p, a); torch.save(t, p)
    torch.jit.save(t, p); im.save(p); save_file(t, p); os.replace(p, p); os.rename(p, p)
    shutil.copy(p, p); OpenEXR.File(h, c).write(p)
def reads(p):
    open(p); open(p, "rb"); p.open(); os.open(p, os.O_RDONLY); "a".replace("a", "b"); fh.write("x")
def atomic(p, t):
    with atomic_output(p) as tmp:
        save_file(t, tmp); open(tmp, "wb"); tmp.write_text("x")
'''
    writes = find_writes(ast.parse(src))
    assert {f for f, _, _ in writes} == {"writes"}
    assert [k for _, k, _ in writes] == [
        "open", "open", "open", "os.open", ".write_text", ".write_bytes", ".tofile", ".save", ".save", ".save",
        ".save", "save_file", "os.replace", "os.rename", "shutil.copy", ".write"]
