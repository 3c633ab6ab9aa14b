"""Atomic, input-safe, race-free output files.

Every writer in :mod:`singlehdr.io` writes to a hidden temporary file in the
target folder (``.<stem>.tmp-<pid>-<8 hex><suffix>``) and then puts it in
place in one step:

- without ``overwrite`` by an exclusive hard link (``os.link`` fails if the
  name exists), so two runs writing the same output can never both succeed:
  the second gets a one-line error, never a silent replacement (on file
  systems without hard links an ``O_CREAT | O_EXCL`` reservation is used);
- with ``overwrite`` by :func:`os.replace` (atomic on POSIX and Windows).

A failed or interrupted run (exception, Ctrl-C, SIGTERM or SIGHUP once
:func:`install_signal_handlers` ran, as the CLI does) leaves neither a
half-written output nor its temporary.  A run killed outright (SIGKILL, power
loss) can leave a temporary behind: every later write into the same folder
removes our temporaries older than :data:`STALE_SECONDS` (1 hour; environment
variable ``SINGLEHDR_STALE_TEMP_SECONDS``), see :func:`sweep_stale_temporaries`
(each process sweeps a folder once, on its first write there).

:func:`output_set` groups several outputs (an envmap, its cube faces, preview
and report): they appear together or not at all.

Writers also refuse to replace an input of the run (always) and an existing
file (unless ``overwrite``).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import secrets
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from ..errors import SingleHDRError

#: Age after which a temporary of ours counts as left over by a killed run.
STALE_SECONDS = float(os.environ.get("SINGLEHDR_STALE_TEMP_SECONDS", "3600") or 3600)
TEMP_RE = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}(\.[A-Za-z0-9]{1,8})?$")

#: Temporaries of this process not yet renamed (removed on SIGTERM/SIGHUP/exit).
_LIVE: set[Path] = set()
#: Folders already swept by this process (a sequence of 1000 frames sweeps its folder once).
_SWEPT: set[str] = set()


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM / SIGHUP so cleanup runs as for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):  # noqa: ARG001
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only; a no-op elsewhere)."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread / not supported
            signal.signal(sig, _on_signal)


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
    a folder.  (The final placement is exclusive anyway: this early check only
    gives the error before any work is done.)
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


def sweep_stale_temporaries(folder: str | PathLike[str], max_age_s: float | None = None) -> list[Path]:
    """Remove our temporaries (``.NAME.tmp-PID-XXXXXXXX.ext``) older than ``max_age_s``
    (default :data:`STALE_SECONDS`) from ``folder``; returns what was removed.

    Only names of exactly that pattern are touched, never other files, and
    never a temporary this process is still writing.
    """
    limit = STALE_SECONDS if max_age_s is None else float(max_age_s)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not TEMP_RE.match(entry.name):
            continue
        p = Path(entry.path)
        if p in _LIVE:
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat(follow_symlinks=False).st_mtime < limit:
                continue
            p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK, errno.EACCES}


def _exists_error(out: Path) -> SingleHDRError:
    return SingleHDRError(f"output {out} already exists (another run wrote it meanwhile); pass --overwrite to replace it")


def _place(tmp: Path, out: Path, overwrite: bool) -> None:
    """Put ``tmp`` at ``out``: exclusive unless ``overwrite``.  ``tmp`` is gone afterwards."""
    if overwrite:
        os.replace(tmp, out)
        return
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise _exists_error(out) from None
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        # No hard links here (FAT, some network shares): reserve the name exclusively.
        try:
            fd = os.open(out, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            raise _exists_error(out) from None
        os.close(fd)
        os.replace(tmp, out)
        return
    with contextlib.suppress(OSError):
        tmp.unlink()


@dataclass
class _Pending:
    tmp: Path
    out: Path
    overwrite: bool


@dataclass
class _OutputSet:
    pending: list[_Pending] = field(default_factory=list)


_CURRENT_SET: contextvars.ContextVar[_OutputSet | None] = contextvars.ContextVar("singlehdr_output_set", default=None)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()
    _LIVE.discard(tmp)


@contextlib.contextmanager
def output_set() -> Iterator[None]:
    """Write several outputs as a set: all appear at the end of the block, or none.

    Writers inside the block leave their temporaries in place; when the block
    ends without error they are placed one after the other (exclusively unless
    the writer was asked to overwrite); if any fails, the ones already placed
    are removed again (a replaced file is put back) and every temporary is
    deleted.  Nested sets join the outermost one.
    """
    if _CURRENT_SET.get() is not None:
        yield
        return
    group = _OutputSet()
    token = _CURRENT_SET.set(group)
    try:
        yield
    except BaseException:
        for item in group.pending:
            _discard(item.tmp)
        raise
    finally:
        _CURRENT_SET.reset(token)
    placed: list[tuple[Path, Path | None]] = []  # (out, backup of what it replaced)
    try:
        for item in group.pending:
            backup = None
            if item.overwrite and item.out.exists():
                backup = item.out.with_name(f".{item.out.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{item.out.suffix}")
                _LIVE.add(backup)
                try:
                    os.link(item.out, backup)
                except OSError:
                    backup = None
            _place(item.tmp, item.out, item.overwrite)
            _LIVE.discard(item.tmp)
            placed.append((item.out, backup))
    except BaseException as exc:
        for out, backup in placed:
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, out)
                else:
                    out.unlink()
        for item in group.pending:
            _discard(item.tmp)
        if isinstance(exc, OSError):
            raise SingleHDRError(f"cannot write the set of outputs: {exc.strerror or exc}") from None
        raise
    finally:
        for _, backup in placed:
            if backup is not None:
                _discard(backup)


@contextlib.contextmanager
def atomic_output(
    path: str | PathLike[str], *, overwrite: bool = False, inputs: Iterable[str | PathLike[str]] = ()
) -> Iterator[Path]:
    """Context manager yielding a temp path next to ``path``; placed on success.

    The temp file keeps the final suffix (some encoders pick the format from
    it).  On any exception the temp file is removed and nothing appears at
    ``path``.  Parent folders are created if missing; stale temporaries of
    killed runs in that folder are swept first.  Inside :func:`output_set`
    the placement waits for the end of the set.
    """
    out = check_output_path(path, overwrite=overwrite, inputs=inputs)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SingleHDRError(f"cannot create output folder {parent}: {exc.strerror or exc}") from None
    key = os.path.normcase(os.path.abspath(parent))
    if key not in _SWEPT:
        _SWEPT.add(key)
        sweep_stale_temporaries(parent)
    tmp = parent / f".{out.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{out.suffix}"
    _LIVE.add(tmp)
    group = _CURRENT_SET.get()
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"writer produced no file at {tmp}")
        if group is not None:
            group.pending.append(_Pending(tmp, out, overwrite))
            return
        _place(tmp, out, overwrite)
        _LIVE.discard(tmp)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError):
            raise SingleHDRError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise


def cleanup_live_temporaries() -> None:
    """Remove this process's unfinished temporaries (called by the CLI on exit)."""
    for tmp in list(_LIVE):
        _discard(tmp)


__all__ = [
    "atomic_output",
    "check_output_path",
    "output_set",
    "sweep_stale_temporaries",
    "install_signal_handlers",
    "cleanup_live_temporaries",
    "Terminated",
    "STALE_SECONDS",
]
