"""Atomic, input-safe output files.

Every writer in :mod:`singlehdr.io` writes to a temporary file in the target
folder and renames it into place with :func:`os.replace` (atomic on POSIX and
Windows for same-volume paths), so a failed or interrupted run leaves neither
a half-written file nor a stray temp file.  Writers also refuse to replace an
input of the run (always) and an existing file (unless ``overwrite``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path

from ..errors import SingleHDRError

def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def check_output_path(path: str | PathLike[str], *, overwrite: bool = False, inputs: Iterable[str | PathLike[str]] = ()) -> Path:
    """Validate an output path; returns it as a Path.

    Raises SingleHDRError when ``path`` is one of ``inputs`` (even with
    ``overwrite``), when it exists and ``overwrite`` is False, or when it is
    a folder.
    """
    out = Path(path)
    for src in inputs:
        if _same_file(out, Path(src)):
            raise SingleHDRError(f"output {out} is also an input; choose a different output path")
    if out.is_dir():
        raise SingleHDRError(f"output {out} is a folder; give a file name (for example {out / 'out.exr'})")
    if out.exists() and not overwrite:
        raise SingleHDRError(f"output {out} already exists; pass --overwrite (overwrite=True) to replace it")
    return out


@contextlib.contextmanager
def atomic_output(
    path: str | PathLike[str], *, overwrite: bool = False, inputs: Iterable[str | PathLike[str]] = ()
) -> Iterator[Path]:
    """Context manager yielding a temp path next to ``path``; renamed on success.

    The temp file keeps the final suffix (some encoders pick the format from
    it).  On any exception the temp file is removed and nothing appears at
    ``path``.  Parent folders are created if missing.
    """
    out = check_output_path(path, overwrite=overwrite, inputs=inputs)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SingleHDRError(f"cannot create output folder {parent}: {exc.strerror or exc}") from None
    tmp = parent / f".{out.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{out.suffix}"
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"writer produced no file at {tmp}")
        # Re-check just before the rename (another process may have created it).
        check_output_path(out, overwrite=overwrite, inputs=inputs)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise SingleHDRError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise
